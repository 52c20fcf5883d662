package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CrashTakeoverTest} against a real API server: a child JVM ({@link CrashingHolder}) takes
 * the lock with a 2 s lease and is killed with SIGKILL; this JVM takes over with token + 1, the dead
 * holder's pod deleted (gracefully: the node stand-in finishes it) and a fresh one Ready.
 */
class CrashTakeoverApiServerTest {
    private static final Duration CHILD_START = Duration.ofSeconds(90);

    private static KubernetesClient client;
    private static String namespace;
    private static NodeStandIn node;

    private Process child;
    private Path childLog;

    @BeforeAll
    static void connect() {
        client = ApiServer.adminClient();
        namespace = ApiServer.createNamespace(client, "crash");
        node = NodeStandIn.builder(client, namespace).start();
    }

    @AfterAll
    static void cleanUp() {
        if (client != null) {
            try {
                if (node != null) {
                    node.close();
                }
                ApiServer.deleteNamespace(client, namespace);
            } finally {
                client.close();
            }
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (childLog != null) {
            Files.deleteIfExists(childLog);
        }
    }

    @Test
    void aHolderKilledWithSigkillIsTakenOverWithTheNextTokenAndAFreshPod() throws Exception {
        LockTarget target = LockTarget.of(namespace, "crash-builder");
        ApiServer.createBuilder(client, namespace, target.name());
        childLog = Files.createTempFile("crashing-holder", ".log");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        child = new ProcessBuilder(List.of(
                        java.toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC",
                        CrashingHolder.class.getName(),
                        ApiServer.kubeconfig().toString(),
                        target.namespace(),
                        target.name(),
                        "2",
                        "crashing-child"))
                .redirectError(childLog.toFile())
                .start();
        String held = firstLine(child);
        assertThat(held)
                .as("child's report; its log:%n%s", Files.readString(childLog))
                .startsWith("HELD ");
        long childToken = Long.parseLong(held.split(" ")[1]);
        String childPod = held.split(" ")[2];

        child.destroyForcibly(); // SIGKILL: no shutdown hook, no release
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).as("child died").isTrue();

        LockOptions options = LockOptions.builder()
                .leaseDuration(Duration.ofSeconds(2))
                .takeoverGrace(Duration.ofSeconds(1))
                .readyTimeout(Duration.ofSeconds(60))
                .releaseTimeout(Duration.ofSeconds(60))
                .build();
        try (ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(KubernetesReplicaBackend.create(client))
                        .holder("parent")
                        .options(options)
                        .shutdownHook(false)
                        .build();
                ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60))) {
            assertThat(lock.fencingToken()).isEqualTo(childToken + 1);
            assertThat(lock.pods()).hasSize(1).doesNotContain(childPod);
            await("the dead holder's pod deleted")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> client.pods()
                                    .inNamespace(namespace)
                                    .withName(childPod)
                                    .get()
                            == null);
            assertThat(locks.status(target).holder()).hasValue("parent");
        }
    }

    private String firstLine(Process process) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return String.valueOf(
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                                .readLine());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            return line.get(CHILD_START.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(
                    "child did not take the lock within " + CHILD_START + "; its log:\n" + Files.readString(childLog));
        }
    }
}
