package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A holder process that dies without a word: a child JVM ({@link CrashingHolder}) takes the lock
 * through this backend against the same mock API server with a 2 s lease, and is killed with
 * SIGKILL ({@link Process#destroyForcibly()}: no shutdown hook, no release). The parent's {@code
 * acquire} must take over once the lease and the grace have passed on its own clock: token + 1, the
 * dead holder's pod deleted and a fresh one (another name) Ready. Terminated with SIGTERM instead,
 * the child's shutdown hook gives the lock back at once.
 */
class CrashTakeoverTest {
    private static final String DEPLOYMENT = "crash-builder";
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, DEPLOYMENT);
    private static final Duration CHILD_START = Duration.ofSeconds(60);

    private MockCluster cluster;
    private ControllerSimulation controller;
    private Process child;
    private Path childLog;

    @BeforeEach
    void setUp() throws Exception {
        cluster = MockCluster.crud();
        cluster.createBuilder(DEPLOYMENT);
        controller = ControllerSimulation.start(cluster.client, NAMESPACE);
        childLog = Files.createTempFile("crashing-holder", ".log");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        controller.close();
        cluster.close();
        Files.deleteIfExists(childLog);
    }

    private Process startChild() throws Exception {
        return startChild(2);
    }

    private Process startChild(int leaseSeconds) throws Exception {
        return CrashingHolder.start(
                cluster.client.getMasterUrl().toString(), TARGET, leaseSeconds, "crashing-child", childLog);
    }

    /** The child's first stdout line, or a failure that shows its log. */
    private String firstLine(Process process) throws Exception {
        return CrashingHolder.awaitFirstLine(process, childLog, CHILD_START);
    }

    @Test
    void aKilledHolderIsTakenOverAfterItsLeaseWithAFreshPod() throws Exception {
        long started = System.nanoTime();
        child = startChild();
        String held = firstLine(child);
        Duration childTook = Duration.ofNanos(System.nanoTime() - started);
        assertThat(held)
                .as("child's report; its log:%n%s", Files.readString(childLog))
                .startsWith("HELD ");
        String[] parts = held.split(" ");
        long childToken = Long.parseLong(parts[1]);
        String childPod = parts[2];

        child.destroyForcibly();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).as("child died").isTrue();
        long killedAt = System.nanoTime();

        LockOptions options = LockOptions.builder()
                .leaseDuration(Duration.ofSeconds(2))
                .takeoverGrace(Duration.ofSeconds(1))
                .readyTimeout(Duration.ofSeconds(10))
                .releaseTimeout(Duration.ofSeconds(10))
                .build();
        try (ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(KubernetesReplicaBackendTest.backend(cluster))
                        .holder("parent")
                        .options(options)
                        .shutdownHook(false)
                        .build();
                ReplicaLock lock = locks.acquire(TARGET, Duration.ofSeconds(15))) {
            Duration tookOver = Duration.ofNanos(System.nanoTime() - killedAt);
            System.out.println("child JVM took the lock in " + childTook.toMillis() + " ms and held token " + childToken
                    + " on " + childPod + "; parent took over after " + tookOver.toMillis() + " ms with token "
                    + lock.fencingToken() + " on " + lock.pods());

            assertThat(lock.fencingToken()).isEqualTo(childToken + 1);
            assertThat(lock.pods()).hasSize(1).doesNotContain(childPod);
            assertThat(cluster.client
                            .pods()
                            .inNamespace(NAMESPACE)
                            .withName(childPod)
                            .get())
                    .as("the dead holder's pod was deleted")
                    .isNull();
            assertThat(locks.status(TARGET).holder()).hasValue("parent");
        }
    }

    @Test
    void aHolderTerminatedBySigtermGivesTheLockBackThroughItsShutdownHook() throws Exception {
        // A lease far longer than the test: only the shutdown hook's release can free the lock in time.
        child = startChild(600);
        String held = firstLine(child);
        assertThat(held)
                .as("child's report; its log:%n%s", Files.readString(childLog))
                .startsWith("HELD ");
        long childToken = Long.parseLong(held.split(" ")[1]);

        child.destroy(); // SIGTERM, as CI sends when it cancels a build
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child exited").isTrue();

        try (KubernetesReplicaBackend backend = KubernetesReplicaBackendTest.backend(cluster)) {
            var fields = backend.read(TARGET).fields();
            assertThat(fields.replicas())
                    .as("released by the hook; child log:%n%s", Files.readString(childLog))
                    .isZero();
            assertThat(fields.holder()).isNull();
            assertThat(fields.token()).isEqualTo(childToken);
        }
        try (ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(KubernetesReplicaBackendTest.backend(cluster))
                        .holder("parent")
                        .shutdownHook(false)
                        .build();
                ReplicaLock lock = locks.acquire(TARGET, Duration.ofSeconds(30))) {
            assertThat(lock.fencingToken()).isEqualTo(childToken + 1);
        }
    }
}
