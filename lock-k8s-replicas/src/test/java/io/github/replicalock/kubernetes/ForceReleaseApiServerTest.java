package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockLostException;
import io.github.replicalock.LockNotHeldException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockStatus;
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
 * An operator's force-release on a real API server, read back the way the README tells an operator
 * to: {@code kubectl get deployment -o jsonpath} for the record, {@code kubectl get events} for the
 * Warning, and the broken holder's {@code LockLostException}.
 */
class ForceReleaseApiServerTest {
    private static final Duration KUBECTL = Duration.ofSeconds(90);
    private static final AtomicInteger DEPLOYMENTS = new AtomicInteger();
    private static final String REASON = "builder wedged on a stuck mount, INC-1234";

    @RegisterExtension
    static final ApiServerNamespace server = new ApiServerNamespace("force-release");

    private final List<ReplicaLocks> opened = new CopyOnWriteArrayList<>();
    private LockTarget target;

    @BeforeEach
    void setUp() {
        target = LockTarget.of(server.namespace(), "builder-" + DEPLOYMENTS.incrementAndGet());
        ApiServer.createBuilder(server.client(), server.namespace(), target.name());
    }

    @AfterEach
    void tearDown() {
        opened.forEach(ReplicaLocks::close);
    }

    private ReplicaLocks newLocks(String holder) {
        ReplicaLocks locks = ReplicaLocks.builder()
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
        opened.add(locks);
        return locks;
    }

    private String kubectl(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "-n";
        all[1] = server.namespace();
        System.arraycopy(args, 0, all, 2, args.length);
        ApiServer.Result result = ApiServer.kubectl(KUBECTL, all);
        assertThat(result.exitCode())
                .as("kubectl %s: %s", String.join(" ", args), result)
                .isZero();
        return result.stdout().strip();
    }

    @Test
    void theHolderLearnsWhyKubectlShowsTheRecordAndTheWarningAndTheQueueHeadAcquiresNext() throws Exception {
        ReplicaLock held = newLocks("drone-build-41").acquire(target, Duration.ofSeconds(60));
        List<LockLostException> lost = new CopyOnWriteArrayList<>();
        held.onLost(lost::add);
        String wedgedPod = held.pods().get(0);
        ReplicaLocks waiterLocks = newLocks("drone-build-42");
        CompletableFuture<ReplicaLock> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return waiterLocks.acquire(target, Duration.ofSeconds(90));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await("the waiter is queued")
                .atMost(Duration.ofSeconds(30))
                .until(() -> waiterLocks.status(target).waiters().size() == 1);

        LockStatus broken = newLocks("ops-alice").forceRelease(target, REASON);

        assertThat(broken.holder()).hasValue("drone-build-41");
        String record = kubectl(
                "get",
                "deployment",
                target.name(),
                "-o",
                "jsonpath={.metadata.annotations.replicalock\\.io/force-released}");
        assertThat(record.lines())
                .hasSize(5)
                .contains(
                        "token: " + held.fencingToken(),
                        "holder: drone-build-41",
                        "by: ops-alice",
                        "reason: " + REASON);
        String warnings = kubectl(
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=" + target.name() + ",reason=ForceReleased",
                "-o",
                "jsonpath={range .items[*]}{.type} {.message}{\"\\n\"}{end}");
        assertThat(warnings).startsWith("Warning ").contains("drone-build-41", "ops-alice", REASON);

        await("the holder hears of it").atMost(Duration.ofSeconds(30)).until(() -> !lost.isEmpty());
        assertThat(lost.get(0))
                .hasMessageContaining("force-released by ops-alice")
                .hasMessageContaining(REASON);
        assertThatThrownBy(held::close).isInstanceOf(LockLostException.class).hasMessageContaining(REASON);

        try (ReplicaLock next = waiting.get(90, TimeUnit.SECONDS)) {
            assertThat(next.fencingToken()).isEqualTo(held.fencingToken() + 1);
            assertThat(next.pods()).doesNotContain(wedgedPod);
        }
        kubectl("wait", "--for=delete", "pod/" + wedgedPod, "--timeout=60s");
    }

    @Test
    void theShellsHoldIsBrokenAndAFreeLockIsRefused() throws Exception {
        kubectl("scale", "deployment", target.name(), "--replicas=1");
        String selector = NodeStandIn.APP_LABEL + "=" + target.name();
        // kubectl wait fails at once while no pod matches yet: the controllers create it a moment later.
        await("the shell's pod exists")
                .atMost(Duration.ofSeconds(60))
                .until(() ->
                        !kubectl("get", "pod", "-l", selector, "-o", "name").isEmpty());
        kubectl("wait", "--for=condition=ready", "pod", "-l", selector, "--timeout=60s");
        ReplicaLocks operator = newLocks("ops-alice");

        LockStatus broken = operator.forceRelease(target, REASON);

        assertThat(broken.holder()).hasValue("unknown");
        assertThat(kubectl("get", "deployment", target.name(), "-o", "jsonpath={.spec.replicas}"))
                .isEqualTo("0");
        assertThatThrownBy(() -> operator.forceRelease(target, REASON))
                .isInstanceOf(LockNotHeldException.class)
                .hasMessageContaining(target.name())
                .hasMessageContaining("nothing to force-release");
    }
}
