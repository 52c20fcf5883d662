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
import java.time.Instant;
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
            ReplicaLocks locks = locksWithOrigin(fixture, "build-1", -(1L << 62));

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
                    locksWithOrigin(fixture, "build-2", origin).acquire(fixture.target, Duration.ofMinutes(5));

            assertThat(taken.fencingToken()).isEqualTo(2);
            assertThat(fixture.elapsed().minus(from)).isBetween(Duration.ofSeconds(35), Duration.ofSeconds(40));
        }
    }

    /** Sanity check of the helper: a positive origin far from overflow works as it always did. */
    @Test
    void anOrdinaryOriginBehavesAsTheSystemClock() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            fixture.cluster.scale(fixture.target, 1);
            ReplicaLocks locks = locksWithOrigin(fixture, "build-1", 1L << 40);

            assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(10)))
                    .isInstanceOf(LockTimeoutException.class);
        }
    }

    private static ReplicaLocks locksWithOrigin(VirtualClusterFixture fixture, String holder, long offset) {
        LockClock shared = fixture.cluster.clock();
        LockClock shifted = new LockClock() {
            @Override
            public Instant now() {
                return shared.now();
            }

            @Override
            public long nanoTime() {
                return shared.nanoTime() + offset;
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                return shared.schedule(delay, task);
            }

            @Override
            public Wakeup newWakeup() {
                Wakeup inner = shared.newWakeup();
                return new Wakeup() {
                    @Override
                    public void signal() {
                        inner.signal();
                    }

                    @Override
                    public boolean awaitUntil(long deadlineNanos) throws InterruptedException {
                        return inner.awaitUntil(deadlineNanos - offset);
                    }
                };
            }
        };
        ReplicaLocks locks = ReplicaLocks.builder()
                .backend(fixture.cluster.backend(holder))
                .clock(shifted)
                .holder(holder)
                .shutdownHook(false)
                .build();
        fixture.track(locks);
        return locks;
    }
}
