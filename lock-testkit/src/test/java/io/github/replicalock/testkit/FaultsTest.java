package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each scriptable fault, seen through the SPI, in virtual time. */
class FaultsTest {
    private final FakeCluster cluster = FakeCluster.builder().virtualTime().build();
    private final FakeBackend backend = cluster.backend("build-1");
    private final LockTarget target = cluster.createDeployment("ci", "builder");

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void transientErrorsAreRetriedWithABackoffOnTheClusterClock() throws InterruptedException {
        cluster.faults().failNextRequests(2);
        Duration before = cluster.virtualClock().elapsed();

        assertThat(backend.read(target).fields()).isEqualTo(LockFields.free(0));

        assertThat(cluster.faults().remainingFailures()).isZero();
        // 10 ms after the first failure, 20 ms after the second.
        assertThat(cluster.virtualClock().elapsed().minus(before)).isEqualTo(Duration.ofMillis(30));
        assertThat(cluster.requests(RequestKind.READ)).isEqualTo(1);
    }

    @Test
    void transientErrorsBeyondTheRetriesSurfaceAsUnavailable() {
        cluster.faults().failNextRequests(3);

        assertThatThrownBy(() -> backend.compareAndSet(target, LockFields.free(0), LockFields.free(1)))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("ci/builder")
                .hasMessageContaining("compare-and-set failed 3 times")
                .hasMessageContaining("503");
        assertThat(cluster.deployment(target).annotations()).isEmpty();
    }

    @Test
    void clearedFailuresAreNotInjected() throws InterruptedException {
        cluster.faults().failNextRequests(5).clearFailures();

        backend.read(target);

        assertThat(cluster.virtualClock().elapsed()).isZero();
    }

    @Test
    void aWriteWhoseResponseWasLostIsRecognisedOnRetry() throws InterruptedException {
        LockFields held =
                LockFields.free(0).heldBy("build-1", 1, cluster.clock().now(), Duration.ofSeconds(30));
        cluster.faults().loseNextResponses(1);

        boolean won = backend.compareAndSet(target, LockFields.free(0), held);

        // The retry finds its own write stored and says so, rather than reporting a lost race.
        assertThat(won).isTrue();
        assertThat(backend.read(target).fields()).isEqualTo(held);
        assertThat(cluster.lockWrites()).hasSize(1);
        assertThat(cluster.faults().remainingLostResponses()).isZero();
    }

    @Test
    void aLostRenewalResponseIsRetriedAndSucceeds() throws InterruptedException {
        Instant now = cluster.clock().now();
        LockFields held = LockFields.free(0).heldBy("build-1", 1, now, Duration.ofSeconds(30));
        backend.compareAndSet(target, LockFields.free(0), held);
        cluster.faults().loseNextResponses(1);

        // Same replicas, holder and token: the retry still matches and writes again.
        assertThat(backend.compareAndSet(target, held, held.renewedAt(now.plusSeconds(10))))
                .isTrue();
        assertThat(cluster.lockWrites()).hasSize(3);
    }

    @Test
    void latencyIsWaitedOnTheVirtualClock() throws InterruptedException {
        cluster.faults().latency(Duration.ofSeconds(2));

        backend.read(target);
        backend.compareAndSet(target, LockFields.free(0), LockFields.free(0));

        assertThat(cluster.virtualClock().elapsed()).isEqualTo(Duration.ofSeconds(4));
        cluster.faults().clearLatency();
        backend.read(target);
        assertThat(cluster.virtualClock().elapsed()).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aForbiddenVerbIsDeniedNamingVerbAndResource() throws InterruptedException {
        cluster.faults().forbid("patch", "deployments");

        assertThatThrownBy(() -> backend.compareAndSet(target, LockFields.free(0), LockFields.free(1)))
                .isInstanceOfSatisfying(LockAccessDeniedException.class, e -> {
                    assertThat(e.verb()).isEqualTo("patch");
                    assertThat(e.resource()).isEqualTo("deployments");
                })
                .hasMessageContaining("ci/builder");
        backend.read(target); // get and list are still allowed

        cluster.faults().allow("patch", "deployments");
        assertThat(backend.compareAndSet(target, LockFields.free(0), LockFields.free(1)))
                .isTrue();
    }

    @Test
    void everyRequestNeedsItsOwnVerbs() {
        cluster.faults()
                .forbid("list", "pods")
                .forbid("watch", "pods")
                .forbid("delete", "pods")
                .forbid("create", "events");

        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOfSatisfying(
                        LockAccessDeniedException.class,
                        e -> assertThat(e.verb()).isEqualTo("list"));
        assertThatThrownBy(() -> backend.watch(target, () -> {}))
                .isInstanceOfSatisfying(
                        LockAccessDeniedException.class,
                        e -> assertThat(e.verb()).isEqualTo("watch"));
        assertThatThrownBy(() -> backend.deletePods(target, List.of("builder-abcde")))
                .isInstanceOfSatisfying(
                        LockAccessDeniedException.class,
                        e -> assertThat(e.verb()).isEqualTo("delete"));

        backend.recordEvent(target, new LockEvent(LockEvent.Kind.ACQUIRED, "never throws"));
        assertThat(cluster.events(target)).isEmpty();
    }

    @Test
    void aDisconnectedClientCannotReachTheClusterButOthersCan() throws InterruptedException {
        FakeBackend other = cluster.backend("build-2");
        Subscription watch = backend.watch(target, () -> {});

        backend.disconnect();

        assertThat(backend.isConnected()).isFalse();
        assertThat(watch.isConnected()).isFalse();
        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("ci/builder")
                .hasMessageContaining("build-1");
        assertThatThrownBy(() -> backend.watch(target, () -> {})).isInstanceOf(LockBackendUnavailableException.class);
        backend.recordEvent(target, new LockEvent(LockEvent.Kind.LOST, "never throws"));
        other.read(target);

        backend.reconnect();
        assertThat(watch.isConnected()).isTrue();
        backend.read(target);
    }

    @Test
    void clearAllClearsEveryFault() throws InterruptedException {
        cluster.faults()
                .conflictOnNextWrites(3)
                .failNextRequests(3)
                .loseNextResponses(3)
                .latency(Duration.ofSeconds(1))
                .forbid("get", "deployments")
                .podsNeverReady("ci", "builder", "ImagePullBackOff")
                .podsStuckTerminating("ci", "builder");

        cluster.faults().clearAll();

        backend.read(target);
        cluster.scale(target, 1);
        assertThat(cluster.ready(target)).isEqualTo("1/1");
        cluster.scale(target, 0);
        assertThat(cluster.ready(target)).isEqualTo("0/0");
        assertThat(cluster.virtualClock().elapsed()).isZero();
        assertThat(cluster.faults().remainingConflicts()).isZero();
    }

    @Test
    void aClosedBackendIsAProgrammingErrorButItsClusterGoesOn() throws InterruptedException {
        backend.close();

        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("build-1");
        cluster.backend().read(target);
    }

    @Test
    void aClosedClusterIsUnreachable() {
        cluster.close();

        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("closed");
        assertThat(cluster.ready(target)).isEqualTo("0/0");
    }

    @Test
    void rejectsBadFaultArguments() {
        assertThatThrownBy(() -> cluster.faults().failNextRequests(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> cluster.faults().latency(Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("latency");
    }
}
