package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A fabric8 mock API server over plain HTTP (much faster to start than https), in CRUD mode with
 * {@link Rfc6902CrudDispatcher}, or in expectation mode; and a client on it.
 */
final class MockCluster implements AutoCloseable {
    /** The mock logs every request at INFO through java.util.logging; kept referenced so it stays quiet. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(Level.WARNING);
    }

    static final String NAMESPACE = "apps--droneio--prd";
    static final String BUILDER = "buildah-external";

    final KubernetesMockServer server;
    final NamespacedKubernetesClient client;

    private MockCluster(KubernetesMockServer server) {
        this.server = server;
        server.init();
        this.client = server.createClient();
    }

    /** A CRUD-mode server: it stores what is written, as an API server without controllers. */
    static MockCluster crud() {
        return new MockCluster(new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new Rfc6902CrudDispatcher(), false));
    }

    /** An expectation-mode server: it answers what the test scripts with {@code server.expect()}. */
    static MockCluster expectations() {
        return new MockCluster(new KubernetesMockServer(false));
    }

    /** A builder Deployment with replicas 0, selector {@code app=<name>}, no annotations. */
    Deployment createBuilder(String name) {
        return createBuilder(name, new LabelSelector(null, Map.of("app", name)), Map.of("app", name));
    }

    Deployment createBuilder(String name, LabelSelector selector, Map<String, String> podLabels) {
        return client.apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .resource(deployment(name, selector, podLabels))
                .create();
    }

    static Deployment deployment(String name, LabelSelector selector, Map<String, String> podLabels) {
        return deployment(NAMESPACE, name, selector, podLabels);
    }

    static Deployment deployment(String namespace, String name, LabelSelector selector, Map<String, String> podLabels) {
        return new DeploymentBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withNewSpec()
                .withReplicas(0)
                .withSelector(selector)
                .withNewTemplate()
                .withNewMetadata()
                .withLabels(podLabels)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("builder")
                .withImage("quay.io/buildah/stable")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    /** Forgets the requests recorded so far. */
    void clearRequests() throws InterruptedException {
        while (server.takeRequest(50, TimeUnit.MILLISECONDS) != null) {
            // drain
        }
    }

    /** The requests since the last call, as {@code METHOD path}. */
    List<String> requests() throws InterruptedException {
        return requests(false);
    }

    /** As {@link #requests()}, without those of the {@link ControllerSimulation}. */
    List<String> requestsWithoutController() throws InterruptedException {
        return requests(true);
    }

    private List<String> requests(boolean skipController) throws InterruptedException {
        List<String> log = new ArrayList<>();
        RecordedRequest r;
        while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
            String agent = r.getHeader("User-Agent");
            if (!skipController || agent == null || !agent.startsWith(ControllerSimulation.USER_AGENT)) {
                log.add(r.getMethod() + " " + r.getPath());
            }
        }
        return log;
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
