package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockQueue;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One accepted change of a Deployment's queue of waiters, as {@link FakeCluster#queueWrites}
 * records it: an enqueue, renewal, leave or prune ({@code lockWrite} null), or a queued waiter's
 * acquisition, which changes the lock and the queue in one write ({@code lockWrite} is that write,
 * also listed by {@link FakeCluster#lockWrites()}). In the order the cluster applied them.
 *
 * <pre>{@code
 * // who acquired from the queue, and who was ahead of it in the queue it tested
 * for (QueueWrite write : cluster.queueWrites(target)) {
 *     if (write.lockWrite() != null) {
 *         List<QueueEntry> ahead = write.before().ahead(write.lockWrite().after().holder());
 *     }
 * }
 * }</pre>
 *
 * @param time the cluster clock's wall time when the write was applied
 * @param target the Deployment written
 * @param client the {@link FakeBackend#name()} that wrote
 * @param before the queue just before
 * @param after the queue as stored
 * @param lockWrite the lock write made in the same atomic write; null for a change of the queue alone
 */
public record QueueWrite(
        Instant time,
        LockTarget target,
        String client,
        LockQueue before,
        LockQueue after,
        @Nullable LockWrite lockWrite) {
    public QueueWrite {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(after, "after");
    }
}
