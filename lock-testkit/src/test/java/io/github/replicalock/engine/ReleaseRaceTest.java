package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.Timing;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Races between a release and the lock's other writers, found by {@link ProtocolSimulationTest}
 * and replayed here step by step.
 */
class ReleaseRaceTest {

    /**
     * A renewal whose answer is lost retries a moment later; if the holder's own release lands in
     * between, the retry finds replicas 0. That is not a loss: the lost-listener must not run, and
     * close() returns normally. (Simulation seed 538.)
     */
    @Test
    void aRenewalRetryingAcrossTheHoldersOwnReleaseIsNotALoss() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            VirtualClock clock = fixture.cluster.virtualClock();
            ReplicaLock lock = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
            AtomicReference<@Nullable LockLostException> told = new AtomicReference<>();
            lock.onLost(told::set);
            // Written at 0 s, renewed every 10 s. The renewal at 10 s and the release at 10.005 s both
            // apply but lose their answers: the renewal retries at 10.010 s, the release at 10.015 s.
            fixture.cluster.faults().loseNextResponses(2);
            sleepUntil(clock, Duration.ofMillis(10_005));

            lock.close();

            assertThat(told.get()).as("lost-listener after a normal release").isNull();
            assertThat(lock.isHeld()).isFalse();
            assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
            assertThat(fixture.cluster.events(fixture.target))
                    .extracting(ClusterEvent::reason)
                    .doesNotContain("Lost");
        }
    }

    /**
     * A release that fails (the API server keeps answering 409) while a renewal in flight fails too:
     * the renewal rescheduled itself because the lock was still HELD, and then renewed it for as
     * long as the process lived. The lock must instead expire after its lease, as close() says.
     * (Simulation seed 228.)
     */
    @Test
    void aFailedReleaseIsNeverRenewedAgainSoTheLockExpires() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            VirtualClock clock = fixture.cluster.virtualClock();
            ReplicaLock lock = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
            // Every request takes 1 s: the renewal due at 10 s writes at 11 s, the release sent at
            // 10.5 s writes at 11.5 s; 20 conflicts make both give up after 10 each.
            fixture.cluster.faults().latency(Duration.ofSeconds(1));
            sleepUntil(clock, Duration.ofMillis(10_500));
            fixture.cluster.faults().conflictOnNextWrites(20);

            assertThatThrownBy(lock::close).isInstanceOf(LockBackendUnavailableException.class);
            fixture.cluster.faults().clearAll();
            int writesAfterClose = fixture.cluster.lockWrites().size();
            ReplicaLock next = fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(2));

            assertThat(next.fencingToken()).isEqualTo(2);
            assertThat(fixture.cluster
                            .lockWrites()
                            .subList(
                                    writesAfterClose,
                                    fixture.cluster.lockWrites().size()))
                    .as("no renewal by build-1 after its close()")
                    .noneMatch(w -> w.client().equals("build-1"));
            next.close();
        }
    }

    /**
     * {@code ReplicaLocks.close()} called while an acquisition's conditional write is in flight: the
     * write applies, the acquirer sees the engine closed and gives the lock back through the backend,
     * which close() leaves open until then. (Found by simulation seeds 76, 283, 1047, 1180, 1777 of
     * 2,000 and 178 of the 100,000-seed soak, where acquire() threw the closed backend's
     * IllegalStateException and the hold stayed until its lease ran out.)
     */
    @Test
    void closingWhileAnAcquisitionWritesGivesATypedExceptionAndLeavesNothingHeld() throws Exception {
        try (VirtualClusterFixture stopped = VirtualClusterFixture.stoppedTime()) {
            CountDownLatch written = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            FakeBackend fake = stopped.cluster.backend("build-1");
            ReplicaLocks locks = stopped.cluster
                    .locks(new WriteGate(fake, () -> {
                        written.countDown();
                        awaitLatch(closed);
                    }))
                    .holder("build-1")
                    .options(LockOptions.defaults())
                    .shutdownHook(false)
                    .build();
            AtomicReference<@Nullable Throwable> outcome = new AtomicReference<>();
            Thread acquirer = startRecordingFailure(
                    outcome,
                    () -> locks.acquire(stopped.target, Duration.ofHours(1)).close());
            awaitLatch(written);

            locks.close();
            closed.countDown();
            acquirer.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());

            assertThat(outcome.get()).isInstanceOf(LocksClosedException.class);
            assertThat(stopped.cluster
                            .deployment(stopped.target)
                            .annotations()
                            .getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                    .as("holder")
                    .isEmpty();
        }
    }

    /**
     * A build's own {@code close()} is still writing its release when the orchestrator shuts down
     * with {@code ReplicaLocks.close()}: the release completes normally through a backend that stays
     * open until it is done, and the backend closes after it.
     */
    @Test
    void closingTheLocksWhileALockIsBeingReleasedLetsTheReleaseFinish() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            CountDownLatch releasing = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            AtomicInteger backendCloses = new AtomicInteger();
            ReplicaLocks locks = fixture.track(fixture.cluster
                    .locks(new ReleaseHeldUp(fixture.cluster.backend("build-1"), releasing, proceed) {
                        @Override
                        public void close() {
                            backendCloses.incrementAndGet();
                            super.close();
                        }
                    })
                    .holder("build-1")
                    .shutdownHook(false)
                    .build());
            ReplicaLock lock = locks.acquire(fixture.target, Duration.ofMinutes(1));
            AtomicReference<@Nullable Throwable> outcome = new AtomicReference<>();
            Thread build = startRecordingFailure(outcome, lock::close);
            awaitLatch(releasing);

            locks.close();
            assertThat(backendCloses)
                    .as("backend closed under a release in flight")
                    .hasValue(0);
            proceed.countDown();
            build.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());

            assertThat(outcome.get()).isNull();
            assertThat(backendCloses).hasValue(1);
            assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
            assertThat(fixture.cluster
                            .deployment(fixture.target)
                            .annotations()
                            .getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                    .as("holder")
                    .isEmpty();
        }
    }

    /**
     * {@code ReplicaLocks.close()} is releasing a lock when the build calls the lock's own {@code
     * close()}, and that release finds the lock taken over: the build's close() waits for it and
     * throws {@link LockLostException}, never returns as if the lock had been given back. (Found by
     * simulation seed 29567 of the second soak run, where the build's close() returned at once and
     * normally while the lock, lost, stayed held until it expired.)
     */
    @Test
    void aCloseDuringReplicaLocksCloseReportsTheLossThatReleaseFound() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            CountDownLatch releasing = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            ReplicaLocks locks = fixture.track(fixture.cluster
                    .locks(new ReleaseHeldUp(fixture.cluster.backend("build-1"), releasing, proceed))
                    .holder("build-1")
                    .shutdownHook(false)
                    .build());
            ReplicaLock lock = locks.acquire(fixture.target, Duration.ofMinutes(1));
            // The build guards its state with a monitor, in its listener and around its close().
            Object buildState = new Object();
            AtomicReference<@Nullable LockLostException> told = new AtomicReference<>();
            lock.onLost(e -> {
                synchronized (buildState) {
                    told.set(e);
                }
            });
            Thread shutdown = new Thread(locks::close);
            shutdown.start();
            awaitLatch(releasing);
            // Renewal stopped when the release began: build-2 takes over after the lease and grace.
            ReplicaLock next = fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(5));
            assertThat(next.fencingToken()).isEqualTo(2);

            AtomicReference<@Nullable Throwable> outcome = new AtomicReference<>();
            Thread build = startRecordingFailure(outcome, () -> {
                synchronized (buildState) {
                    lock.close();
                }
            });
            // The build's close() waits for the release in progress.
            await().atMost(Timing.scaled(Duration.ofSeconds(10))).until(() -> build.getState() == Thread.State.WAITING);
            proceed.countDown();
            build.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());
            shutdown.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());

            assertThat(build.isAlive() || shutdown.isAlive())
                    .as("deadlock between the listener and the waiting close()")
                    .isFalse();
            assertThat(outcome.get())
                    .isInstanceOf(LockLostException.class)
                    .hasMessageContaining("taken over by 'build-2' with token 2");
            assertThat(told.get()).isSameAs(outcome.get());
            assertThat(fixture.cluster.deployment(fixture.target).annotations())
                    .containsEntry(LockFields.HOLDER_ANNOTATION, "build-2");
            next.close();
        }
    }

    /** A lock lost before ReplicaLocks.close() (so not among those it releases) still says why on close(). */
    @Test
    void closingALostLockAfterItsReplicaLocksWasClosedThrowsTheLoss() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            ReplicaLocks locks = fixture.locks("build-1");
            ReplicaLock lock = locks.acquire(fixture.target, Duration.ofMinutes(1));
            AtomicReference<@Nullable LockLostException> told = new AtomicReference<>();
            lock.onLost(told::set);
            fixture.cluster.scale(fixture.target, 0);
            await().atMost(Timing.scaled(Duration.ofSeconds(10))).until(() -> told.get() != null);

            locks.close();

            assertThatThrownBy(lock::close)
                    .isInstanceOf(LockLostException.class)
                    .hasMessageContaining("scaled to 0");
        }
    }

    /** Durations too long for a long of nanoseconds (a lease of centuries) must not break holding or releasing. */
    @Test
    void aLeaseOfCenturiesIsHeldAndReleasedNormally() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            LockOptions centuries = LockOptions.builder()
                    .leaseDuration(Duration.ofDays(365L * 300))
                    .fallbackPollInterval(Duration.ofDays(365L * 300))
                    .build();
            ReplicaLock lock = fixture.locks("build-1", centuries).acquire(fixture.target, Duration.ofDays(365L * 400));

            assertThat(lock.isHeld()).isTrue();
            lock.close();

            assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
        }
    }

    /**
     * A holder whose release is held up past its lease (a GC pause between sending and hearing the
     * write) and is asked {@code isHeld()} meanwhile answers false without declaring a loss: the
     * release lands (nobody took over), close() returns normally, and the lost-listener never runs.
     * (Found by simulation seed 914 of the soak run.)
     */
    @Test
    void askingIsHeldWhileAReleaseIsHeldUpPastTheLeaseIsNotALoss() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            VirtualClock clock = fixture.cluster.virtualClock();
            CountDownLatch releasing = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            ReplicaLocks locks = fixture.track(fixture.cluster
                    .locks(new ReleaseHeldUp(fixture.cluster.backend("build-1"), releasing, proceed))
                    .holder("build-1")
                    .shutdownHook(false)
                    .build());
            ReplicaLock lock = locks.acquire(fixture.target, Duration.ofMinutes(1));
            AtomicReference<@Nullable LockLostException> told = new AtomicReference<>();
            lock.onLost(told::set);
            Thread closer = new Thread(lock::close);
            closer.start();
            awaitLatch(releasing);

            sleepUntil(clock, clock.elapsed().plus(Duration.ofSeconds(31)));
            assertThat(lock.isHeld()).isFalse();
            proceed.countDown();
            closer.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());

            assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
            assertThat(told.get()).as("lost-listener after a normal release").isNull();
        }
    }

    /** Holds the first release write until told to go on, as a paused process would. */
    private static class ReleaseHeldUp extends ForwardingBackend {
        private final CountDownLatch releasing;
        private final CountDownLatch proceed;

        ReleaseHeldUp(FakeBackend delegate, CountDownLatch releasing, CountDownLatch proceed) {
            super(delegate);
            this.releasing = releasing;
            this.proceed = proceed;
        }

        @Override
        public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
                throws InterruptedException {
            if (desired.replicas() == 0) {
                releasing.countDown();
                awaitLatch(proceed);
            }
            return super.compareAndSet(target, expected, desired);
        }
    }

    /** What a test thread does; may throw anything, which the test then inspects. */
    private interface Step {
        void run() throws Exception;
    }

    /** Starts {@code step} on a thread of its own; what it throws ends up in {@code failure}. */
    private static Thread startRecordingFailure(AtomicReference<@Nullable Throwable> failure, Step step) {
        Thread thread = new Thread(() -> {
            try {
                step.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        thread.start();
        return thread;
    }

    private static void sleepUntil(VirtualClock clock, Duration elapsed) throws InterruptedException {
        LockClock.Wakeup wakeup = clock.newWakeup();
        long deadline = clock.nanoTime() + elapsed.minus(clock.elapsed()).toNanos();
        while (clock.nanoTime() < deadline) {
            wakeup.awaitUntil(deadline);
        }
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(Timing.scaled(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS))
                    .isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A backend that runs {@code afterAcquisition} after an acquisition's write applied, before it answers. */
    private static final class WriteGate extends ForwardingBackend {
        private final Runnable afterAcquisition;

        WriteGate(FakeBackend delegate, Runnable afterAcquisition) {
            super(delegate);
            this.afterAcquisition = afterAcquisition;
        }

        @Override
        public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
                throws InterruptedException {
            boolean applied = super.compareAndSet(target, expected, desired);
            if (applied && desired.replicas() == 1 && expected.replicas() == 0) {
                afterAcquisition.run();
            }
            return applied;
        }
    }
}
