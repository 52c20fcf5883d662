package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.testkit.LockBackendContract;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole backend contract against a real API server (see {@link ApiServer}): its Deployment and
 * ReplicaSet controllers make the pods, the {@link NodeStandIn} plays the node, and "kubectl scale"
 * is the real kubectl.
 */
class ContractApiServerTest extends LockBackendContract {
    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("contract");

    @Override
    protected LockBackend newBackend() {
        return KubernetesReplicaBackend.create(server.client());
    }

    @Override
    protected String namespace() {
        return server.namespace();
    }

    @Override
    protected Duration patience() {
        return Duration.ofSeconds(60);
    }

    @Override
    protected void createDeployment(LockTarget target) {
        ApiServer.createBuilder(server.client(), target.namespace(), target.name());
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
        server.client()
                .apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"example.com/touched\":\"" + UUID.randomUUID() + "\"}}}");
    }
}
