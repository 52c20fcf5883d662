package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockFields;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HTTP failures and how they map, on the mock server's expectation mode. */
class ErrorMappingTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    private static final String DEPLOYMENT = "/apis/apps/v1/namespaces/" + NAMESPACE + "/deployments/" + BUILDER;
    private static final String PODS = "/api/v1/namespaces/" + NAMESPACE + "/pods?labelSelector=app%3D" + BUILDER;
    private static final LockFields HELD =
            LockFields.free(0).heldBy("build-42", 1, Instant.parse("2026-11-25T10:00:00Z"), Duration.ofSeconds(30));

    private MockCluster cluster;
    private KubernetesReplicaBackend backend;

    @BeforeEach
    void setUp() {
        cluster = MockCluster.expectations();
        backend = KubernetesReplicaBackend.builder(cluster.client)
                .maxAttempts(4)
                .initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(5))
                .maxRetryDuration(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void tearDown() {
        backend.close();
        cluster.close();
    }

    private static Deployment deployment(LockFields fields) {
        Deployment d = MockCluster.deployment(
                BUILDER, new LabelSelector(null, Map.of("app", BUILDER)), Map.of("app", BUILDER));
        d.getSpec().setReplicas(fields.replicas());
        d.getMetadata().setResourceVersion("7");
        d.getMetadata()
                .setAnnotations(Map.of(
                        LockFields.HOLDER_ANNOTATION,
                        fields.holder() == null ? "" : fields.holder(),
                        LockFields.TOKEN_ANNOTATION,
                        Long.toString(fields.token())));
        return d;
    }

    private static Status status(int code, String reason) {
        return new StatusBuilder()
                .withStatus("Failure")
                .withCode(code)
                .withReason(reason)
                .withMessage(reason)
                .build();
    }

    @Test
    void forbiddenNamesVerbAndResource() {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(403, status(403, "Forbidden"))
                .always();

        assertThatThrownBy(() -> backend.read(TARGET))
                .isInstanceOfSatisfying(LockAccessDeniedException.class, e -> {
                    assertThat(e.verb()).isEqualTo("get");
                    assertThat(e.resource()).isEqualTo("deployments");
                })
                .hasMessageContaining(NAMESPACE);
    }

    @Test
    void forbiddenPatchNamesPatch() throws Exception {
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(403, status(403, "Forbidden"))
                .always();

        assertThatThrownBy(() -> backend.compareAndSet(TARGET, LockFields.free(0), HELD))
                .isInstanceOfSatisfying(
                        LockAccessDeniedException.class,
                        e -> assertThat(e.verb()).isEqualTo("patch"));
        assertThat(cluster.requests()).hasSize(1);
    }

    @Test
    void forbiddenPodListNamesListPods() {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(LockFields.free(0)))
                .always();
        cluster.server
                .expect()
                .get()
                .withPath(PODS)
                .andReturn(403, status(403, "Forbidden"))
                .always();

        assertThatThrownBy(() -> backend.read(TARGET)).isInstanceOfSatisfying(LockAccessDeniedException.class, e -> {
            assertThat(e.verb()).isEqualTo("list");
            assertThat(e.resource()).isEqualTo("pods");
        });
    }

    @Test
    void notFoundIsTargetNotFound() throws Exception {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(404, status(404, "NotFound"))
                .always();

        assertThatThrownBy(() -> backend.read(TARGET)).isInstanceOf(LockTargetNotFoundException.class);
        assertThat(cluster.requests()).hasSize(1);
    }

    @Test
    void aRejectedTestOperationIsALostRaceAfterOneReread() throws Exception {
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(422, status(422, "Invalid"))
                .once();
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(HELD))
                .once();

        assertThat(backend.compareAndSet(TARGET, LockFields.free(0), HELD)).isFalse();
        assertThat(cluster.requests()).containsExactly("PATCH " + DEPLOYMENT, "GET " + DEPLOYMENT);
    }

    @Test
    void aRetriedWriteThatFindsItsOwnFieldsStoredWasOurs() throws Exception {
        // The first PATCH fails after the server may have applied it (a 503 from a proxy, a timeout);
        // the retry's test operations then fail on our own write, and the re-read shows it.
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(503, status(503, "ServiceUnavailable"))
                .once();
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(422, status(422, "Invalid"))
                .once();
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(HELD))
                .once();

        assertThat(backend.compareAndSet(TARGET, LockFields.free(0), HELD)).isTrue();
        assertThat(cluster.requests())
                .containsExactly("PATCH " + DEPLOYMENT, "PATCH " + DEPLOYMENT, "GET " + DEPLOYMENT);
    }

    @Test
    void aConflictIsDecidedByARereadAndRetriedWhileTheLockFieldsAreUnchanged() throws Exception {
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(409, status(409, "Conflict"))
                .once();
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(LockFields.free(0)))
                .once();
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(HELD))
                .once();

        assertThat(backend.compareAndSet(TARGET, LockFields.free(0), HELD)).isTrue();
        assertThat(cluster.requests())
                .containsExactly("PATCH " + DEPLOYMENT, "GET " + DEPLOYMENT, "PATCH " + DEPLOYMENT);
    }

    @Test
    void serverErrorsAreRetriedThenSucceed() throws Exception {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(500, status(500, "InternalError"))
                .times(2);
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(LockFields.free(3)))
                .always();
        cluster.server
                .expect()
                .get()
                .withPath(PODS)
                .andReturn(200, new io.fabric8.kubernetes.api.model.PodList())
                .always();

        assertThat(backend.read(TARGET).fields().token()).isEqualTo(3);
    }

    @Test
    void persistentServerErrorsMakeTheBackendUnavailableAfterMaxAttempts() throws Exception {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(503, status(503, "ServiceUnavailable"))
                .always();

        assertThatThrownBy(() -> backend.read(TARGET))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("get deployments failed after 4 attempt(s)")
                .hasMessageContaining("HTTP 503");
        assertThat(cluster.requests()).hasSize(4);
    }

    @Test
    void tooManyRequestsWaitsForRetryAfter() throws Exception {
        Status tooMany = new StatusBuilder(status(429, "TooManyRequests"))
                .withNewDetails()
                .withRetryAfterSeconds(1)
                .endDetails()
                .build();
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(429, tooMany)
                .once();
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(200, deployment(HELD))
                .once();
        long start = System.nanoTime();

        assertThat(backend.compareAndSet(TARGET, LockFields.free(0), HELD)).isTrue();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        assertThat(cluster.requests()).hasSize(2);
    }

    @Test
    void aRetryAfterBeyondMaxRetryDurationGivesUpAtOnce() throws Exception {
        try (KubernetesReplicaBackend impatient = KubernetesReplicaBackend.builder(cluster.client)
                .maxRetryDuration(Duration.ofMillis(500))
                .initialBackoff(Duration.ofMillis(1))
                .build()) {
            Status tooMany = new StatusBuilder(status(429, "TooManyRequests"))
                    .withNewDetails()
                    .withRetryAfterSeconds(30)
                    .endDetails()
                    .build();
            cluster.server
                    .expect()
                    .get()
                    .withPath(DEPLOYMENT)
                    .andReturn(429, tooMany)
                    .always();

            assertThatThrownBy(() -> impatient.read(TARGET))
                    .isInstanceOf(LockBackendUnavailableException.class)
                    .hasMessageContaining("maxRetryDuration");
            assertThat(cluster.requests()).hasSize(1);
        }
    }

    @Test
    void badRequestIsNeverRetried() throws Exception {
        cluster.server
                .expect()
                .patch()
                .withPath(DEPLOYMENT)
                .andReturn(400, status(400, "BadRequest"))
                .always();

        assertThatThrownBy(() -> backend.compareAndSet(TARGET, LockFields.free(0), HELD))
                .isInstanceOf(LockException.class)
                .isNotInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("HTTP 400");
        assertThat(cluster.requests()).hasSize(1);
    }

    @Test
    void connectionRefusedIsRetriedThenUnavailable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (KubernetesClient client = new KubernetesClientBuilder()
                        .withConfig(new ConfigBuilder()
                                .withMasterUrl("http://127.0.0.1:" + port)
                                .withRequestRetryBackoffLimit(0)
                                .build())
                        .build();
                KubernetesReplicaBackend unreachable = KubernetesReplicaBackend.builder(client)
                        .maxAttempts(3)
                        .initialBackoff(Duration.ofMillis(1))
                        .maxBackoff(Duration.ofMillis(2))
                        .build()) {
            assertThatThrownBy(() -> unreachable.read(TARGET))
                    .isInstanceOf(LockBackendUnavailableException.class)
                    .hasMessageContaining("after 3 attempt(s)");
        }
    }

    @Test
    void anInterruptedCallerGetsInterruptedException() {
        cluster.server
                .expect()
                .get()
                .withPath(DEPLOYMENT)
                .andReturn(503, status(503, "ServiceUnavailable"))
                .always();
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> backend.read(TARGET)).isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
    }
}
