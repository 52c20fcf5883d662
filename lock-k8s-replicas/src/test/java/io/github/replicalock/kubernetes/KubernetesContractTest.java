package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.testkit.LockBackendContract;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The backend contract over HTTP: every backend is a new fabric8 client session on one CRUD mock
 * server (shared by the class, it starts in a few ms but the first costs seconds), with {@link
 * ControllerSimulation} playing the deployment controller for the contract's namespace.
 */
class KubernetesContractTest extends LockBackendContract {
    private static MockCluster cluster;
    private static ControllerSimulation controller;

    @BeforeAll
    static void startCluster() {
        cluster = MockCluster.crud();
        controller = ControllerSimulation.start(cluster.client, "contract");
    }

    @AfterAll
    static void stopCluster() {
        controller.close();
        cluster.close();
    }

    @Override
    protected LockBackend newBackend() {
        return KubernetesReplicaBackendTest.backend(cluster);
    }

    @Override
    protected void createDeployment(LockTarget target) {
        Map<String, String> labels = Map.of("app", target.name());
        cluster.client
                .apps()
                .deployments()
                .inNamespace(target.namespace())
                .resource(MockCluster.deployment(
                        target.namespace(), target.name(), new LabelSelector(null, labels), labels))
                .create();
    }

    /** What {@code kubectl scale deployment/x --replicas=n} does: the scale subresource, no condition. */
    @Override
    protected void scaleLikeKubectl(LockTarget target, int replicas) {
        cluster.client
                .apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .scale(replicas);
    }

    /** An unrelated annotation, as a person or a tool might add: only the resourceVersion moves for the lock. */
    @Override
    protected void changeSomethingElse(LockTarget target) {
        cluster.client
                .apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"example.com/touched\":\"" + UUID.randomUUID() + "\"}}}");
    }

    @Override
    protected Duration patience() {
        return Duration.ofSeconds(10);
    }
}
