package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link CrashTakeoverTest} against a real API server: a child JVM ({@link CrashingHolder}) takes
 * the lock with a 2 s lease and is killed with SIGKILL; this JVM takes over with token + 1, the dead
 * holder's pod deleted (gracefully: the node stand-in finishes it) and a fresh one Ready.
 */
class CrashTakeoverApiServerTest {
    private static final Duration CHILD_START = Duration.ofSeconds(90);

    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("crash");

    private Process child;
    private Path childLog;

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
        LockTarget target = LockTarget.of(server.namespace(), "crash-builder");
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
        childLog = Files.createTempFile("crashing-holder", ".log");
        child = CrashingHolder.start(ApiServer.kubeconfig().toString(), target, 2, "crashing-child", childLog);
        String held = CrashingHolder.awaitFirstLine(child, childLog, CHILD_START);
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
                        .backend(KubernetesReplicaBackend.create(server.client()))
                        .holder("parent")
                        .options(options)
                        .shutdownHook(false)
                        .build();
                ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60))) {
            assertThat(lock.fencingToken()).isEqualTo(childToken + 1);
            assertThat(lock.pods()).hasSize(1).doesNotContain(childPod);
            await("the dead holder's pod deleted")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> server.client()
                                    .pods()
                                    .inNamespace(server.namespace())
                                    .withName(childPod)
                                    .get()
                            == null);
            assertThat(locks.status(target).holder()).hasValue("parent");
        }
    }
}
