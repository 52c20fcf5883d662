package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Builder pods that misbehave on a real API server: one that never turns Ready (its image cannot be
 * pulled) makes acquisition roll back with the pod's waiting reason, and one that never finishes
 * terminating makes the release time out, the lock given back all the same.
 */
class PodFailureApiServerTest {
    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("pods");

    private static ReplicaLocks locks(Duration readyTimeout, Duration releaseTimeout) {
        return ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.create(server.client()))
                .holder("build-1")
                .options(LockOptions.builder()
                        .readyTimeout(readyTimeout)
                        .releaseTimeout(releaseTimeout)
                        .build())
                .shutdownHook(false)
                .build();
    }

    @Test
    void aPodStuckInImagePullBackOffRollsTheAcquisitionBackWithItsReason() throws Exception {
        LockTarget target = LockTarget.of(server.namespace(), "unpullable");
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
        server.node().keepNotReady(target.name(), "ImagePullBackOff");
        try (ReplicaLocks locks = locks(Duration.ofSeconds(3), Duration.ofSeconds(60))) {
            assertThatThrownBy(() -> locks.acquire(target, Duration.ofSeconds(60)))
                    .isInstanceOfSatisfying(
                            PodNotReadyException.class,
                            e -> assertThat(e.reason())
                                    .contains("ImagePullBackOff")
                                    .contains("registry.invalid/replica-lock/builder"))
                    .hasMessageContaining(target.name());

            LockFields after = KubernetesReplicaBackend.create(server.client())
                    .read(target)
                    .fields();
            assertThat(after.replicas()).as("rolled back").isZero();
            assertThat(after.holder()).isNull();
            assertThat(after.token()).as("the token was spent").isEqualTo(1);
            await("the unready pod deleted")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> server.client()
                            .pods()
                            .inNamespace(server.namespace())
                            .withLabel(NodeStandIn.APP_LABEL, target.name())
                            .list()
                            .getItems()
                            .isEmpty());

            server.node().behaveNormally(target.name());
            try (ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60))) {
                assertThat(lock.fencingToken()).isEqualTo(2);
            }
        }
    }

    @Test
    void aPodStuckTerminatingMakesTheReleaseTimeOutWithTheLockGivenBack() throws Exception {
        LockTarget target = LockTarget.of(server.namespace(), "sticky");
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
        try (ReplicaLocks locks = locks(Duration.ofSeconds(60), Duration.ofSeconds(2))) {
            ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60));
            String pod = lock.pods().get(0);
            server.node().keepTerminating(target.name());
            assertThatThrownBy(lock::close)
                    .isInstanceOf(ReleaseTimeoutException.class)
                    .hasMessageContaining(pod);
            LockFields after = KubernetesReplicaBackend.create(server.client())
                    .read(target)
                    .fields();
            assertThat(after.replicas()).isZero();
            assertThat(after.holder()).isNull();
            assertThat(server.client()
                            .pods()
                            .inNamespace(server.namespace())
                            .withName(pod)
                            .get()
                            .getMetadata()
                            .getDeletionTimestamp())
                    .as("still terminating")
                    .isNotNull();
            server.node().behaveNormally(target.name());
            try (ReplicaLock next = locks.acquire(target, Duration.ofSeconds(60))) {
                assertThat(next.fencingToken()).isEqualTo(lock.fencingToken() + 1);
                assertThat(next.pods()).doesNotContain(pod);
            }
        }
    }
}
