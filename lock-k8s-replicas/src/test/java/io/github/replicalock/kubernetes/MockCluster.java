package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.kubernetes.mock.MockServers;
import io.github.replicalock.kubernetes.mock.Rfc6902CrudDispatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A fabric8 mock API server over plain HTTP (much faster to start than https), in CRUD mode with
 * {@link Rfc6902CrudDispatcher}, or in expectation mode; and a client on it.
 */
final class MockCluster implements AutoCloseable {
    static final String NAMESPACE = "apps--droneio--prd";
    static final String BUILDER = "buildah-external";

    KubernetesMockServer server;
    final NamespacedKubernetesClient client;
    private final @Nullable Rfc6902CrudDispatcher dispatcher;

    private MockCluster(KubernetesMockServer server, @Nullable Rfc6902CrudDispatcher dispatcher) {
        this.server = server;
        this.dispatcher = dispatcher;
        server.init();
        this.client = server.createClient();
    }

    /** A CRUD-mode server: it stores what is written, as an API server without controllers. */
    static MockCluster crud() {
        Rfc6902CrudDispatcher dispatcher = new Rfc6902CrudDispatcher();
        return new MockCluster(crudServer(dispatcher), dispatcher);
    }

    private static KubernetesMockServer crudServer(Rfc6902CrudDispatcher dispatcher) {
        return MockServers.crud(dispatcher);
    }

    /**
     * Stops the API server, as a crash or a rolling restart of the control plane does: connections
     * and watches drop, new connections are refused. The store (the dispatcher's map, like etcd)
     * survives for {@link #startAgain()}.
     */
    void stop() {
        server.destroy();
    }

    /**
     * A second API server on another port that shares this one's store, as another replica of an
     * HA control plane shares etcd: it accepts writes while this one is stopped. Close it after use.
     */
    KubernetesMockServer replica() {
        if (dispatcher == null) {
            throw new IllegalStateException("only a CRUD cluster has replicas");
        }
        KubernetesMockServer replica = crudServer(dispatcher);
        replica.init();
        return replica;
    }

    /** Starts a CRUD server again on the same port, with the same store; clients reconnect to it. */
    void startAgain() throws java.net.UnknownHostException {
        if (dispatcher == null) {
            throw new IllegalStateException("only a CRUD cluster can be restarted");
        }
        int port = client.getMasterUrl().getPort();
        server = crudServer(dispatcher);
        server.init(java.net.InetAddress.getByName(client.getMasterUrl().getHost()), port);
    }

    /** An expectation-mode server: it answers what the test scripts with {@code server.expect()}. */
    static MockCluster expectations() {
        return new MockCluster(new KubernetesMockServer(false), null);
    }

    /** A builder Deployment with replicas 0, selector {@code app=<name>}, no annotations. */
    Deployment createBuilder(String name) {
        return createBuilder(name, new LabelSelector(null, Map.of("app", name)), Map.of("app", name));
    }

    Deployment createBuilder(String name, LabelSelector selector, Map<String, String> podLabels) {
        try {
            return client.apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .resource(deployment(name, selector, podLabels))
                    .create();
        } catch (KubernetesClientException e) {
            // On a loaded machine the client's request timeout can fire after the mock has stored the
            // Deployment; fabric8 then sends the POST again and gets 409 for its own first attempt.
            Deployment stored = client.apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(name)
                    .get();
            if (e.getCode() == 409 && stored != null && stored.getSpec().getReplicas() == 0) {
                return stored;
            }
            throw e;
        }
    }

    static Deployment deployment(String name, LabelSelector selector, Map<String, String> podLabels) {
        return deployment(NAMESPACE, name, selector, podLabels);
    }

    static Deployment deployment(String namespace, String name, LabelSelector selector, Map<String, String> podLabels) {
        return MockServers.builder(namespace, name, selector, podLabels);
    }

    /** The CRUD dispatcher, to hold back watch events; fails in expectation mode. */
    Rfc6902CrudDispatcher dispatcher() {
        if (dispatcher == null) {
            throw new IllegalStateException("only a CRUD cluster has a dispatcher");
        }
        return dispatcher;
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
