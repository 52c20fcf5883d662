package io.github.replicalock.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class QueueChangeTest {
    private static final LockTarget TARGET = LockTarget.of("ci", "builder");
    private static final Instant T0 = Instant.parse("2026-12-03T09:00:00Z");
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final String ORDER = LockQueue.ANNOTATION;

    /** The queue of {@code waiters} as a backend reads it once every one of them has renewed. */
    private static LockQueue stored(Map<String, String> annotations, String... waiters) {
        LockQueue queue = LockQueue.empty();
        for (int i = 0; i < waiters.length; i++) {
            queue = queue.enqueue(QueueEntry.joining(waiters[i], T0.plusSeconds(i), LEASE));
        }
        for (String waiter : waiters) {
            queue = queue.renew(waiter, T0.plusSeconds(30));
        }
        apply(annotations, QueueChange.between(LockQueue.empty(), queue));
        return LockQueue.parse(TARGET, annotations);
    }

    private static void apply(Map<String, String> annotations, QueueChange change) {
        assertThat(change.testsHoldOn(annotations))
                .as("%s on %s", change, annotations)
                .isTrue();
        change.writes().forEach((key, value) -> {
            if (value == null) {
                annotations.remove(key);
            } else {
                annotations.put(key, value);
            }
        });
        assertThat(change.isAppliedIn(annotations)).isTrue();
    }

    private static String renewalOf(String waiter) {
        return LockQueue.renewalAnnotation(waiter);
    }

    @Test
    void aRenewalTestsAndWritesOnlyTheWaitersOwnAnnotation() {
        Map<String, String> annotations = new HashMap<>();
        LockQueue read = stored(annotations, "a", "b", "c");

        QueueChange renewal = QueueChange.between(read, read.renew("b", T0.plusSeconds(31)));

        assertThat(renewal.tests()).containsExactly(Map.entry(renewalOf("b"), "2026-12-03T09:00:30Z 2 b"));
        assertThat(renewal.writes()).containsExactly(Map.entry(renewalOf("b"), "2026-12-03T09:00:31Z 2 b"));
    }

    @Test
    void renewalsOfDifferentWaitersNeverConflictButAChangeOfOrderSeesEveryRenewalItRemoves() {
        Map<String, String> annotations = new HashMap<>();
        LockQueue read = stored(annotations, "a", "b", "c");
        QueueChange renewA = QueueChange.between(read, read.renew("a", T0.plusSeconds(31)));
        QueueChange renewC = QueueChange.between(read, read.renew("c", T0.plusSeconds(31)));
        QueueChange pruneA = QueueChange.between(read, read.without("a"));
        QueueChange enqueueD =
                QueueChange.between(read, read.enqueue(QueueEntry.joining("d", T0.plusSeconds(40), LEASE)));

        apply(annotations, renewA);

        assertThat(renewC.testsHoldOn(annotations))
                .as("another waiter's renewal")
                .isTrue();
        assertThat(pruneA.testsHoldOn(annotations))
                .as("removing a, judged dead on the read before its renewal")
                .isFalse();
        assertThat(enqueueD.testsHoldOn(annotations))
                .as("an enqueue after a renewal")
                .isTrue();
        apply(annotations, renewC);
        apply(annotations, enqueueD);
        assertThat(LockQueue.parse(TARGET, annotations).entries())
                .extracting(QueueEntry::waiter, QueueEntry::renewed)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("a", T0.plusSeconds(31)),
                        org.assertj.core.groups.Tuple.tuple("b", T0.plusSeconds(30)),
                        org.assertj.core.groups.Tuple.tuple("c", T0.plusSeconds(31)),
                        org.assertj.core.groups.Tuple.tuple("d", T0.plusSeconds(40)));
    }

    @Test
    void anEnqueueTestsTheOrderAndWritesTheNewEntrysLineAndRenewal() {
        Map<String, String> annotations = new HashMap<>();
        LockQueue read = stored(annotations, "a");

        QueueChange enqueue =
                QueueChange.between(read, read.enqueue(QueueEntry.joining("b", T0.plusSeconds(9), LEASE)));

        assertThat(enqueue.tests()).containsExactly(Map.entry(ORDER, "2026-12-03T09:00:00Z a"));
        assertThat(enqueue.writes())
                .containsExactly(
                        Map.entry(ORDER, "2026-12-03T09:00:00Z a\n2026-12-03T09:00:09Z b"),
                        Map.entry(renewalOf("b"), "2026-12-03T09:00:09Z 2 b"));
    }

    @Test
    void theFirstEnqueueOnADeploymentTestsThatTheOrderIsAbsent() {
        LockQueue read = LockQueue.parse(TARGET, Map.of("unrelated", "x"));

        QueueChange enqueue = QueueChange.between(read, read.enqueue(QueueEntry.joining("a", T0, LEASE)));

        Map<String, @Nullable String> absent = new HashMap<>();
        absent.put(ORDER, null);
        assertThat(enqueue.tests()).isEqualTo(absent);
        assertThat(enqueue.testsHoldOn(Map.of("unrelated", "x"))).isTrue();
        assertThat(enqueue.testsHoldOn(Map.of(ORDER, ""))).isFalse();
    }

    @Test
    void leavingRemovesTheLineAndTheRenewalOfEveryEntryThatGoes() {
        Map<String, String> annotations = new HashMap<>();
        LockQueue read = stored(annotations, "a", "b", "c");

        QueueChange leave = QueueChange.between(read, read.withoutAll(List.of("a", "b")));

        assertThat(leave.tests())
                .containsEntry(ORDER, read.storedText())
                .containsEntry(renewalOf("a"), "2026-12-03T09:00:30Z 2 a")
                .containsEntry(renewalOf("b"), "2026-12-03T09:00:30Z 2 b")
                .hasSize(3);
        apply(annotations, leave);
        assertThat(annotations).containsOnlyKeys(ORDER, renewalOf("c"));
        assertThat(annotations.get(ORDER)).isEqualTo("2026-12-03T09:00:02Z c");
    }

    @Test
    void aLineNeverRenewedIsTestedAbsentByItsFirstRenewalAndByWhoeverRemovesIt() {
        // Hand-written lines: no renewal annotations yet.
        Map<String, String> annotations =
                new HashMap<>(Map.of(ORDER, "2026-12-03T09:00:00Z d\n2026-12-03T09:00:01Z h"));
        LockQueue read = LockQueue.parse(TARGET, annotations);
        QueueChange firstRenewal = QueueChange.between(read, read.renew("d", T0.plusSeconds(5)));
        QueueChange pruneD = QueueChange.between(read, read.without("d"));

        Map<String, @Nullable String> absent = new HashMap<>();
        absent.put(renewalOf("d"), null);
        assertThat(firstRenewal.tests()).isEqualTo(absent);
        assertThat(firstRenewal.writes()).containsExactly(Map.entry(renewalOf("d"), "2026-12-03T09:00:05Z 2 d"));
        apply(annotations, firstRenewal);

        assertThat(pruneD.testsHoldOn(annotations))
                .as("h removing d, judged dead on a read before d's first renewal")
                .isFalse();
        assertThat(LockQueue.parse(TARGET, annotations).entries())
                .extracting(QueueEntry::waiter)
                .containsExactly("d", "h");
    }

    @Test
    void entriesThatDoNotChangeAreNeitherTestedNorWritten() {
        SplittableRandom random = new SplittableRandom(7);
        for (int run = 0; run < 200; run++) {
            Map<String, String> annotations = new HashMap<>();
            String[] waiters = new String[1 + random.nextInt(8)];
            for (int i = 0; i < waiters.length; i++) {
                waiters[i] = "w" + i;
            }
            LockQueue read = stored(annotations, waiters);
            String renewing = waiters[random.nextInt(waiters.length)];
            String leaving = waiters[random.nextInt(waiters.length)];
            LockQueue desired = read.renew(renewing, T0.plusSeconds(60)).without(leaving);

            QueueChange change = QueueChange.between(read, desired);

            for (String waiter : waiters) {
                boolean touched = waiter.equals(renewing) || waiter.equals(leaving);
                assertThat(change.writes().containsKey(renewalOf(waiter)))
                        .as("%s in %s", waiter, change)
                        .isEqualTo(touched);
            }
            if (!renewing.equals(leaving)) {
                apply(annotations, change);
                assertThat(LockQueue.parse(TARGET, annotations)).isEqualTo(desired);
            }
        }
    }

    @Test
    void nothingToWriteWhenTheQueueIsUnchanged() {
        Map<String, String> annotations = new HashMap<>();
        LockQueue read = stored(annotations, "a", "b");

        assertThat(QueueChange.between(read, read).isEmpty()).isTrue();
        assertThat(QueueChange.between(read, read.without("zz")).tests()).isEmpty();
    }
}
