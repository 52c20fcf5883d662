package io.github.replicalock.spi;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One read of a lock: the Deployment's lock fields and status, and the pods of its selector.
 *
 * <pre>{@code
 * LockRecord record = backend.read(target);
 * boolean free = record.fields().replicas() == 0 && record.pods().isEmpty();
 * }</pre>
 *
 * @param fields replicas and annotations
 * @param readyReplicas {@code status.readyReplicas}, for display
 * @param selector the Deployment's {@code spec.selector} in label-selector form; null if it has none
 * @param pods the pods matching the selector, terminating ones included
 */
public record LockRecord(
        LockFields fields, int readyReplicas, @Nullable String selector, List<PodSnapshot> pods) {
    public LockRecord {
        pods = List.copyOf(pods);
    }
}
