package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.ApiServerNamespace;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shell steps this library replaces, run by the real {@code kubectl} against a real API server,
 * interleaved with Java holders on the same Deployment:
 *
 * <pre>{@code
 * CURRENT=$(kubectl get deployment B -o jsonpath='{.spec.replicas}')
 * [ "$CURRENT" = "0" ] && kubectl scale deployment B --replicas=1 \
 *   && kubectl wait --for=condition=ready pod -l app.kubernetes.io/name=B --timeout=60s
 * kubectl scale deployment B --replicas=0 && kubectl wait --for=delete pod/P   # cleanup
 * }</pre>
 */
class KubectlInteropApiServerTest {
    private static final Duration KUBECTL = Duration.ofSeconds(90);
    private static final AtomicInteger DEPLOYMENTS = new AtomicInteger();

    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("kubectl");

    private LockTarget target;
    private ReplicaLocks locks;

    @BeforeEach
    void setUp() {
        target = LockTarget.of(server.namespace(), "builder-" + DEPLOYMENTS.incrementAndGet());
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
        locks = newLocks("java-build");
    }

    @AfterEach
    void tearDown() {
        locks.close();
    }

    private static ReplicaLocks newLocks(String holder) {
        return ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.create(server.client()))
                .holder(holder)
                .options(LockOptions.builder()
                        .leaseDuration(Duration.ofSeconds(20))
                        .renewInterval(Duration.ofSeconds(1))
                        .readyTimeout(Duration.ofSeconds(60))
                        .releaseTimeout(Duration.ofSeconds(60))
                        .build())
                .shutdownHook(false)
                .build();
    }

    private ApiServer.Result kubectl(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "-n";
        all[1] = server.namespace();
        System.arraycopy(args, 0, all, 2, args.length);
        return ApiServer.kubectl(KUBECTL, all);
    }

    private ApiServer.Result succeeds(String... args) {
        ApiServer.Result result = kubectl(args);
        assertThat(result.exitCode())
                .as("kubectl %s: %s", String.join(" ", args), result)
                .isZero();
        return result;
    }

    /** {@code kubectl get deployment B -o jsonpath='{.spec.replicas}'}. */
    private String shellReplicas() {
        return succeeds("get", "deployment", target.name(), "-o", "jsonpath={.spec.replicas}")
                .stdout()
                .strip();
    }

    private String selector() {
        return NodeStandIn.APP_LABEL + "=" + target.name();
    }

    /** The shell's acquisition: check, scale to 1, wait for the Ready pod; the pod's name. */
    private String shellAcquires() {
        assertThat(shellReplicas()).as("the shell's check").isEqualTo("0");
        succeeds("scale", "deployment", target.name(), "--replicas=1");
        // kubectl wait fails at once while no pod matches yet: the controllers create it a moment later.
        await("the shell's pod exists")
                .atMost(Duration.ofSeconds(60))
                .until(() -> !succeeds("get", "pod", "-l", selector(), "-o", "name")
                        .stdout()
                        .isBlank());
        succeeds("wait", "--for=condition=ready", "pod", "-l", selector(), "--timeout=60s");
        return succeeds("get", "pod", "-l", selector(), "-o", "jsonpath={.items[0].metadata.name}")
                .stdout()
                .strip();
    }

    /** The shell's cleanup: scale to 0, wait until its pod is gone. */
    private void shellCleansUp(String pod) {
        succeeds("scale", "deployment", target.name(), "--replicas=0");
        succeeds("wait", "--for=delete", "pod/" + pod, "--timeout=60s");
    }

    @Test
    void theShellSeesAJavaHoldAndItsReadyPod() throws Exception {
        try (ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60))) {
            // The shell's check says busy: it does not scale, and would wait for the Ready pod as it does.
            assertThat(shellReplicas()).isEqualTo("1");
            succeeds("wait", "--for=condition=ready", "pod", "-l", selector(), "--timeout=30s");
            String shellSeesPod = succeeds("get", "pod", "-l", selector(), "-o", "jsonpath={.items[*].metadata.name}")
                    .stdout()
                    .strip();
            assertThat(List.of(shellSeesPod)).isEqualTo(lock.pods());
            String holder = succeeds(
                            "get",
                            "deployment",
                            target.name(),
                            "-o",
                            "jsonpath={.metadata.annotations.replicalock\\.io/holder}")
                    .stdout()
                    .strip();
            assertThat(holder).isEqualTo("java-build");
        }
        assertThat(shellReplicas()).as("after the Java release").isEqualTo("0");
    }

    @Test
    void aJavaBuildWaitsForTheShellsHoldAndTakesTheLockAfterItsCleanup() throws Exception {
        String shellPod = shellAcquires();

        assertThat(locks.tryAcquire(target)).as("Java sees the shell's hold").isEmpty();
        assertThat(locks.status(target).state()).isEqualTo(LockState.ACTIVE);
        assertThat(locks.status(target).holder())
                .as("the shell writes no holder: shown as unknown")
                .hasValue("unknown");

        CompletableFuture<ReplicaLock> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return locks.acquire(target, Duration.ofSeconds(90));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        shellCleansUp(shellPod);

        try (ReplicaLock lock = waiting.get(90, TimeUnit.SECONDS)) {
            assertThat(lock.pods()).hasSize(1).doesNotContain(shellPod);
            assertThat(shellReplicas()).isEqualTo("1");
        }
        assertThat(shellReplicas()).isEqualTo("0");
    }

    @Test
    void theShellCleanupUnderAJavaHolderIsDetectedAsLost() throws Exception {
        List<LockLostException> lost = new CopyOnWriteArrayList<>();
        ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60));
        lock.onLost(lost::add);
        String pod = lock.pods().get(0);

        shellCleansUp(pod);

        await("the Java holder notices the shell's cleanup")
                .atMost(Duration.ofSeconds(30))
                .until(() -> !lost.isEmpty());
        assertThat(lock.isHeld()).isFalse();
        assertThat(lost.get(0)).hasMessageContaining(target.name());
        // A lost lock's close() says so, and writes nothing.
        assertThatThrownBy(lock::close).isInstanceOf(LockLostException.class);
        assertThat(shellReplicas()).isEqualTo("0");

        // The next Java build takes it with the next token.
        try (ReplicaLock next = locks.acquire(target, Duration.ofSeconds(60))) {
            assertThat(next.fencingToken()).isEqualTo(lock.fencingToken() + 1);
        }
    }

    @Test
    void scaleWithCurrentReplicasZeroRefusesAJavaHoldAndTakesAFreeLock() throws Exception {
        long token;
        try (ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(60))) {
            token = lock.fencingToken();
            ApiServer.Result refused =
                    kubectl("scale", "deployment", target.name(), "--current-replicas=0", "--replicas=1");
            assertThat(refused.exitCode()).as("%s", refused).isNotZero();
            assertThat(refused.stderr()).contains("Expected replicas to be 0, was 1");
            assertThat(lock.isHeld()).isTrue();
            assertThat(locks.status(target).holder()).hasValue("java-build");
        }

        // Free again: the precondition passes, and Java sees a hold without a holder.
        succeeds("scale", "deployment", target.name(), "--current-replicas=0", "--replicas=1");
        succeeds("wait", "--for=condition=ready", "pod", "-l", selector(), "--timeout=60s");
        assertThat(locks.tryAcquire(target)).isEmpty();
        succeeds("scale", "deployment", target.name(), "--current-replicas=1", "--replicas=0");
        try (ReplicaLock next = locks.acquire(target, Duration.ofSeconds(60))) {
            assertThat(next.fencingToken()).isEqualTo(token + 1);
        }
    }
}
