package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Watches: what fires them, dropping and re-establishing, closing. */
class WatchTest {
    private final VirtualClock clock = VirtualClock.manual();
    private final FakeCluster cluster = FakeCluster.builder()
            .clock(clock)
            .podReadyDelay(Duration.ofSeconds(5))
            .podTerminationDelay(Duration.ofSeconds(3))
            .build();
    private final FakeBackend backend = cluster.backend();
    private final LockTarget target = cluster.createDeployment("ci", "builder");
    private final AtomicInteger changes = new AtomicInteger();

    @AfterEach
    void close() {
        cluster.close();
        clock.close();
    }

    @Test
    void firesOnLockWritesOnScaleAndOnEveryPodTransition() throws InterruptedException {
        backend.watch(target, changes::incrementAndGet);

        backend.compareAndSet(
                target, LockFields.free(0), LockFields.free(0).heldBy("a", 1, clock.now(), Duration.ofSeconds(30)));
        int afterWrite = changes.get();
        clock.advance(Duration.ofSeconds(5)); // the pod becomes Ready
        int afterReady = changes.get();
        cluster.scale(target, 0);
        int afterScale = changes.get();
        clock.advance(Duration.ofSeconds(3)); // the pod is gone
        int afterGone = changes.get();

        assertThat(afterWrite).isPositive();
        assertThat(afterReady).isGreaterThan(afterWrite);
        assertThat(afterScale).isGreaterThan(afterReady);
        assertThat(afterGone).isGreaterThan(afterScale);
    }

    @Test
    void aListenerCanCallBackIntoTheCluster() throws InterruptedException {
        AtomicInteger replicasSeen = new AtomicInteger(-1);
        backend.watch(target, () -> {
            try {
                replicasSeen.set(backend.read(target).fields().replicas());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        cluster.scale(target, 1);

        assertThat(replicasSeen).hasValue(1);
    }

    @Test
    void firesOnlyForItsOwnDeployment() {
        LockTarget other = cluster.createDeployment("ci", "other");
        backend.watch(target, changes::incrementAndGet);

        cluster.scale(other, 1);

        assertThat(changes).hasValue(0);
    }

    @Test
    void aDroppedWatchIsDisconnectedThenReestablishesAndFiresOnce() {
        Subscription watch = backend.watch(target, changes::incrementAndGet);

        cluster.faults().dropWatches(Duration.ofSeconds(2));
        assertThat(watch.isConnected()).isFalse();
        cluster.scale(target, 1); // missed while down
        assertThat(changes).hasValue(0);

        clock.advance(Duration.ofSeconds(2));

        assertThat(watch.isConnected()).isTrue();
        assertThat(changes).hasValue(1);
    }

    @Test
    void droppedWatchesCanBeRestoredAtOnce() {
        Subscription watch = backend.watch(target, changes::incrementAndGet);
        cluster.faults().dropWatches(Duration.ofHours(1));

        cluster.faults().restoreWatches();

        assertThat(watch.isConnected()).isTrue();
        assertThat(changes).hasValue(1);
        clock.advance(Duration.ofHours(1)); // the scheduled re-establishment finds nothing to do
        assertThat(changes).hasValue(1);
    }

    @Test
    void aReconnectingClientReestablishesItsWatchesAndFiresOnce() {
        Subscription watch = backend.watch(target, changes::incrementAndGet);
        backend.disconnect();
        cluster.scale(target, 1);
        assertThat(changes).hasValue(0);

        backend.reconnect();

        assertThat(watch.isConnected()).isTrue();
        assertThat(changes).hasValue(1);
    }

    @Test
    void closingAWatchStopsItAndIsIdempotent() {
        Subscription watch = backend.watch(target, changes::incrementAndGet);

        watch.close();
        watch.close();
        cluster.scale(target, 1);

        assertThat(watch.isConnected()).isFalse();
        assertThat(changes).hasValue(0);
    }

    @Test
    void closingABackendClosesOnlyItsOwnWatches() {
        FakeBackend other = cluster.backend();
        AtomicInteger otherChanges = new AtomicInteger();
        Subscription mine = backend.watch(target, changes::incrementAndGet);
        Subscription theirs = other.watch(target, otherChanges::incrementAndGet);

        backend.close();
        cluster.scale(target, 1);

        assertThat(mine.isConnected()).isFalse();
        assertThat(theirs.isConnected()).isTrue();
        assertThat(changes).hasValue(0);
        assertThat(otherChanges).hasPositiveValue();
    }

    @Test
    void aThrowingListenerDoesNotFailTheWrite() {
        backend.watch(target, () -> {
            throw new IllegalStateException("listener bug");
        });
        backend.watch(target, changes::incrementAndGet);

        cluster.scale(target, 1);

        assertThat(changes).hasPositiveValue();
    }

    @Test
    void aWaiterWokenByAWatchSeesThePodReadyInVirtualTime() throws InterruptedException {
        try (FakeCluster virtual = FakeCluster.builder()
                .virtualTime()
                .podReadyDelay(Duration.ofSeconds(20))
                .build()) {
            LockTarget builder = virtual.createDeployment("ci", "builder");
            FakeBackend client = virtual.backend();
            LockClock time = client.clock();
            LockClock.Wakeup wakeup = time.newWakeup();
            long deadline = time.nanoTime() + Duration.ofMinutes(2).toNanos();
            try (Subscription watch = client.watch(builder, wakeup::signal)) {
                client.compareAndSet(
                        builder,
                        LockFields.free(0),
                        LockFields.free(0).heldBy("me", 1, time.now(), Duration.ofSeconds(30)));
                // The lock algorithm's wait for Ready: re-read on every signal until the deadline.
                boolean ready = false;
                while (!ready && time.nanoTime() < deadline) {
                    ready = client.read(builder).pods().stream().anyMatch(p -> p.usable());
                    if (!ready) {
                        wakeup.awaitUntil(deadline);
                    }
                }
                assertThat(ready).isTrue();
                assertThat(watch.isConnected()).isTrue();
            }
            assertThat(virtual.virtualClock().elapsed()).isEqualTo(Duration.ofSeconds(20));
        }
    }

    @Test
    void dropsAreReestablishedByTheAutoAdvancingClock() {
        try (FakeCluster virtual = FakeCluster.builder().virtualTime().build()) {
            LockTarget builder = virtual.createDeployment("ci", "builder");
            Subscription watch = virtual.backend().watch(builder, changes::incrementAndGet);

            virtual.faults().dropWatches();

            await().until(watch::isConnected);
            assertThat(changes).hasValue(1);
            assertThat(virtual.virtualClock().elapsed()).isEqualTo(Faults.DEFAULT_WATCH_DOWNTIME);
        }
    }
}
