package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.benchmarks.Contenders.Elector;
import io.github.replicalock.benchmarks.Contenders.Timings;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Scenario 1 on the real server: one uncontended acquire and release, over and over, by
 * replica-lock, by fabric8's LeaderElector, and by the shell steps run with the real kubectl.
 */
final class RealApiCycles {
    private static final int CYCLE_WARMUP = 5;
    private static final int CYCLES = 20;
    private static final int SHELL_WARMUP = 2;
    private static final int SHELL_CYCLES = 5;

    /** The requests of each half, as "acquire / release" per cycle, and each cycle's latency. */
    record Cycle(String requests, Stats latency) {}

    /** A step of a cycle. */
    private interface Step {
        void run() throws Exception;
    }

    private final RealApiSession session;

    RealApiCycles(RealApiSession session) {
        this.session = session;
    }

    Cycle replicaLock() throws Exception {
        LockTarget target = session.builder("cycle");
        String agent = "cycle-replica-lock";
        ReplicaLocks locks = session.locks(agent, LockOptions.defaults());
        ReplicaLock[] held = new ReplicaLock[1];
        return cycles(agent, () -> held[0] = locks.acquire(target, Duration.ofSeconds(60)), () -> held[0].close());
    }

    Cycle leaderElector() throws Exception {
        String agent = "cycle-elector";
        KubernetesClient client = session.client(agent);
        Elector[] elector = new Elector[1];
        return cycles(
                agent,
                () -> {
                    elector[0] = new Elector(client, agent, session.namespace(), "cycle-lease", Timings.TIGHTEST);
                    elector[0].acquire(Duration.ofSeconds(30));
                },
                () -> elector[0].release());
    }

    /** Warm-up, then measured cycles of acquire and release: the latency and the requests of each half. */
    private Cycle cycles(String agent, Step acquire, Step release) throws Exception {
        List<Long> latency = new ArrayList<>();
        long acquireRequests = 0;
        long releaseRequests = 0;
        for (int i = 0; i < CYCLE_WARMUP + CYCLES; i++) {
            long t0 = System.nanoTime();
            long before = session.count(agent);
            acquire.run();
            long between = session.count(agent);
            release.run();
            long t1 = System.nanoTime();
            // Lets answers in flight (events are sent asynchronously) land in this cycle's count.
            Thread.sleep(50);
            if (i >= CYCLE_WARMUP) {
                latency.add(t1 - t0);
                acquireRequests += between - before;
                releaseRequests += session.count(agent) - between;
            }
        }
        return new Cycle(
                Stats.number((double) acquireRequests / CYCLES) + " / "
                        + Stats.number((double) releaseRequests / CYCLES),
                Stats.of(latency));
    }

    /** The shell steps, each a run of kubectl: get replicas, scale to 1, wait Ready, get the pod, scale to 0, wait gone. */
    Stats shell() {
        LockTarget target = session.builder("cycle-shell");
        String namespace = session.namespace();
        String selector = NodeStandIn.APP_LABEL + "=" + target.name();
        Duration limit = Duration.ofSeconds(90);
        List<Long> latency = new ArrayList<>();
        for (int i = 0; i < SHELL_WARMUP + SHELL_CYCLES; i++) {
            long t0 = System.nanoTime();
            String current = ApiServer.kubectl(
                            limit,
                            "-n",
                            namespace,
                            "get",
                            "deployment",
                            target.name(),
                            "-o",
                            "jsonpath={.spec.replicas}")
                    .stdout()
                    .strip();
            if (!current.equals("0")) {
                throw new IllegalStateException("shell steps: replicas " + current);
            }
            check(ApiServer.kubectl(limit, "-n", namespace, "scale", "deployment", target.name(), "--replicas=1"));
            // kubectl wait fails at once while no pod matches: the shell retries it.
            while (ApiServer.kubectl(
                                    limit,
                                    "-n",
                                    namespace,
                                    "wait",
                                    "--for=condition=ready",
                                    "pod",
                                    "-l",
                                    selector,
                                    "--timeout=60s")
                            .exitCode()
                    != 0) {
                LockSupport.parkNanos(50_000_000);
            }
            String pod = ApiServer.kubectl(
                            limit,
                            "-n",
                            namespace,
                            "get",
                            "pod",
                            "-l",
                            selector,
                            "-o",
                            "jsonpath={.items[0].metadata.name}")
                    .stdout()
                    .strip();
            check(ApiServer.kubectl(limit, "-n", namespace, "scale", "deployment", target.name(), "--replicas=0"));
            check(ApiServer.kubectl(limit, "-n", namespace, "wait", "--for=delete", "pod/" + pod, "--timeout=60s"));
            if (i >= SHELL_WARMUP) {
                latency.add(System.nanoTime() - t0);
            }
        }
        return Stats.of(latency);
    }

    private static void check(ApiServer.Result result) {
        if (result.exitCode() != 0) {
            throw new IllegalStateException("kubectl: " + result);
        }
    }
}
