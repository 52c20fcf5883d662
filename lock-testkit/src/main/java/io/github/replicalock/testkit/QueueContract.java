package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The queue writes of {@link LockBackendContract} (docs/lock-protocol.md section 10.4), kept apart
 * so that the contract reads as a list of what a backend must do.
 */
final class QueueContract {
    private static final Duration WAITER_LEASE = Duration.ofSeconds(2);

    private QueueContract() {}

    private static QueueEntry entry(String waiter) {
        return QueueEntry.joining(waiter, Instant.now().truncatedTo(ChronoUnit.MILLIS), WAITER_LEASE);
    }

    private static QueueChange change(LockQueue read, LockQueue desired) {
        return QueueChange.between(read, desired);
    }

    /** Absent key: empty queue; each write tests the exact texts read; an emptied queue is "". */
    static void queueWritesTestTheTextAsRead(LockBackend backend, LockTarget target) throws Exception {
        LockQueue fresh = backend.read(target).queue();
        assertThat(fresh).isEqualTo(LockQueue.empty());
        assertThat(fresh.storedText()).isNull();

        LockQueue one = fresh.enqueue(entry("waiter-a"));
        assertThat(backend.compareAndSetQueue(target, change(fresh, one))).isTrue();
        LockQueue read = backend.read(target).queue();
        assertThat(read).isEqualTo(one);
        assertThat(read.storedText()).isEqualTo(one.text());

        LockQueue two = one.enqueue(entry("waiter-b"));
        assertThat(backend.compareAndSetQueue(target, change(fresh, two)))
                .as("stale: the key is present now")
                .isFalse();
        assertThat(backend.compareAndSetQueue(
                        target, change(LockQueue.parse(target, Map.of(LockQueue.ANNOTATION, one.text() + " ")), two)))
                .as("another text")
                .isFalse();
        assertThat(backend.read(target).queue()).isEqualTo(one);
        assertThat(backend.compareAndSetQueue(target, change(read, two))).isTrue();

        LockQueue both = backend.read(target).queue();
        assertThat(backend.compareAndSetQueue(target, change(both, LockQueue.empty())))
                .isTrue();
        LockQueue emptied = backend.read(target).queue();
        assertThat(emptied.isEmpty()).isTrue();
        assertThat(emptied.storedText()).as("the key is kept, written empty").isEmpty();
        assertThat(emptied.storedRenewal("waiter-a")).isNull();
    }

    /**
     * Renewals write each waiter's own annotation and test nothing another waiter writes: two
     * renewals derived from the same read both land; a prune derived from that read, which judged
     * a waiter dead before it renewed, does not.
     */
    static void renewalsOfDifferentWaitersDoNotConflict(LockBackend backend, LockTarget target) throws Exception {
        LockQueue empty = backend.read(target).queue();
        LockQueue queued = empty.enqueue(entry("waiter-a")).enqueue(entry("waiter-b"));
        assertThat(backend.compareAndSetQueue(target, change(empty, queued))).isTrue();
        LockQueue read = backend.read(target).queue();
        Instant later = Instant.now().truncatedTo(ChronoUnit.MILLIS).plusSeconds(1);

        LockQueue renewedA = read.renew("waiter-a", later);
        LockQueue renewedB = read.renew("waiter-b", later);
        assertThat(backend.compareAndSetQueue(target, change(read, renewedA))).isTrue();
        assertThat(backend.compareAndSetQueue(target, change(read, renewedB)))
                .as("waiter-b's renewal after waiter-a's, both on one read")
                .isTrue();
        assertThat(backend.compareAndSetQueue(target, change(read, read.without("waiter-a"))))
                .as("removing waiter-a, judged on a read before its renewal")
                .isFalse();

        LockQueue after = backend.read(target).queue();
        assertThat(after.entries())
                .containsExactly(renewedA.entries().get(0), renewedB.entries().get(1));
        assertThat(after.storedRenewal("waiter-b"))
                .isEqualTo(renewedB.entries().get(1).renewed() + " 2 waiter-b");
        LockQueue renewedAgain = after.renew("waiter-b", later.plusSeconds(1));
        assertThat(backend.compareAndSetQueue(target, change(after, renewedAgain)))
                .isTrue();
        assertThat(backend.compareAndSetQueue(target, change(after, after.renew("waiter-b", later.plusSeconds(2)))))
                .as("a renewal on a renewal it has not seen")
                .isFalse();
    }

