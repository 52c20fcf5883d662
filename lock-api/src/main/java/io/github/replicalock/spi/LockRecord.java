package io.github.replicalock.spi;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One read of a lock: the Deployment's lock fields and status, the queue of waiters, and the pods
 * of its selector.
 *
 * <pre>{@code
 * LockRecord record = backend.read(target);
 * boolean free = record.fields().replicas() == 0 && record.pods().isEmpty();
 * boolean nobodyWaits = record.queue().isEmpty();
 * }</pre>
 *
 * @param fields replicas and annotations
 * @param readyReplicas {@code status.readyReplicas}, for display
 * @param selector the Deployment's {@code spec.selector} in label-selector form; null if it has none
 * @param pods the pods matching the selector, terminating ones included
 * @param queue the waiters, parsed by {@link LockQueue#parse(io.github.replicalock.LockTarget,
 *     java.util.Map)} from the annotations, with the texts it was read from: what a queue write
 *     derived from it ({@link QueueChange#between}) tests
 */
public record LockRecord(
        LockFields fields, int readyReplicas, @Nullable String selector, List<PodSnapshot> pods, LockQueue queue) {
    public LockRecord {
        pods = List.copyOf(pods);
        Objects.requireNonNull(queue, "queue");
    }

    /** A record of a Deployment without a queue annotation. */
    public LockRecord(LockFields fields, int readyReplicas, @Nullable String selector, List<PodSnapshot> pods) {
        this(fields, readyReplicas, selector, pods, LockQueue.empty());
    }
}
