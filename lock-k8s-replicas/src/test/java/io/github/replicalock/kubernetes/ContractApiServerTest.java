package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.testkit.LockBackendContract;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole backend contract against a real API server (see {@link ApiServer}): its Deployment and
 * ReplicaSet controllers make the pods, the {@link NodeStandIn} plays the node, and "kubectl scale"
 * is the real kubectl.
 */
class ContractApiServerTest extends LockBackendContract {
    private static KubernetesClient client;
    private static String namespace;
    private static NodeStandIn node;

    @BeforeAll
    static void connect() {
        client = ApiServer.adminClient();
        namespace = ApiServer.createNamespace(client, "contract");
        node = NodeStandIn.builder(client, namespace).start();
    }

    @AfterAll
    static void cleanUp() {
        if (client != null) {
            try {
                if (node != null) {
                    node.close();
                }
                ApiServer.deleteNamespace(client, namespace);
            } finally {
                client.close();
            }
        }
    }

    @Override
    protected LockBackend newBackend() {
        return KubernetesReplicaBackend.create(client);
    }

    @Override
    protected String namespace() {
        return namespace;
    }

    @Override
    protected Duration patience() {
        return Duration.ofSeconds(60);
    }

    @Override
    protected void createDeployment(LockTarget target) {
        ApiServer.createBuilder(client, target.namespace(), target.name());
    }

    @Override
    protected void scaleLikeKubectl(LockTarget target, int replicas) {
        ApiServer.Result result = ApiServer.kubectl(
                Duration.ofSeconds(30),
                "scale",
                "-n",
                target.namespace(),
                "deployment/" + target.name(),
                "--replicas=" + replicas);
        assertThat(result.exitCode()).as("kubectl scale: %s", result).isZero();
    }

    @Override
    protected void changeSomethingElse(LockTarget target) {
        client.apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"example.com/touched\":\"" + UUID.randomUUID() + "\"}}}");
    }
}
