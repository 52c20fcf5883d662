package io.github.replicalock.kubernetes.apiserver;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's own namespace on the real API server, with an administrator's client and a {@link
 * NodeStandIn} for its pods; the namespace is deleted and the node closed after the class.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ApiServerNamespace server = new ApiServerNamespace("contract");
 *
 * @Test
 * void something() {
 *     ApiServer.createBuilder(server.client(), server.namespace(), "builder");
 * }
 * }</pre>
 */
public final class ApiServerNamespace implements BeforeAllCallback, AfterAllCallback {
    private final String purpose;
    private @Nullable KubernetesClient client;
    private @Nullable String namespace;
    private @Nullable NodeStandIn node;

    /** A namespace {@code rl-<purpose>-<random>}. */
    public ApiServerNamespace(String purpose) {
        this.purpose = purpose;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        KubernetesClient admin = ApiServer.adminClient();
        client = admin;
        namespace = ApiServer.createNamespace(admin, purpose);
        node = NodeStandIn.builder(admin, namespace).start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        KubernetesClient admin = client;
        if (admin == null) {
            return;
        }
        try {
            if (node != null) {
                node.close();
            }
            if (namespace != null) {
                ApiServer.deleteNamespace(admin, namespace);
            }
        } finally {
            admin.close();
            client = null;
        }
    }

    /** The administrator's client. */
    public KubernetesClient client() {
        return Objects.requireNonNull(client, "used before the class started");
    }

    /** The namespace's name. */
    public String namespace() {
        return Objects.requireNonNull(namespace, "used before the class started");
    }

    /** The node stand-in of the namespace's pods. */
    public NodeStandIn node() {
        return Objects.requireNonNull(node, "used before the class started");
    }
}
