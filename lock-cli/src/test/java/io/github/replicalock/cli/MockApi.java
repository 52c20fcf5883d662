package io.github.replicalock.cli;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.kubernetes.mock.MockServers;
import io.github.replicalock.kubernetes.mock.Rfc6902CrudDispatcher;
import io.github.replicalock.spi.LockFields;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * fabric8's CRUD mock API server over plain HTTP with lock-k8s-replicas' fixes and its controller
 * simulation (pods created, Ready, deleted as replicas ask), a client on it for the test's own
 * look and the shell's {@code kubectl scale}, and a kubeconfig file for the CLI processes.
 */
final class MockApi implements AutoCloseable {
    static final String NAMESPACE = "apps--droneio--prd";
    static final String BUILDER = "buildah-external";

    final KubernetesMockServer server;
    final NamespacedKubernetesClient client;
    final ControllerSimulation controller;
    final Path kubeconfig;

    MockApi(Path dir) throws IOException {
        server = MockServers.crud(new Rfc6902CrudDispatcher());
        server.init();
        client = server.createClient();
        controller = ControllerSimulation.start(client, NAMESPACE);
        client.apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .resource(MockServers.builder(NAMESPACE, BUILDER))
                .create();
        kubeconfig = writeKubeconfig(dir, client.getMasterUrl().toString());
    }

    /** A kubeconfig whose current context ({@code mock}) is the server at {@code serverUrl}, namespace {@link #NAMESPACE}. */
    static Path writeKubeconfig(Path dir, String serverUrl) throws IOException {
        Path kubeconfig = dir.resolve("kubeconfig");
        String url = serverUrl.replaceAll("/$", "");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster:
                    server: %s
                contexts:
                - name: mock
                  context:
                    cluster: mock
                    user: ci
                    namespace: %s
                - name: elsewhere
                  context:
                    cluster: mock
                    user: ci
                    namespace: other
                current-context: mock
                users:
                - name: ci
                  user:
                    token: not-a-secret
                """.formatted(url, NAMESPACE));
        return kubeconfig;
    }

    Deployment builder() {
        return Objects.requireNonNull(
                client.apps()
                        .deployments()
                        .inNamespace(NAMESPACE)
                        .withName(BUILDER)
                        .get(),
                "builder deployment");
    }

    int replicas() {
        return builder().getSpec().getReplicas();
    }

    Map<String, String> annotations() {
        Map<String, String> a = builder().getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }

    String holder() {
        return annotations().getOrDefault(LockFields.HOLDER_ANNOTATION, "");
    }

    long token() {
        return Long.parseLong(annotations().getOrDefault(LockFields.TOKEN_ANNOTATION, "0"));
    }

    /** What the old shell cleanup step does: {@code kubectl scale deployment X --replicas=0}, no questions asked. */
    void scaleToZeroLikeTheShell() {
        client.apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":0}}");
    }

    long podCount() {
        return client.pods().inNamespace(NAMESPACE).withLabel("app", BUILDER).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .count();
    }

    @Override
    public void close() {
        controller.close();
        client.close();
        server.destroy();
    }
}
