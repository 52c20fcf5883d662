package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A watch whose API server goes away and comes back: the server is stopped (connections and
 * websockets drop, new connections are refused) and started again on the same port with the same
 * store. While it is down the Deployment is changed through a second server sharing that store,
 * as another replica of an HA control plane would accept a {@code kubectl scale}.
 *
 * <p>What the lock algorithm relies on: {@link Subscription#isConnected()} turns false while the
 * watch is down (the engine then polls), turns true again once both informers watch again, and the
 * listener is called after that, so that a re-read sees what changed meanwhile.
 *
 * <p>What the mock cannot show: a watch that drops and resumes from its last resourceVersion while
 * the server stays up. A real API server replays the events since that version (or answers 410,
 * and the informer lists again, which calls the listener); the CRUD mock ignores the version and
 * sends only new events. The informer here lists again after the failed reconnects, which is the
 * path a real server's 410 takes too.
 */
class DroppedWatchTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);

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
        backend.close();
        cluster.close();
    }

    @Test
    void aWatchReconnectsAfterTheServerRestartsAndReportsWhatChangedMeanwhile() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        try (Subscription watch = backend.watch(TARGET, changes::incrementAndGet)) {
            await().atMost(Duration.ofSeconds(10)).until(watch::isConnected);

            cluster.stop();
            await("watch reported down").atMost(Duration.ofSeconds(10)).until(() -> !watch.isConnected());

            KubernetesMockServer replica = cluster.replica();
            try (KubernetesClient other = replica.createClient()) {
                other.apps()
                        .deployments()
                        .inNamespace(NAMESPACE)
                        .withName(BUILDER)
                        .scale(1);
            } finally {
                replica.destroy();
            }
            int heardWhileDown = changes.get();

            cluster.startAgain();
            await("watch re-established").atMost(Duration.ofSeconds(30)).until(watch::isConnected);
            await("listener called after the watch came back")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> changes.get() > heardWhileDown);

            assertThat(backend.read(TARGET).fields().replicas())
                    .as("a re-read sees the change made while the watch was down")
                    .isEqualTo(1);

            int beforeLaterChange = changes.get();
            cluster.client
                    .apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(BUILDER)
                    .scale(0);
            await("later changes are heard again")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> changes.get() > beforeLaterChange);
            assertThat(watch.isConnected()).isTrue();
        }
    }
}
