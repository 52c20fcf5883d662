package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.PodSnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The manifests of {@code examples/k8s/} applied with the real kubectl (their namespace replaced by
 * the test's), and the backend run with nothing but the token of the ServiceAccount they bind: a
 * whole cycle (watch-woken wait, Ready pod, release), a takeover (which deletes the dead holder's
 * pod) and the events. Every request of the ServiceAccount's client is recorded, and none may be
 * refused: a verb missing from the Role fails the test even where the backend copes with the
 * refusal (a watch falls back to polling, an event is best effort).
 */
class RbacApiServerTest {
    private static final String EXAMPLE_NAMESPACE = "apps--droneio--prd";
    private static final String BUILDER = "buildah-external";
    private static final Path EXAMPLES = Path.of("..", "examples", "k8s");

    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("rbac");

    private static KubernetesClient admin;
    private static String namespace;

    @BeforeAll
    static void applyTheExampleManifests() throws IOException {
        admin = server.client();
        namespace = server.namespace();
        Path manifests = Files.createTempDirectory("replica-lock-examples");
        for (String file : List.of("rbac.yaml", "builder-deployment.yaml")) {
            String yaml = Files.readString(EXAMPLES.resolve(file), StandardCharsets.UTF_8);
            assertThat(yaml).as(file).contains("namespace: " + EXAMPLE_NAMESPACE);
            Files.writeString(manifests.resolve(file), yaml.replace(EXAMPLE_NAMESPACE, namespace));
        }
        ApiServer.Result applied = ApiServer.kubectl(Duration.ofSeconds(60), "apply", "-f", manifests.toString());
        assertThat(applied.exitCode()).as("kubectl apply: %s", applied).isZero();
        assertThat(applied.stdout())
                .contains("serviceaccount/replica-lock", "role.rbac.authorization.k8s.io/replica-lock")
                .contains("rolebinding.rbac.authorization.k8s.io/replica-lock", "deployment.apps/" + BUILDER);
    }

    private static String tokenOf(String serviceAccount) {
        return admin.serviceAccounts()
                .inNamespace(namespace)
                .withName(serviceAccount)
                .tokenRequest(new TokenRequestBuilder()
                        .withNewSpec()
                        .withExpirationSeconds(3600L)
                        .endSpec()
                        .build())
                .getStatus()
                .getToken();
    }

    private static ReplicaLocks locks(KubernetesClient client, String holder, Duration lease) {
        return ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.create(client))
                .holder(holder)
                .options(LockOptions.builder()
                        .leaseDuration(lease)
                        .takeoverGrace(Duration.ofSeconds(1))
                        .readyTimeout(Duration.ofSeconds(60))
                        .releaseTimeout(Duration.ofSeconds(60))
                        // Far longer than the test's waits: only the watch can wake a waiter in time.
                        .fallbackPollInterval(Duration.ofMinutes(5))
                        .build())
                .shutdownHook(false)
                .build();
    }

    @Test
    void theExampleServiceAccountNeedsNothingMoreForACycleATakeoverAndItsEvents() throws Exception {
        LockTarget target = LockTarget.of(namespace, BUILDER);
        ApiServer.RecordedRequests requests = new ApiServer.RecordedRequests();
        String token = tokenOf("replica-lock");
        try (KubernetesClient serviceAccount = ApiServer.tokenClient(token, requests);
                ReplicaLocks first = locks(serviceAccount, "build-1", Duration.ofSeconds(30));
                ReplicaLocks second = locks(serviceAccount, "build-2", Duration.ofSeconds(30))) {
            long token1;
            CompletableFuture<ReplicaLock> waiting;
            try (ReplicaLock lock = first.acquire(target, Duration.ofSeconds(60))) {
                token1 = lock.fencingToken();
                assertThat(lock.pods()).hasSize(1);
                waiting = CompletableFuture.supplyAsync(() -> {
                    try {
                        return second.acquire(target, Duration.ofSeconds(60));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                await("the second build waits").during(Duration.ofMillis(500)).until(() -> !waiting.isDone());
            }
            try (ReplicaLock next = waiting.get(30, TimeUnit.SECONDS)) {
                assertThat(next.fencingToken()).isEqualTo(token1 + 1);
            }

            // A holder that died: a hold whose lease ran out, its pod still there; the next build
            // takes over (which deletes that pod) with the ServiceAccount's rights alone.
            KubernetesReplicaBackend adminBackend = KubernetesReplicaBackend.create(admin);
            LockFields free = adminBackend.read(target).fields();
            LockFields dead = free.heldBy("dead-build", free.token() + 1, Instant.now(), Duration.ofSeconds(1));
            assertThat(adminBackend.compareAndSet(target, free, dead)).isTrue();
            await("the dead build's pod Ready")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> adminBackend.read(target).pods().stream()
                                    .filter(PodSnapshot::ready)
                                    .count()
                            == 1);
            String deadPod = adminBackend.read(target).pods().get(0).name();
            adminBackend.close();
            try (ReplicaLock takenOver = first.acquire(target, Duration.ofSeconds(60))) {
                assertThat(takenOver.fencingToken()).isEqualTo(dead.token() + 1);
                assertThat(takenOver.pods()).hasSize(1).doesNotContain(deadPod);
            }
        }

        assertThat(requests.refused())
                .as("requests the Role of examples/k8s/rbac.yaml refused")
                .isEmpty();
        assertThat(requests.count()).isPositive();
        Set<String> reasons = admin.v1().events().inNamespace(namespace).list().getItems().stream()
                .filter(e -> BUILDER.equals(e.getInvolvedObject().getName()))
                .map(Event::getReason)
                .collect(Collectors.toSet());
        assertThat(reasons).contains("Acquired", "Released", "TakenOver");
    }

    @Test
    void aUserWithoutBindingsGetsAccessDeniedNamingTheVerbAndResource() throws Exception {
        LockTarget target = LockTarget.of(namespace, BUILDER);
        KubernetesClient unprivileged = ApiServer.unprivilegedKubeconfig()
                .map(path -> ApiServer.client(Config.fromKubeconfig(path.toFile())))
                .orElseGet(() -> {
                    admin.serviceAccounts()
                            .inNamespace(namespace)
                            .resource(new ServiceAccountBuilder()
                                    .withNewMetadata()
                                    .withName("nobody")
                                    .endMetadata()
                                    .build())
                            .create();
                    return ApiServer.tokenClient(tokenOf("nobody"), new ApiServer.RecordedRequests());
                });
        try (unprivileged;
                ReplicaLocks locks = locks(unprivileged, "intruder", Duration.ofSeconds(30))) {
            assertThatThrownBy(() -> locks.acquire(target, Duration.ofSeconds(10)))
                    .isInstanceOfSatisfying(LockAccessDeniedException.class, e -> {
                        assertThat(e.verb()).isEqualTo("get");
                        assertThat(e.resource()).isEqualTo("deployments");
                        assertThat(e.target()).hasValue(target);
                    })
                    .hasMessageContaining("get")
                    .hasMessageContaining("deployments")
                    .hasMessageContaining(namespace);
            assertThatThrownBy(() -> locks.status(target)).isInstanceOf(LockAccessDeniedException.class);
        }
        assertThat(KubernetesReplicaBackend.create(admin).read(target).fields().holder())
                .as("nothing written")
                .isNotEqualTo("intruder");
    }
}