    /** A queue write does not test the lock fields: an acquisition meanwhile does not fail it. */
    static void queueWritesIgnoreTheLock(LockBackend backend, LockTarget target, Runnable changeSomethingElse)
            throws Exception {
        LockRecord seen = backend.read(target);
        assertThat(backend.compareAndSet(target, seen.fields(), heldBy(seen.fields(), "holder")))
                .isTrue();
        changeSomethingElse.run();

        LockQueue one = seen.queue().enqueue(entry("waiter-a"));
        assertThat(backend.compareAndSetQueue(target, change(seen.queue(), one)))
                .isTrue();
        assertThat(backend.read(target).fields().holder()).isEqualTo("holder");
    }

    /**
     * The acquiring write tests the lock fields and the queue, and writes both, atomically; another
     * waiter's renewal in between does not fail it.
     */
    static void acquiringFromTheQueueTestsBoth(LockBackend backend, LockTarget target) throws Exception {
        LockQueue empty = backend.read(target).queue();
        LockQueue queue = empty.enqueue(entry("head")).enqueue(entry("second"));
        assertThat(backend.compareAndSetQueue(target, change(empty, queue))).isTrue();
        LockRecord seen = backend.read(target);
        LockFields free = seen.fields();
        LockFields held = heldBy(free, "head");
        LockQueue after = seen.queue().without("head");
        QueueChange acquiring = change(seen.queue(), after);

        assertThat(backend.compareAndSet(target, heldBy(free, "other"), held, acquiring))
                .as("lock fields differ")
                .isFalse();
        assertThat(backend.compareAndSet(
                        target,
                        free,
                        held,
                        change(LockQueue.parse(target, Map.of(LockQueue.ANNOTATION, queue.text() + "\n")), after)))
                .as("queue text differs")
                .isFalse();
        LockRecord unchanged = backend.read(target);
        assertThat(unchanged.fields().sameLockAs(free)).isTrue();
        assertThat(unchanged.queue()).isEqualTo(queue);

        LockQueue secondRenewed = seen.queue().renew("second", Instant.now().plusSeconds(1));
        assertThat(backend.compareAndSetQueue(target, change(seen.queue(), secondRenewed)))
                .isTrue();
        assertThat(backend.compareAndSet(target, free, held, acquiring))
                .as("after another waiter's renewal")
                .isTrue();
        LockRecord written = backend.read(target);
        assertThat(written.fields()).isEqualTo(held);
        assertThat(written.queue()).isEqualTo(secondRenewed.without("head"));
        assertThat(written.queue().storedText()).isEqualTo(after.text());
    }

    /** Of many clients enqueueing on the same read, exactly one wins. */
    static void ofManyEnqueuesOnOneReadExactlyOneWins(List<LockBackend> backends, LockTarget target, Duration patience)
            throws Exception {
        LockQueue read = backends.get(0).read(target).queue();
        CyclicBarrier start = new CyclicBarrier(backends.size());
        ExecutorService pool = Executors.newFixedThreadPool(backends.size());
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < backends.size(); i++) {
                LockBackend client = backends.get(i);
                QueueChange mine = change(read, read.enqueue(entry("waiter-" + i)));
                results.add(pool.submit(() -> {
                    start.await();
                    return client.compareAndSetQueue(target, mine);
                }));
            }
            int winners = 0;
            for (Future<Boolean> result : results) {
                winners += result.get(patience.toMillis(), TimeUnit.MILLISECONDS) ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
            assertThat(backends.get(0).read(target).queue().size()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    private static LockFields heldBy(LockFields from, String holder) {
        return from.heldBy(holder, from.token() + 1, Instant.now(), Duration.ofSeconds(30));
    }
}
