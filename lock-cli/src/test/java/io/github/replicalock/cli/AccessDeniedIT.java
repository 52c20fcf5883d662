package io.github.replicalock.cli;

import static io.github.replicalock.cli.MockApi.BUILDER;
import static io.github.replicalock.cli.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service account without the Role: the API server answers 403, as a real one does, and the CLI
 * says which verb on which resource is missing, with its own exit code.
 */
class AccessDeniedIT {
    @TempDir
    Path dir;

    private final KubernetesMockServer server = new KubernetesMockServer(false);

    @BeforeEach
    void forbidReadingTheDeployment() {
        server.init();
        server.expect()
                .get()
                .withPath("/apis/apps/v1/namespaces/" + NAMESPACE + "/deployments/" + BUILDER)
                .andReturn(
                        403,
                        new StatusBuilder()
                                .withStatus("Failure")
                                .withReason("Forbidden")
                                .withCode(403)
                                .withMessage("deployments.apps \"" + BUILDER + "\" is forbidden: User"
                                        + " \"system:serviceaccount:" + NAMESPACE + ":default\" cannot get resource"
                                        + " \"deployments\" in API group \"apps\" in the namespace \"" + NAMESPACE
                                        + "\"")
                                .build())
                .always();
    }

    @AfterEach
    void stop() {
        server.destroy();
    }

    @Test
    void aForbiddenVerbExitsWith77NamingTheVerbAndResource() throws Exception {
        Path kubeconfig = MockApi.writeKubeconfig(dir, server.url("/"));

        CliProcess run = CliProcess.start(
                dir, Map.of(), "run", BUILDER, "--kubeconfig", kubeconfig.toString(), "--", "touch", "ran");
        CliProcess status = CliProcess.start(dir, Map.of(), "status", BUILDER, "--kubeconfig", kubeconfig.toString());

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(77);
        assertThat(run.stderr().lines())
                .singleElement()
                .asString()
                .contains(NAMESPACE + "/" + BUILDER + ": forbidden: the Role lacks verb 'get' on resource"
                        + " 'deployments' in namespace '" + NAMESPACE + "'");
        assertThat(Files.exists(dir.resolve("ran"))).isFalse();
        assertThat(status.exitCode()).as(status.stderr()).isEqualTo(77);
        assertThat(status.stderr()).contains("the Role lacks verb 'get' on resource 'deployments'");
    }
}
