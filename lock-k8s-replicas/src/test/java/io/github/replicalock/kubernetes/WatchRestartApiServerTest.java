package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A waiter's watch broken by restarting the API server while it waits: once the server is back and
 * the holder releases, the waiter is woken by its re-established watch (its fallback poll is set far
 * beyond the test's patience) and gets the lock with a Ready pod. Needs {@value
 * ApiServer#RESTART_ENV} (set by {@code scripts/control-plane env}); skipped on a cluster of your own.
 */
class WatchRestartApiServerTest {
    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("restart");

    @BeforeAll
    static void needsARestartCommand() {
        Assumptions.assumeTrue(
                ApiServer.restartCommand().isPresent(),
                ApiServer.RESTART_ENV + " is not set: cannot restart this API server");
    }

    private static ReplicaLocks locks(String holder) {
        return ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.create(server.client()))
                .holder(holder)
                .options(LockOptions.builder()
                        .leaseDuration(Duration.ofMinutes(2))
                        .readyTimeout(Duration.ofSeconds(60))
                        .releaseTimeout(Duration.ofSeconds(60))
                        .fallbackPollInterval(Duration.ofMinutes(10))
                        .build())
                .shutdownHook(false)
                .build();
    }

    @Test
    void aWaiterWhoseWatchBrokeWithAnApiServerRestartIsStillWokenByTheRelease() throws Exception {
        LockTarget target = LockTarget.of(server.namespace(), "restart-builder");
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
        try (ReplicaLocks holderLocks = locks("holder");
                ReplicaLocks waiterLocks = locks("waiter")) {
            ReplicaLock held = holderLocks.acquire(target, Duration.ofSeconds(60));
            CompletableFuture<ReplicaLock> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return waiterLocks.acquire(target, Duration.ofMinutes(3));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await("the waiter waits").during(Duration.ofSeconds(1)).until(() -> !waiting.isDone());

            restartApiServer();
            await("the API server answers again")
                    .atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() -> server.client()
                                    .apps()
                                    .deployments()
                                    .inNamespace(server.namespace())
                                    .withName(target.name())
                                    .get()
                            != null);
            assertThat(held.isHeld())
                    .as("the holder kept its lock through the restart")
                    .isTrue();
            assertThat(waiting).isNotDone();

            long released = System.nanoTime();
            held.close();
            try (ReplicaLock lock = waiting.get(45, TimeUnit.SECONDS)) {
                Duration handoff = Duration.ofNanos(System.nanoTime() - released);
                System.out.println("handoff after the API server restart: " + handoff.toMillis() + " ms");
                assertThat(lock.fencingToken()).isEqualTo(held.fencingToken() + 1);
                assertThat(lock.pods()).hasSize(1);
            }
        }
    }

    private static void restartApiServer() throws Exception {
        String command = ApiServer.restartCommand().orElseThrow();
        Process process = new ProcessBuilder("bash", "-c", command)
                .redirectErrorStream(true)
                .start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish within 120 s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("%s: %s", command, output).isZero();
    }
}
