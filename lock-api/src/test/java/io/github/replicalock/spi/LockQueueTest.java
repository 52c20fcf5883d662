package io.github.replicalock.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LockQueueTest {
    private static final LockTarget TARGET = LockTarget.of("ci", "builder");
    private static final Instant T0 = Instant.parse("2026-12-03T09:00:00.125Z");
    private static final Duration LEASE = Duration.ofSeconds(2);

    private static LockQueue queueOf(String... waiters) {
        LockQueue queue = LockQueue.empty();
        for (int i = 0; i < waiters.length; i++) {
            queue = queue.enqueue(QueueEntry.joining(waiters[i], T0.plusSeconds(i), LEASE));
        }
        return queue;
    }

    /** The annotations a queue is stored in, as the first write of it stores them. */
    static Map<String, String> annotationsOf(LockQueue queue) {
        Map<String, String> annotations = new HashMap<>();
        QueueChange.between(LockQueue.empty(), queue).writes().forEach(annotations::put);
        return annotations;
    }

    private static List<String> waiters(LockQueue queue) {
        return queue.entries().stream().map(QueueEntry::waiter).toList();
    }

    @Test
    void aQueueIsWrittenOneWaiterPerLineHeadFirst() {
        LockQueue queue = queueOf("drone-build-41", "ci-runner-7/4711/9f3a0c21")
                .renew("drone-build-41", Instant.parse("2026-12-03T09:04:10.500Z"));

        assertThat(queue.text())
                .isEqualTo("2026-12-03T09:00:00.125Z drone-build-41\n"
                        + "2026-12-03T09:00:01.125Z ci-runner-7/4711/9f3a0c21");
        assertThat(LockQueue.empty().text()).isEmpty();
        assertThat(annotationsOf(queue))
                .containsEntry(LockQueue.ANNOTATION, queue.text())
                .containsEntry(
                        LockQueue.renewalAnnotation("drone-build-41"), "2026-12-03T09:04:10.500Z 2 drone-build-41")
                .containsEntry(
                        LockQueue.renewalAnnotation("ci-runner-7/4711/9f3a0c21"),
                        "2026-12-03T09:00:01.125Z 2 ci-runner-7/4711/9f3a0c21")
                .hasSize(3);
    }

    @Test
    void parsingWhatWasWrittenGivesTheSameQueueInTheSameOrder() {
        SplittableRandom random = new SplittableRandom(12);
        for (int run = 0; run < 300; run++) {
            int size = random.nextInt(LockQueue.MAX_WAITERS + 1);
            LockQueue queue = LockQueue.empty();
            for (int i = 0; i < size; i++) {
                Instant enqueued =
                        Instant.ofEpochSecond(random.nextLong(0, 253_402_300_799L), random.nextInt(1_000_000_000));
                Instant renewed = enqueued.plusNanos(random.nextLong(0, 1L << 40));
                // Identities with spaces, slashes and non-ASCII letters, as a holder may be.
                String waiter = switch (random.nextInt(4)) {
                    case 0 -> "build-" + run + "-" + i;
                    case 1 -> "host/" + random.nextInt(99_999) + "/" + Integer.toHexString(random.nextInt());
                    case 2 -> " spaced  build " + i + " ";
                    default -> "bâtiment-" + i + "-ü";
                };
                Duration lease = Duration.ofMillis(random.nextLong(1, 120_000));
                queue = queue.enqueue(new QueueEntry(waiter, enqueued, renewed, lease));
            }

            LockQueue read = LockQueue.parse(TARGET, annotationsOf(queue));

            assertThat(read).as("%s", queue).isEqualTo(queue);
            assertThat(read.entries()).containsExactlyElementsOf(queue.entries());
            assertThat(read.storedText()).isEqualTo(queue.text());
        }
    }

    @Test
    void absentEmptyAndBlankTextsAreTheEmptyQueue() {
        for (@Nullable String blank : Arrays.asList(null, "", " ", "\n", " \n\t\n")) {
            assertThat(LockQueue.parse(TARGET, blank)).as("'%s'", blank).isEqualTo(LockQueue.empty());
        }
    }

    @Test
    void blankLinesAndCarriageReturnsFromHandEditsAreTolerated() {
        String text = "\n2026-12-03T09:00:00Z a\r\n\n  \n2026-12-03T09:00:02Z b\n";

        assertThat(waiters(LockQueue.parse(TARGET, text))).containsExactly("a", "b");
    }

    @ParameterizedTest
    @CsvSource(
            delimiterString = "|",
            value = {
                "2026-12-03T09:00:00Z                                            | expected 2 fields",
                "build-42                                                        | expected 2 fields",
                "2026-12-03T09:00:00 build-42                                    | enqueued '2026-12-03T09:00:00' is not an RFC 3339 instant",
                "yesterday build-42                                              | enqueued 'yesterday' is not an RFC 3339 instant",
                "' 2026-12-03T09:00:00Z build-42'                                | enqueued '' is not an RFC 3339 instant",
                "1764752400 build-42                                             | enqueued '1764752400' is not an RFC 3339 instant",
                "'2026-12-03T09:00:00Z   '                                       | waiter '  ' is not 1 to 253 characters",
            })
    void aMalformedLineIsRejectedNamingKeyValueLineAndExpectation(String line, String problem) {
        String text = "2026-12-03T08:59:00Z first\n" + line;

        assertThatThrownBy(() -> LockQueue.parse(TARGET, text))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageStartingWith("ci/builder: annotation replicalock.io/queue has value '" + text + "'")
                .hasMessageContaining("expected one waiter per line as '<enqueued> <waiter>'")
                .hasMessageContaining("(line 2 '" + line + "': " + problem);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\u0007bell", "tab\there"})
    void aWaiterWithAControlCharacterIsMalformed(String waiter) {
        String text = "2026-12-03T09:00:00Z " + waiter;

        assertThatThrownBy(() -> LockQueue.parse(TARGET, text))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("without control characters");
    }

    @Test
    void anOverlongWaiterIsMalformedAndCannotBeQueued() {
        String longest = "w".repeat(253);
        String tooLong = "w".repeat(254);

        assertThat(waiters(LockQueue.parse(TARGET, "2026-12-03T09:00:00Z " + longest)))
                .containsExactly(longest);
        assertThatThrownBy(() -> LockQueue.parse(TARGET, "2026-12-03T09:00:00Z " + tooLong))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("is not 1 to 253 characters");
        assertThatThrownBy(() -> QueueEntry.joining(tooLong, T0, LEASE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to 253 characters");
    }

    @Test
    void theSameWaiterTwiceIsMalformed() {
        String text = "2026-12-03T09:00:00Z a\n" + "2026-12-03T09:00:00Z b\n" + "2026-12-03T09:00:02Z a";

        assertThatThrownBy(() -> LockQueue.parse(TARGET, text))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("(line 3 '2026-12-03T09:00:02Z a': waiter 'a' is queued twice)");
        List<QueueEntry> twice = List.of(QueueEntry.joining("a", T0, LEASE), QueueEntry.joining("a", T0, LEASE));
        assertThatThrownBy(() -> LockQueue.of(twice))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a' is queued twice");
    }

    @Test
    void theWaitersIdentityKeepsItsSpaces() {
        String text = "2026-12-03T09:00:00+01:00  build 7 ";
        Map<String, String> annotations = Map.of(
                LockQueue.ANNOTATION,
                text,
                LockQueue.renewalAnnotation(" build 7 "),
                "2026-12-03T08:00:01Z 30  build 7 ");

        QueueEntry entry = LockQueue.parse(TARGET, annotations).entries().get(0);

        assertThat(entry)
                .isEqualTo(new QueueEntry(
                        " build 7 ",
                        Instant.parse("2026-12-03T08:00:00Z"),
                        Instant.parse("2026-12-03T08:00:01Z"),
                        Duration.ofSeconds(30)));
    }

    @Test
    void arrivalOrderIsKeptThroughRenewalsAndDepartures() {
        LockQueue queue = queueOf("a", "b", "c", "d", "e");

        LockQueue changed = queue.renew("c", T0.plusSeconds(60))
                .renew("a", T0.plusSeconds(61))
                .without("b")
                .enqueue(QueueEntry.joining("f", T0.plusSeconds(62), LEASE))
                .withoutAll(List.of("a", "e", "not-queued"));

        assertThat(waiters(changed)).containsExactly("c", "d", "f");
        assertThat(changed.head().map(QueueEntry::waiter)).contains("c");
        assertThat(changed.positionOf("f")).isEqualTo(2);
        assertThat(changed.positionOf("a")).isEqualTo(-1);
        assertThat(waiters(LockQueue.of(queue.ahead("d")))).containsExactly("a", "b", "c");
        assertThat(queue.ahead("a")).isEmpty();
        assertThat(queue.without("zz")).isSameAs(queue);
        assertThat(changed.withoutAll(List.of("c", "d", "f"))).isEqualTo(LockQueue.empty());
    }

    @Test
    void theCapIsEnforcedOnEnqueue() {
        LockQueue full = queueOf(
                IntStream.range(0, LockQueue.MAX_WAITERS).mapToObj(i -> "w" + i).toArray(String[]::new));

        assertThat(full.size()).isEqualTo(32);
        assertThat(full.isFull()).isTrue();
        assertThatThrownBy(() -> full.enqueue(QueueEntry.joining("w32", T0, LEASE)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds 32 waiters, at most 32")
                .hasMessageContaining("'w32' must wait outside it");
        assertThat(full.without("w0").isFull()).isFalse();
        assertThat(waiters(full.without("w0").enqueue(QueueEntry.joining("w32", T0, LEASE))))
                .endsWith("w31", "w32")
                .startsWith("w1");
    }

    @Test
    void aLongerQueueWrittenElsewhereIsReadButNotGrown() {
        List<QueueEntry> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            entries.add(QueueEntry.joining("w" + i, T0, LEASE));
        }
        LockQueue read = LockQueue.parse(TARGET, LockQueue.of(entries).text());

        assertThat(read.size()).isEqualTo(40);
        assertThat(read.isFull()).isTrue();
        assertThatThrownBy(() -> read.enqueue(QueueEntry.joining("w40", T0, LEASE)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void enqueueingAQueuedWaiterAgainIsRefused() {
        LockQueue queue = queueOf("a");

        assertThatThrownBy(() -> queue.enqueue(QueueEntry.joining("a", T0, LEASE)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a' is queued already");
    }

    @Test
    void renewingAWaiterThatWasRemovedIsRefusedSoItReEnqueues() {
        LockQueue queue = queueOf("a", "b").without("a");

        assertThatThrownBy(() -> queue.renew("a", T0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a' is not queued");
        assertThatThrownBy(() -> queue.ahead("a")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRenewalAlwaysChangesTheTextEvenWhenTheWallClockSteppedBack() {
        QueueEntry entry = QueueEntry.joining("a", T0, LEASE);

        QueueEntry sameInstant = entry.renewedAt(T0);
        QueueEntry steppedBack = sameInstant.renewedAt(T0.minusSeconds(600));
        QueueEntry forward = steppedBack.renewedAt(T0.plusSeconds(5));

        assertThat(List.of(
                        entry.renewalText(),
                        sameInstant.renewalText(),
                        steppedBack.renewalText(),
                        forward.renewalText()))
                .doesNotHaveDuplicates();
        assertThat(forward.line()).isEqualTo(entry.line());
        assertThat(steppedBack.renewed()).isEqualTo(T0.plusMillis(2));
        assertThat(forward.renewed()).isEqualTo(T0.plusSeconds(5));
        assertThat(forward.enqueued()).isEqualTo(T0);
    }

    @Test
    void theEntrysLeaseIsRoundedUpAsStoredAndMustBePositive() {
        assertThat(QueueEntry.joining("a", T0, Duration.ofMillis(1500)).lease()).isEqualTo(Duration.ofSeconds(2));
        assertThat(QueueEntry.joining("a", T0, Duration.ofMillis(1)).lease()).isEqualTo(Duration.ofSeconds(1));
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-2))) {
            assertThatThrownBy(() -> QueueEntry.joining("a", T0, bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("lease must be positive");
        }
        assertThatThrownBy(() -> QueueEntry.joining(" ", T0, LEASE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("waiter ' '");
    }

    @Test
    void eachWaiterRenewsInAnAnnotationOfItsOwnNamedByItsIdentitysHash() {
        String key = LockQueue.renewalAnnotation("ci-runner-7/4711/9f3a0c21 ü");

        assertThat(key).matches("replicalock\\.io/waiter-[0-9a-f]{16}");
        assertThat(key).isEqualTo(LockQueue.renewalAnnotation("ci-runner-7/4711/9f3a0c21 ü"));
        assertThat(IntStream.range(0, 1000).mapToObj(i -> LockQueue.renewalAnnotation("build-" + i)))
                .doesNotHaveDuplicates();
    }

    @Test
    void anEntryWithoutARenewalAnnotationWasLastRenewedWhenItJoined() {
        LockQueue queue = LockQueue.parse(TARGET, Map.of(LockQueue.ANNOTATION, "2026-12-03T09:00:00Z a"));

        assertThat(queue.entries().get(0).renewed()).isEqualTo(Instant.parse("2026-12-03T09:00:00Z"));
        assertThat(queue.entries().get(0).lease()).isEqualTo(LockQueue.UNRENEWED_LEASE);
        assertThat(queue.storedRenewal("a")).isNull();
    }

    @Test
    void theLeaseAWaiterPromisedAtItsLastRenewalIsTheOneItIsJudgedOn() {
        LockQueue back = queueOf("a", "b").renew("b", T0.plusSeconds(5), Duration.ofSeconds(20));
        LockQueue front = back.without("a").renew("b", T0.plusSeconds(6), LEASE);

        assertThat(LockQueue.parse(TARGET, annotationsOf(back))
                        .entry("b")
                        .orElseThrow()
                        .lease())
                .isEqualTo(Duration.ofSeconds(20));
        assertThat(annotationsOf(back))
                .containsEntry(LockQueue.renewalAnnotation("b"), "2026-12-03T09:00:05.125Z 20 b");
        assertThat(LockQueue.parse(TARGET, annotationsOf(front))
                        .entry("b")
                        .orElseThrow()
                        .lease())
                .isEqualTo(LEASE);
        assertThat(front.text())
                .as("the line does not change with the promise")
                .isEqualTo("2026-12-03T09:00:01.125Z b");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "2026-12-03T09:00:01Z 2 b",
                "2026-12-03T09:00:01Z 2",
                "2026-12-03T09:00:01Z a",
                "2026-12-03T09:00:01Z 0 a",
                "2026-12-03T09:00:01Z 2s a",
                "soon 2 a",
                " 2 a",
                "2026-12-03T09:00:01Z 2 a "
            })
    void aRenewalAnnotationThatDoesNotParseOrNamesAnotherWaiterIsRejected(String renewal) {
        String key = LockQueue.renewalAnnotation("a");
        Map<String, String> annotations = Map.of(LockQueue.ANNOTATION, "2026-12-03T09:00:00Z a", key, renewal);

        assertThatThrownBy(() -> LockQueue.parse(TARGET, annotations))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageStartingWith("ci/builder: annotation " + key + " has value '" + renewal + "'")
                .hasMessageContaining(
                        "expected '<renewed> <lease-seconds> <waiter>' with the waiter of its queue entry")
                .hasMessageContaining("('a')");
    }

    @Test
    void renewalAnnotationsOfWaitersNotQueuedAreIgnored() {
        Map<String, String> annotations = new HashMap<>(annotationsOf(queueOf("a", "b")));
        annotations.put(LockQueue.ANNOTATION, queueOf("a", "b").without("b").text());

        assertThat(waiters(LockQueue.parse(TARGET, annotations))).containsExactly("a");
    }
}
