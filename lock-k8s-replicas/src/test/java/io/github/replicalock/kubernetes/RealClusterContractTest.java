package io.github.replicalock.kubernetes;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.testkit.LockBackendContract;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The backend contract against a real cluster: the one {@code KUBECONFIG} (or {@code
 * ~/.kube/config}) names, its current context and credentials. Run only by the {@code e2e} profile:
 *
 * <pre>{@code
 * KUBECONFIG=~/.kube/kind-config ./mvnw -B -Pe2e -pl lock-k8s-replicas -am verify \
 *     -Dreplicalock.e2e.namespace=replica-lock-e2e -Dreplicalock.e2e.image=busybox:1.36
 * }</pre>
 *
 * <p>Deployments come from {@code e2e/builder-deployment.yaml} (a busybox whose readiness probe
 * passes at once), labelled {@code replicalock.io/e2e=true}; they are deleted after the class, and
 * leftovers of an interrupted run before it. The namespace is created if missing (and kept).
 */
class RealClusterContractTest extends LockBackendContract {
    /** Every object the e2e run creates carries this label with value {@code true}. */
    static final String E2E_LABEL = "replicalock.io/e2e";

    private static final String NAMESPACE = System.getProperty("replicalock.e2e.namespace", "replica-lock-e2e");
    private static final String IMAGE = System.getProperty("replicalock.e2e.image", "busybox:1.36");
    private static final Duration PATIENCE = Duration.ofSeconds(Long.getLong("replicalock.e2e.patienceSeconds", 120));

    private static KubernetesClient client;

    @BeforeAll
    static void connect() {
        String kubeconfig = System.getenv("KUBECONFIG");
        Path home = Path.of(System.getProperty("user.home"), ".kube", "config");
        if ((kubeconfig == null || kubeconfig.isBlank()) && !Files.exists(home)) {
            throw new IllegalStateException("-Pe2e needs a cluster: set KUBECONFIG (or create " + home
                    + ") to a cluster where you may create deployments in namespace " + NAMESPACE);
        }
        client = new KubernetesClientBuilder().build();
        try {
            if (client.namespaces().withName(NAMESPACE).get() == null) {
                client.namespaces()
                        .resource(new NamespaceBuilder()
                                .withNewMetadata()
                                .withName(NAMESPACE)
                                .endMetadata()
                                .build())
                        .create();
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 403) {
                throw e;
            }
            // Allowed in the namespace only: it must exist already, and the first create says so if not.
        }
        deleteTestDeployments();
    }

    @AfterAll
    static void cleanUp() {
        if (client != null) {
            try {
                deleteTestDeployments();
            } finally {
                client.close();
            }
        }
    }

    private static void deleteTestDeployments() {
        client.apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withLabel(E2E_LABEL, "true")
                .withPropagationPolicy(DeletionPropagation.BACKGROUND)
                .delete();
        // The garbage collector deletes their ReplicaSets and pods; deleting the pods too does not
        // wait for it (and works where there is none).
        client.pods().inNamespace(NAMESPACE).withLabel(E2E_LABEL, "true").delete();
        await("test deployments and their pods deleted from " + NAMESPACE)
                .atMost(PATIENCE)
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> client.apps()
                                .deployments()
                                .inNamespace(NAMESPACE)
                                .withLabel(E2E_LABEL, "true")
                                .list()
                                .getItems()
                                .isEmpty()
                        && client.pods()
                                .inNamespace(NAMESPACE)
                                .withLabel(E2E_LABEL, "true")
                                .list()
                                .getItems()
                                .isEmpty());
    }

    /** The template with its placeholders filled in. */
    static Deployment deployment(KubernetesClient client, String namespace, String name, String image) {
        String yaml;
        try (InputStream in = Objects.requireNonNull(
                RealClusterContractTest.class.getResourceAsStream("/e2e/builder-deployment.yaml"),
                "e2e/builder-deployment.yaml on the test class path")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        String filled = yaml.replace("${NAME}", name).replace("${IMAGE}", image);
        Deployment deployment = client.apps()
                .deployments()
                .load(new ByteArrayInputStream(filled.getBytes(StandardCharsets.UTF_8)))
                .item();
        deployment.getMetadata().setNamespace(namespace);
        return deployment;
    }

    @Override
    protected LockBackend newBackend() {
        // The client stays the test's; each backend has its own watches and derived HTTP settings.
        return KubernetesReplicaBackend.create(client);
    }

    @Override
    protected String namespace() {
        return NAMESPACE;
    }

    @Override
    protected Duration patience() {
        return PATIENCE;
    }

    @Override
    protected void createDeployment(LockTarget target) {
        client.apps()
                .deployments()
                .inNamespace(target.namespace())
                .resource(deployment(client, target.namespace(), target.name(), IMAGE))
                .create();
    }

    /** {@code kubectl scale}: the scale subresource, unconditional, annotations untouched. */
    @Override
    protected void scaleLikeKubectl(LockTarget target, int replicas) {
        client.apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .scale(replicas);
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
