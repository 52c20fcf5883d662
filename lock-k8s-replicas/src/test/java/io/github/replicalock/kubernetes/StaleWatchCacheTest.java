package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads come from the watch cache, which may lag behind the server: here the mock holds back every
 * watch event while the store moves on. A lagging cache must cost at most a rejected write and a
 * read, never a wrong acquisition (the write is conditional on the server), a lock wrongly thought
 * lost after our own write, or a loop of writes that cannot succeed.
 */
class StaleWatchCacheTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

    private MockCluster cluster;
    private KubernetesReplicaBackend backend;

    @BeforeEach
    void setUp() {
        cluster = MockCluster.crud();
        cluster.createBuilder(BUILDER);
        backend = KubernetesReplicaBackendTest.backend(cluster);
    }

    @AfterEach
    void tearDown() {
        cluster.dispatcher().releaseWatchEvents();
        backend.close();
        cluster.close();
    }

    /** Waits until reads come from the cache alone, then forgets the requests so far. */
    private void warm(Subscription watch) throws InterruptedException {
        await().atMost(Duration.ofSeconds(10)).until(watch::isConnected);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            cluster.clearRequests();
            backend.read(TARGET);
            return cluster.requests().isEmpty();
        });
    }

    private List<String> patches(List<String> requests) {
        return requests.stream().filter(r -> r.startsWith("PATCH ")).toList();
    }

    @Test
    void ourOwnWriteIsReadBackWhileTheWatchLagsBehindIt() throws Exception {
        try (Subscription watch = backend.watch(TARGET, () -> {})) {
            warm(watch);
            cluster.dispatcher().holdWatchEvents();
            LockFields holding = LockFields.free(0).heldBy("build-42", 1, NOW, Duration.ofSeconds(30));

            assertThat(backend.compareAndSet(TARGET, LockFields.free(0), holding))
                    .isTrue();

            // The cache still says replicas 0; serving it would make the engine think its new lock lost.
            assertThat(backend.read(TARGET).fields()).isEqualTo(holding);
            assertThat(cluster.requests()).hasSize(1).allMatch(r -> r.startsWith("PATCH "));

            assertThat(backend.compareAndSet(TARGET, holding, holding.released()))
                    .isTrue();
            assertThat(backend.read(TARGET).fields()).isEqualTo(holding.released());
        }
    }

    @Test
    void aFreshReadAsksTheServerWhileAPlainReadServesTheLaggingCache() throws Exception {
        try (Subscription watch = backend.watch(TARGET, () -> {});
                KubernetesReplicaBackend other = KubernetesReplicaBackendTest.backend(cluster)) {
            warm(watch);
            cluster.dispatcher().holdWatchEvents();
            LockFields holding = LockFields.free(0).heldBy("other", 1, NOW, Duration.ofSeconds(30));
            assertThat(other.compareAndSet(TARGET, LockFields.free(0), holding)).isTrue();
            cluster.clearRequests();

            assertThat(backend.read(TARGET).fields()).as("the cache lags").isEqualTo(LockFields.free(0));
            assertThat(cluster.requests()).isEmpty();

            assertThat(backend.readFresh(TARGET).fields()).isEqualTo(holding);
            assertThat(cluster.requests())
                    .hasSize(2)
                    .first()
                    .isEqualTo("GET /apis/apps/v1/namespaces/" + NAMESPACE + "/deployments/" + BUILDER);
            // What the server said is not forgotten: the next plain read does not go back to the cache's copy.
            assertThat(backend.read(TARGET).fields()).isEqualTo(holding);
        }
    }

    @Test
    void aScaleFromOutsideBetweenReadAndWriteIsNeitherAcquiredOverNorRetriedInALoop() throws Exception {
        try (Subscription watch = backend.watch(TARGET, () -> {});
                ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(backend)
                        .holder("build-42")
                        .options(LockOptions.builder()
                                .readyTimeout(Duration.ofSeconds(10))
                                .releaseTimeout(Duration.ofSeconds(10))
                                // The lock write's path alone: a FIFO waiter would go on to queue and renew.
                                .fairness(Fairness.BARGING)
                                .build())
                        .shutdownHook(false)
                        .build()) {
            warm(watch);
            cluster.dispatcher().holdWatchEvents();
            // kubectl scale --replicas=1, the shell pipeline taking the lock its own way.
            cluster.client
                    .apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(BUILDER)
                    .scale(1);
            cluster.clearRequests();
            assertThat(backend.read(TARGET).fields().replicas())
                    .as("the cache lags: the scale is not in it yet")
                    .isZero();

            assertThatThrownBy(() -> locks.acquire(TARGET, Duration.ofMillis(1500)))
                    .isInstanceOf(LockTimeoutException.class);

            List<String> requests = cluster.requests();
            assertThat(patches(requests)).as("one rejected write, then a wait").hasSize(1);
            assertThat(requests)
                    .as("the write, and one GET to learn why it was rejected")
                    .hasSize(2);
            assertThat(cluster.client
                            .apps()
                            .deployments()
                            .inNamespace(NAMESPACE)
                            .withName(BUILDER)
                            .get()
                            .getMetadata()
                            .getAnnotations())
                    .as("nothing written by the lock")
                    .doesNotContainKey(LockFields.HOLDER_ANNOTATION);
        }
    }

    @Test
    void aLostRaceIsLearnedFromTheWatchWithoutAGet() throws Exception {
        try (Subscription watch = backend.watch(TARGET, () -> {});
                KubernetesReplicaBackend other = KubernetesReplicaBackendTest.backend(cluster)) {
            warm(watch);
            LockFields observed = backend.read(TARGET).fields();
            assertThat(other.compareAndSet(TARGET, observed, observed.heldBy("winner", 1, NOW, Duration.ofSeconds(30))))
                    .isTrue();
            cluster.clearRequests();

            assertThat(backend.compareAndSet(
                            TARGET, observed, observed.heldBy("loser", 1, NOW, Duration.ofSeconds(30))))
                    .isFalse();

            assertThat(cluster.requests()).hasSize(1).allMatch(r -> r.startsWith("PATCH "));
            assertThat(backend.read(TARGET).fields().holder()).isEqualTo("winner");
        }
    }

    @Test
    void aHolderWhoseRenewalsTheWatchHoldsBackIsNotTakenOver() throws Exception {
        LockFields holding = LockFields.free(0).heldBy("holder", 1, Instant.now(), Duration.ofSeconds(1));
        try (KubernetesReplicaBackend holder = KubernetesReplicaBackendTest.backend(cluster)) {
            assertThat(holder.compareAndSet(TARGET, LockFields.free(0), holding))
                    .isTrue();
            try (Subscription watch = backend.watch(TARGET, () -> {});
                    ReplicaLocks locks = ReplicaLocks.builder()
                            .backend(backend)
                            .holder("waiter")
                            .options(LockOptions.builder()
                                    // A FIFO waiter's own queue renewals would bring the holder's
                                    // renewals back in their answers; a barging one sees only the cache.
                                    .fairness(Fairness.BARGING)
                                    .takeoverGrace(Duration.ofMillis(500))
                                    .readyTimeout(Duration.ofSeconds(2))
                                    .build())
                            .shutdownHook(false)
                            .build()) {
                warm(watch);
                // The watch stays connected but goes silent: the renewals below never reach the cache.
                cluster.dispatcher().holdWatchEvents();
                AtomicReference<LockFields> current = new AtomicReference<>(holding);
                ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor();
                try {
                    renewer.scheduleWithFixedDelay(
                            () -> {
                                try {
                                    LockFields renewed = current.get().renewedAt(Instant.now());
                                    if (holder.compareAndSet(TARGET, current.get(), renewed)) {
                                        current.set(renewed);
                                    }
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            300,
                            300,
                            TimeUnit.MILLISECONDS);

                    // The lease (1 s) and the grace pass several times over on the waiter's clock.
                    assertThatThrownBy(() -> locks.acquire(TARGET, Duration.ofSeconds(5)))
                            .isInstanceOf(LockTimeoutException.class);
                } finally {
                    renewer.shutdownNow();
                }
                // The cache alone costs no request: every GET of the Deployment is the engine asking
                // for the fresh read that a takeover needs, and finding the renewals.
                assertThat(cluster.requests())
                        .as("fresh reads before each takeover the stale cache suggested")
                        .contains("GET /apis/apps/v1/namespaces/" + NAMESPACE + "/deployments/" + BUILDER);
                assertThat(holder.read(TARGET).fields())
                        .as("still the holder's, token 1")
                        .satisfies(f -> assertThat(f.holder()).isEqualTo("holder"))
                        .satisfies(f -> assertThat(f.token()).isEqualTo(1));
            }
        }
    }
}
