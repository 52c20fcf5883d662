package io.github.replicalock.engine;

import static io.github.replicalock.engine.VirtualClusterFixture.NAME;
import static io.github.replicalock.engine.VirtualClusterFixture.NAMESPACE;
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
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * {@link LockClock#nanoTime()} has an arbitrary origin, as {@link System#nanoTime()}'s: it may be
 * negative, or close to overflowing. Expiry must depend on differences only.
 *
 * <p>KNOWN ENGINE BUG, not fixed (lock-api {@code ExpiryTracker} and {@code LockEngine.attempt}),
 * found by the protocol simulation when it gave each client a random monotonic origin: "never
 * expires" is the sentinel {@code Long.MAX_VALUE}, compared as {@code now - expiresAt >= 0}. With a
 * negative {@code now} that difference overflows to a positive number, so a hold that never
 * expires (the shell pipeline's) counts as expired and is taken over at once. And {@code
 * ExpiryTracker.saturatedAdd} turns a deadline that wraps past {@code Long.MAX_VALUE} into that
 * sentinel, so near the top of the range an expired hold is not taken over until the clock wraps.
 * HotSpot on Linux starts {@code System.nanoTime()} at boot, so neither happens there; a custom
 * {@link LockClock} or another JVM may. The simulation keeps origins in [0, 10^18) until it is fixed.
 */
class MonotonicOriginTest {

    @Test
    @Disabled("known engine bug: expiry compares against a Long.MAX_VALUE sentinel; see docs/reliability.md")
    void aShellHoldIsNeverTakenOverWhateverTheClocksOrigin() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            fixture.cluster.scale(NAMESPACE, NAME, 1); // the shell pipeline holds it, forever by default
            ReplicaLocks locks = locksWithOrigin(fixture, "build-1", -(1L << 62));

            assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(10)))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining("held by 'unknown'");
        }
    }

    @Test
    @Disabled("known engine bug: ExpiryTracker saturates a deadline past Long.MAX_VALUE; see docs/reliability.md")
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
            fixture.cluster.scale(NAMESPACE, NAME, 1);
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
