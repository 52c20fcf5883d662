package io.github.replicalock.kubernetes.mock;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What lock-k8s-replicas' {@code MockCluster} and lock-benchmarks' {@code MockApi} both need: a CRUD
 * mock server over plain HTTP (much faster to start than https) with {@link Rfc6902CrudDispatcher},
 * quiet, and the builder Deployment the lock runs on.
 */
public final class MockServers {
    /** The mock logs every request at INFO through java.util.logging (about 30% of its time); kept referenced so it stays quiet. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(Level.WARNING);
    }

    private MockServers() {}

    /** A CRUD-mode server on {@code dispatcher}'s store, not started yet ({@code init}). */
    public static KubernetesMockServer crud(Rfc6902CrudDispatcher dispatcher) {
        return new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    }

    /** A builder Deployment: replicas 0, selector {@code app=<name>}, no annotations. */
    public static Deployment builder(String namespace, String name) {
        Map<String, String> labels = Map.of("app", name);
        return builder(namespace, name, new LabelSelector(null, labels), labels);
    }

    /** A builder Deployment with replicas 0 and no annotations. */
    public static Deployment builder(
            String namespace, String name, LabelSelector selector, Map<String, String> podLabels) {
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
}
