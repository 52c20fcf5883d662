package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Instant;
import java.util.Objects;

/**
 * One accepted change of a Deployment's lock fields, as {@link FakeCluster#lockWrites()} records
 * it: every successful {@code compareAndSet}, and every {@code scale} or {@code annotate} a test
 * made as the shell pipeline would (client {@value FakeCluster#KUBECTL}). Writes are listed in the
 * order the cluster applied them, so a simulation test can check invariants over the whole run.
 *
 * <pre>{@code
 * // fencing tokens never go backwards
 * long last = 0;
 * for (LockWrite write : cluster.lockWrites()) {
 *     assertThat(write.after().token()).isGreaterThanOrEqualTo(last);
 *     last = write.after().token();
 * }
 * }</pre>
 *
 * @param time the cluster clock's wall time when the write was applied
 * @param target the Deployment written
 * @param client the {@link FakeBackend#name()} that wrote, or {@value FakeCluster#KUBECTL}
 * @param before the lock fields just before
 * @param after the lock fields as stored (a lease rounded up to whole seconds)
 */
public record LockWrite(Instant time, LockTarget target, String client, LockFields before, LockFields after) {
    public LockWrite {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(after, "after");
    }
}
