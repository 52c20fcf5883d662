package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
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

    /** Absent key: empty queue, null text; each write tests the exact text read; empty is "". */
    static void queueWritesTestTheTextAsRead(LockBackend backend, LockTarget target) throws Exception {
        LockRecord fresh = backend.read(target);
        assertThat(fresh.queue()).isEqualTo(LockQueue.empty());
        assertThat(fresh.queueText()).isNull();

        LockQueue one = LockQueue.empty().enqueue(entry("waiter-a"));
        assertThat(backend.compareAndSetQueue(target, null, one)).isTrue();
        LockRecord read = backend.read(target);
        assertThat(read.queue()).isEqualTo(one);
        assertThat(read.queueText()).isEqualTo(one.text());

        LockQueue two = one.enqueue(entry("waiter-b"));
        assertThat(backend.compareAndSetQueue(target, null, two))
                .as("stale: the key is present now")
                .isFalse();
        assertThat(backend.compareAndSetQueue(target, one.text() + " ", two))
                .as("another text")
                .isFalse();
        assertThat(backend.read(target).queue()).isEqualTo(one);
        assertThat(backend.compareAndSetQueue(target, one.text(), two)).isTrue();

        assertThat(backend.compareAndSetQueue(target, two.text(), LockQueue.empty()))
                .isTrue();
        LockRecord emptied = backend.read(target);
        assertThat(emptied.queue().isEmpty()).isTrue();
        assertThat(emptied.queueText()).as("the key is kept, written empty").isEmpty();
    }

    /** A queue write does not test the lock fields: an acquisition meanwhile does not fail it. */
    static void queueWritesIgnoreTheLock(LockBackend backend, LockTarget target, Runnable changeSomethingElse)
            throws Exception {
        LockRecord seen = backend.read(target);
        assertThat(backend.compareAndSet(target, seen.fields(), heldBy(seen.fields(), "holder")))
                .isTrue();
        changeSomethingElse.run();

        LockQueue one = LockQueue.empty().enqueue(entry("waiter-a"));
        assertThat(backend.compareAndSetQueue(target, seen.queueText(), one)).isTrue();
        assertThat(backend.read(target).fields().holder()).isEqualTo("holder");
    }

    /** The acquiring write tests the lock fields and the queue text, and writes both, atomically. */
    static void acquiringFromTheQueueTestsBoth(LockBackend backend, LockTarget target) throws Exception {
        LockQueue queue = LockQueue.empty().enqueue(entry("head")).enqueue(entry("second"));
        assertThat(backend.compareAndSetQueue(target, null, queue)).isTrue();
        LockFields free = backend.read(target).fields();
        LockFields held = heldBy(free, "head");
        LockQueue after = queue.without("head");

        assertThat(backend.compareAndSet(target, heldBy(free, "other"), queue.text(), held, after))
                .as("lock fields differ")
                .isFalse();
        assertThat(backend.compareAndSet(target, free, queue.text() + "\n", held, after))
                .as("queue text differs")
                .isFalse();
        LockRecord unchanged = backend.read(target);
        assertThat(unchanged.fields().sameLockAs(free)).isTrue();
        assertThat(unchanged.queue()).isEqualTo(queue);

        assertThat(backend.compareAndSet(target, free, queue.text(), held, after))
                .isTrue();
        LockRecord written = backend.read(target);
        assertThat(written.fields()).isEqualTo(held);
        assertThat(written.queue()).isEqualTo(after);
        assertThat(written.queueText()).isEqualTo(after.text());
    }

    /** Of many clients enqueueing on the same read, exactly one wins. */
    static void ofManyEnqueuesOnOneReadExactlyOneWins(List<LockBackend> backends, LockTarget target, Duration patience)
            throws Exception {
        String text = backends.get(0).read(target).queueText();
        CyclicBarrier start = new CyclicBarrier(backends.size());
        ExecutorService pool = Executors.newFixedThreadPool(backends.size());
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < backends.size(); i++) {
                LockBackend client = backends.get(i);
                LockQueue mine = LockQueue.empty().enqueue(entry("waiter-" + i));
                results.add(pool.submit(() -> {
                    start.await();
                    return client.compareAndSetQueue(target, text, mine);
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
