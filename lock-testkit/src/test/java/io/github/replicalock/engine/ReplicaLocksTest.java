package io.github.replicalock.engine;

import static io.github.replicalock.engine.VirtualClusterFixture.NAME;
import static io.github.replicalock.engine.VirtualClusterFixture.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The protocol's transitions, in virtual time: leases of 30 s and timeouts of 120 s pass in milliseconds. */
class ReplicaLocksTest {
    private final VirtualClusterFixture fixture = new VirtualClusterFixture();

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    private DeploymentSnapshot deployment() {
        return fixture.cluster.deployment(fixture.target);
    }

    private Thread startAcquire(ReplicaLocks locks, Duration timeout, AtomicReference<Object> outcome) {
        return startAcquire(locks, fixture, timeout, outcome);
    }

    private static Thread startAcquire(ReplicaLocks locks, VirtualClusterFixture on, AtomicReference<Object> outcome) {
        return startAcquire(locks, on, Duration.ofHours(1), outcome);
    }

    private static Thread startAcquire(
            ReplicaLocks locks, VirtualClusterFixture on, Duration timeout, AtomicReference<Object> outcome) {
        Thread thread = new Thread(() -> {
            try {
                outcome.set(locks.acquire(on.target, timeout));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        thread.start();
        return thread;
    }

    @Test
    void acquireStartsTheBuilderAndReleaseStopsIt() throws Exception {
        ReplicaLocks locks = fixture.locks("build-1");

        ReplicaLock lock = locks.acquire(fixture.target, Duration.ofMinutes(1));

        assertThat(lock.fencingToken()).isEqualTo(1);
        assertThat(lock.holder()).isEqualTo("build-1");
        assertThat(lock.isHeld()).isTrue();
        assertThat(lock.pods()).singleElement().satisfies(pod -> assertThat(pod).startsWith(NAME + "-"));
        assertThat(deployment().ready()).isEqualTo("1/1");
        assertThat(deployment().annotations())
                .containsEntry(LockFields.HOLDER_ANNOTATION, "build-1")
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1")
                .containsEntry(LockFields.LEASE_ANNOTATION, "30");
        assertThat(locks.status(fixture.target).state()).isEqualTo(LockState.ACTIVE);

        lock.close();

        assertThat(lock.isHeld()).isFalse();
        assertThat(deployment().ready()).isEqualTo("0/0");
        assertThat(deployment().pods()).isEmpty();
        assertThat(deployment().annotations())
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1")
                .containsEntry(LockFields.HOLDER_ANNOTATION, "");
        assertThat(fixture.cluster.events(fixture.target))
                .extracting(ClusterEvent::reason)
                .containsSubsequence("Acquired", "Released");
    }

    @Test
    void tryAcquireIsEmptyWhileActiveStartingOrReleasing() throws Exception {
        ReplicaLocks first = fixture.locks("build-1");
        ReplicaLocks second = fixture.locks("build-2");

        try (ReplicaLock held = first.acquire(fixture.target, Duration.ofMinutes(1))) {
            assertThat(second.tryAcquire(fixture.target)).isEmpty();
            assertThat(second.status(fixture.target).state()).isEqualTo(LockState.ACTIVE);
        }

        fixture.cluster.faults().podsNeverReady(fixture.target, "ImagePullBackOff");
        fixture.cluster.scale(fixture.target, 1);
        assertThat(second.status(fixture.target).state()).isEqualTo(LockState.STARTING);
        assertThat(second.tryAcquire(fixture.target)).isEmpty();

        fixture.cluster.faults().podsStuckTerminating(fixture.target);
        fixture.cluster.scale(fixture.target, 0);
        assertThat(second.status(fixture.target).state()).isEqualTo(LockState.RELEASING);
        assertThat(second.tryAcquire(fixture.target)).isEmpty();
        assertThat(deployment().replicas()).isZero();
    }

    @Test
    void tokensIncreaseWithEveryAcquisition() throws Exception {
        ReplicaLocks locks = fixture.locks("build-1");
        long previous = 0;
        for (int i = 0; i < 5; i++) {
            try (ReplicaLock lock = locks.tryAcquire(fixture.target).orElseThrow()) {
                assertThat(lock.fencingToken()).isGreaterThan(previous);
                previous = lock.fencingToken();
            }
        }
        assertThat(previous).isEqualTo(5);
    }

    @Test
    void aPodThatNeverBecomesReadyRollsTheLockBackAndSaysWhy() {
        fixture.cluster.faults().podsNeverReady(fixture.target, "ImagePullBackOff");
        ReplicaLocks locks = fixture.locks("build-1");

        assertThatThrownBy(() -> locks.tryAcquire(fixture.target))
                .isInstanceOf(PodNotReadyException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external")
                .hasMessageContaining("ImagePullBackOff")
                .hasMessageContaining("PT2M")
                .satisfies(e -> assertThat(((PodNotReadyException) e).reason()).contains(NAME + "-"));

        assertThat(fixture.elapsed()).isGreaterThanOrEqualTo(Duration.ofMinutes(2));
        assertThat(deployment().replicas()).isZero();
        assertThat(deployment().pods()).isEmpty();
        assertThat(deployment().annotations().getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                .as("holder")
                .isEmpty();
        assertThat(fixture.cluster.events(fixture.target))
                .extracting(ClusterEvent::reason)
                .contains("NotReady", "Released");
    }

    @Test
    void aHolderThatStopsRenewingIsTakenOverAfterItsLeaseWithAFreshPod() throws Exception {
        FakeBackend crashed = fixture.cluster.backend("build-1");
        ReplicaLock old = fixture.locks(crashed, "build-1", LockOptions.defaults())
                .acquire(fixture.target, Duration.ofMinutes(1));
        String oldPod = old.pods().get(0);
        CountDownLatch oldToldLost = new CountDownLatch(1);
        old.onLost(e -> oldToldLost.countDown());
        crashed.disconnect();
        Duration before = fixture.elapsed();

        ReplicaLock taken = fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(5));

        assertThat(taken.fencingToken()).isEqualTo(2);
        assertThat(taken.pods()).singleElement().isNotEqualTo(oldPod);
        assertThat(deployment().pods()).extracting(DeploymentSnapshot.Pod::name).doesNotContain(oldPod);
        assertThat(fixture.elapsed().minus(before)).isGreaterThanOrEqualTo(Duration.ofSeconds(30 + 5));
        assertThat(old.isHeld()).isFalse();
        assertThat(oldToldLost.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(fixture.cluster.events(fixture.target))
                .extracting(ClusterEvent::reason)
                .contains("TakenOver");
        crashed.reconnect();
        assertThatThrownBy(old::close).isInstanceOf(LockLostException.class).hasMessageContaining("token 1");
        assertThat(deployment().annotations()).containsEntry(LockFields.TOKEN_ANNOTATION, "2");
    }

    @Test
    void aRenewingHolderIsNeverTakenOver() throws Exception {
        ReplicaLock held = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));

        assertThatThrownBy(() -> fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(10)))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining("held by 'build-1'")
                .satisfies(
                        e -> assertThat(((LockTimeoutException) e).lastStatus().fencingToken())
                                .isEqualTo(1));

        assertThat(fixture.elapsed()).isGreaterThanOrEqualTo(Duration.ofMinutes(10));
        assertThat(held.isHeld()).isTrue();
        assertThat(deployment().annotations()).containsEntry(LockFields.HOLDER_ANNOTATION, "build-1");
    }

    @Test
    void theShellCleanupStepMakesTheHolderLoseTheLockAndCloseWritesNothing() throws Exception {
        ReplicaLock lock = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<LockLostException> told = new AtomicReference<>();
        lock.onLost(told::set);

        fixture.cluster.scale(fixture.target, 0);

        await().atMost(10, TimeUnit.SECONDS).until(() -> told.get() != null);
        assertThat(lock.isHeld()).isFalse();
        assertThat(told.get()).hasMessageContaining("scaled to 0");
        // Someone reading kubectl describe must see the loss flagged: a Lost event is a Warning.
        assertThat(fixture.cluster.events(fixture.target))
                .extracting(ClusterEvent::reason, ClusterEvent::severity)
                .containsExactly(
                        tuple("Acquired", LockEvent.Severity.NORMAL), tuple("Lost", LockEvent.Severity.WARNING));
        int writes = fixture.cluster.lockWrites().size();
        assertThatThrownBy(lock::close).isInstanceOf(LockLostException.class);
        assertThat(fixture.cluster.lockWrites()).hasSize(writes);
        lock.close(); // a second close does nothing, and does not throw again
    }

    @Test
    void aHolderCutOffFromTheClusterKnowsItLostTheLockAfterItsLease() throws Exception {
        FakeBackend partitioned = fixture.cluster.backend("build-1");
        ReplicaLock lock = fixture.locks(partitioned, "build-1", LockOptions.defaults())
                .acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<LockLostException> told = new AtomicReference<>();
        AtomicReference<Duration> toldAt = new AtomicReference<>();
        lock.onLost(e -> {
            // Read when told: polled from outside, time may have moved on since.
            toldAt.set(fixture.elapsed());
            told.set(e);
        });
        Duration cutAt = fixture.elapsed();

        partitioned.disconnect();

        await().atMost(10, TimeUnit.SECONDS).until(() -> told.get() != null);
        assertThat(told.get()).hasMessageContaining("not renewed for a whole lease");
        assertThat(toldAt.get().minus(cutAt)).isLessThanOrEqualTo(Duration.ofSeconds(30));
        assertThat(lock.isHeld()).isFalse();
    }

    @Test
    void aReleaseThatCannotReachTheClusterThrowsAndTheHoldExpires() throws Exception {
        FakeBackend cutOff = fixture.cluster.backend("build-1");
        ReplicaLock lock =
                fixture.locks(cutOff, "build-1", LockOptions.defaults()).acquire(fixture.target, Duration.ofMinutes(1));
        cutOff.disconnect();

        assertThatThrownBy(lock::close)
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external");

        assertThat(lock.isHeld()).isFalse();
        try (ReplicaLock next = fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(5))) {
            assertThat(next.fencingToken()).isEqualTo(2);
        }
    }

    @Test
    void closeIsIdempotent() throws Exception {
        ReplicaLock lock = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        lock.close();
        int writes = fixture.cluster.lockWrites().size();

        lock.close();

        assertThat(fixture.cluster.lockWrites()).hasSize(writes);
    }

    @Test
    void aBlockedBargingAcquireIsWokenByTheReleaseNotByPolling() throws Exception {
        ReplicaLock held = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<Object> outcome = new AtomicReference<>();
        long readsBefore = fixture.cluster.requests(RequestKind.READ);
        Thread waiter = startAcquire(
                fixture.locks(
                        "build-2",
                        LockOptions.builder().fairness(Fairness.BARGING).build()),
                Duration.ofHours(1),
                outcome);

        int writesBefore = fixture.cluster.lockWrites().size();
        // On the clock, not polled from outside: time must stop before the release, or it could
        // run on to the waiter's deadline first on a loaded machine.
        fixture.sleep(Duration.ofMinutes(10));
        long readsWhileWaiting = fixture.cluster.requests(RequestKind.READ) - readsBefore;
        long renewals = (long) fixture.cluster.lockWrites().size() - writesBefore;
        held.close();
        waiter.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        assertThat(((ReplicaLock) outcome.get()).fencingToken()).isEqualTo(2);
        // The waiter re-reads when its watch reports a change (the holder's renewal every 10 s), never on
        // a timer of its own: a few reads per renewal, where a 100 ms poll would make 6,000.
        assertThat(renewals).isGreaterThanOrEqualTo(50);
        assertThat(readsWhileWaiting).isBetween(1L, 3 * renewals + 2);
    }

    @Test
    void aBlockedFifoAcquireReadsOnlyOnWritesItsOwnRenewalsIncluded() throws Exception {
        ReplicaLock held = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<Object> outcome = new AtomicReference<>();
        long readsBefore = fixture.cluster.requests(RequestKind.READ);
        Thread waiter = startAcquire(fixture.locks("build-2"), Duration.ofHours(1), outcome);

        Duration waitFrom = fixture.elapsed();
        int writesBefore = fixture.cluster.lockWrites().size();
        await().atMost(10, TimeUnit.SECONDS)
                .until(() -> fixture.elapsed().minus(waitFrom).compareTo(Duration.ofMinutes(10)) >= 0);
        long readsWhileWaiting = fixture.cluster.requests(RequestKind.READ) - readsBefore;
        long renewals = (long) fixture.cluster.lockWrites().size() - writesBefore;
        long queueWrites = fixture.cluster.requests(RequestKind.QUEUE_WRITE);
        long waitedMillis = fixture.elapsed().minus(waitFrom).toMillis();
        held.close();
        waiter.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        assertThat(((ReplicaLock) outcome.get()).fencingToken()).isEqualTo(2);
        // A queued waiter renews its entry every 2/3 s (900 writes in 10 min) and reads when one is
        // due and when the watch reports a write, its own included: a few reads per write, no poll.
        assertThat(queueWrites).isBetween(waitedMillis * 3 / 2000 - 10, waitedMillis * 3 / 2000 + 10);
        assertThat(readsWhileWaiting).isBetween(1L, 3 * (renewals + queueWrites) + 2);
    }

    @Test
    void interruptingAWaitingAcquireLeavesNothingBehind() throws Exception {
        try (VirtualClusterFixture stopped = VirtualClusterFixture.stoppedTime()) {
            ReplicaLock held = stopped.locks("build-1").acquire(stopped.target, Duration.ofMinutes(1));
            ReplicaLocks waiting = stopped.locks("build-2");
            AtomicReference<Object> outcome = new AtomicReference<>();
            long watchesBefore = stopped.cluster.requests(RequestKind.WATCH);
            Thread waiter = startAcquire(waiting, stopped, outcome);
            await().atMost(10, TimeUnit.SECONDS)
                    .until(() -> stopped.cluster.requests(RequestKind.WATCH) > watchesBefore);

            waiter.interrupt();
            waiter.join(TimeUnit.SECONDS.toMillis(10));

            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            held.close();
            assertThat(waiting.tryAcquire(stopped.target)).get().satisfies(lock -> {
                assertThat(lock.fencingToken()).isEqualTo(2);
                lock.close();
            });
        }
    }

    @Test
    void interruptingAnAcquireWaitingForReadyReleasesTheLock() throws Exception {
        try (VirtualClusterFixture stopped = VirtualClusterFixture.stoppedTime()) {
            stopped.cluster.faults().podsNeverReady(stopped.target, "ContainerCreating");
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread acquirer = startAcquire(stopped.locks("build-1"), stopped, outcome);
            await().atMost(10, TimeUnit.SECONDS)
                    .until(() -> "build-1"
                            .equals(stopped.cluster
                                    .deployment(stopped.target)
                                    .annotations()
                                    .get(LockFields.HOLDER_ANNOTATION)));

            acquirer.interrupt();
            acquirer.join(TimeUnit.SECONDS.toMillis(10));

            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            DeploymentSnapshot after = stopped.cluster.deployment(stopped.target);
            assertThat(after.replicas()).isZero();
            assertThat(after.annotations().getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                    .as("holder")
                    .isEmpty();
        }
    }

    @Test
    void aLockTakenByTheShellPipelineIsNeverTakenOverByDefault() throws Exception {
        fixture.cluster.scale(fixture.target, 1);

        assertThatThrownBy(() -> fixture.locks("build-1").acquire(fixture.target, Duration.ofHours(2)))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining("held by 'unknown'");
        assertThat(deployment().replicas()).isEqualTo(1);
        assertThat(deployment().annotations().getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                .as("holder")
                .isEmpty();
    }

    @Test
    void aForeignLeaseLetsAShellHoldExpire() throws Exception {
        fixture.cluster.scale(fixture.target, 1);
        LockOptions options =
                LockOptions.builder().foreignLease(Duration.ofMinutes(30)).build();

        ReplicaLock lock = fixture.locks("build-1", options).acquire(fixture.target, Duration.ofHours(2));

        assertThat(lock.fencingToken()).isEqualTo(1);
        assertThat(fixture.elapsed()).isGreaterThanOrEqualTo(Duration.ofMinutes(30));
        assertThat(fixture.cluster.events(fixture.target))
                .extracting(ClusterEvent::message)
                .anySatisfy(m -> assertThat(m).contains("taken over").contains("'unknown'"));
        lock.close();
    }

    @Test
    void podsStuckTerminatingMakeCloseThrowButTheLockIsReleased() throws Exception {
        ReplicaLock lock = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        fixture.cluster.faults().podsStuckTerminating(fixture.target);

        assertThatThrownBy(lock::close)
                .isInstanceOf(ReleaseTimeoutException.class)
                .hasMessageContaining("pods still present after PT1M");

        assertThat(deployment().replicas()).isZero();
        assertThat(deployment().annotations().getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                .as("holder")
                .isEmpty();
        assertThat(fixture.locks("build-2").status(fixture.target).state()).isEqualTo(LockState.RELEASING);
    }

    @Test
    void conflictsFromUnrelatedWritesDoNotLoseTheRace() throws Exception {
        fixture.cluster.faults().conflictOnNextWrites(3);

        assertThat(fixture.locks("build-1").tryAcquire(fixture.target)).isPresent();
    }

    @Test
    void anAcquisitionWhoseResponseWasLostIsStillOurs() throws Exception {
        fixture.cluster.faults().loseNextResponses(1);

        try (ReplicaLock lock =
                fixture.locks("build-1").tryAcquire(fixture.target).orElseThrow()) {
            assertThat(lock.fencingToken()).isEqualTo(1);
            assertThat(deployment().annotations()).containsEntry(LockFields.HOLDER_ANNOTATION, "build-1");
        }
        assertThat(deployment().replicas()).isZero();
    }

    @Test
    void closingReplicaLocksReleasesEveryLockItHolds() throws Exception {
        var second = fixture.cluster.createDeployment(NAMESPACE, "buildah-internal");
        ReplicaLocks locks = fixture.locks("build-1");
        locks.acquire(fixture.target, Duration.ofMinutes(1));
        locks.acquire(second, Duration.ofMinutes(1));

        locks.close();

        assertThat(deployment().ready()).isEqualTo("0/0");
        assertThat(fixture.cluster.deployment(second).ready()).isEqualTo("0/0");
    }

    @Test
    void watchesThatDropFallBackToAPollAndStillSeeTheRelease() throws Exception {
        ReplicaLock held = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<Object> outcome = new AtomicReference<>();
        long watchesBefore = fixture.cluster.requests(RequestKind.WATCH);
        Thread waiter = startAcquire(fixture.locks("build-2"), Duration.ofHours(1), outcome);
        await().atMost(10, TimeUnit.SECONDS).until(() -> fixture.cluster.requests(RequestKind.WATCH) > watchesBefore);

        fixture.cluster.faults().dropWatches(Duration.ofMinutes(5));
        Duration droppedAt = fixture.elapsed();
        held.close();
        waiter.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        // Woken by the jittered fallback poll (at most 5 s), not by the watch coming back after 5 minutes.
        assertThat(fixture.elapsed().minus(droppedAt)).isLessThan(Duration.ofMinutes(1));
        CompletableFuture.runAsync(((ReplicaLock) outcome.get())::close).get(10, TimeUnit.SECONDS);
    }
}
