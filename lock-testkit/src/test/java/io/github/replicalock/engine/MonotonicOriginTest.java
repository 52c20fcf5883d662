package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.FakeBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link LockClock#nanoTime()} has an arbitrary origin, as {@link System#nanoTime()}'s: it may be
 * negative, or close to overflowing. Expiry must depend on differences only.
 *
 * <p>Found by the protocol simulation when it gave each client a random monotonic origin: "never
 * expires" was the instant {@code Long.MAX_VALUE}, compared as {@code now - expiresAt >= 0}, so with
 * a negative {@code now} a hold that never expires (the shell pipeline's) counted as expired and was
 * taken over at once; and a deadline that wrapped past {@code Long.MAX_VALUE} saturated to that
 * "never". The engine now works in durations from now. The simulation draws origins from the whole
 * range, near both ends included.
 */
class MonotonicOriginTest {

    @Test
    void aShellHoldIsNeverTakenOverWhateverTheClocksOrigin() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            fixture.cluster.scale(fixture.target, 1); // the shell pipeline holds it, forever by default
            ReplicaLocks locks = fixture.locksWithOrigin("build-1", -(1L << 62));

            assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(10)))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining("held by 'unknown'");
        }
    }

    @Test
    void anAbandonedHoldIsTakenOverAfterItsLeaseWhateverTheClocksOrigin() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            FakeBackend crashed = fixture.cluster.backend("build-1");
            fixture.locks(crashed, "build-1", LockOptions.defaults()).acquire(fixture.target, Duration.ofMinutes(1));
            crashed.disconnect();
            Duration from = fixture.elapsed();
            // 10 s before the top of the range: the 30 s lease plus 5 s grace wrap past it.
            long origin = Long.MAX_VALUE
                    - fixture.cluster.clock().nanoTime()
                    - Duration.ofSeconds(10).toNanos();

            ReplicaLock taken =
                    fixture.locksWithOrigin("build-2", origin).acquire(fixture.target, Duration.ofMinutes(5));

            assertThat(taken.fencingToken()).isEqualTo(2);
            assertThat(fixture.elapsed().minus(from)).isBetween(Duration.ofSeconds(35), Duration.ofSeconds(40));
        }
    }

    /** Sanity check of the helper: a positive origin far from overflow works as it always did. */
    @Test
    void anOrdinaryOriginBehavesAsTheSystemClock() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            fixture.cluster.scale(fixture.target, 1);
            ReplicaLocks locks = fixture.locksWithOrigin("build-1", 1L << 40);

            assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(10)))
                    .isInstanceOf(LockTimeoutException.class);
        }
    }
}
