package io.github.replicalock.benchmarks;

import io.github.replicalock.Fairness;
import io.github.replicalock.benchmarks.Contenders.Timings;
import io.github.replicalock.benchmarks.RealApiCycles.Cycle;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Scenario 7: scenarios 1 to 3 again on a real Kubernetes API server (the one {@value
 * ApiServer#KUBECONFIG_ENV} names, e.g. {@code scripts/control-plane start}), with the real
 * controllers and the tests' {@link NodeStandIn} as the node (pods Ready and gone at once), beside
 * {@code LeaderElector} and the shell steps run by the real kubectl, and the server's own floor.
 * Requests are counted on the client side (an interceptor on each client), since the real server
 * keeps no request log: see {@link RealApiSession}. This class writes the section; {@link
 * RealApiFloor}, {@link RealApiCycles}, {@link RealApiHandoff} and {@link RealApiWaitingLoad} measure.
 */
final class RealApiServer {
    private RealApiServer() {}

    static Section run() throws Exception {
        Section s = new Section("7. On a real API server");
        if (System.getenv(ApiServer.KUBECONFIG_ENV) == null) {
            s.para("Skipped: no real API server (set " + ApiServer.KUBECONFIG_ENV
                    + ", e.g. `scripts/control-plane start && eval \"$(scripts/control-plane env)\"`).");
            return s;
        }
        try (RealApiSession session = new RealApiSession()) {
            try {
                measure(session, s);
            } catch (Exception e) {
                // The report says so instead of the run hanging on the clients' threads.
                Progress.log("scenario 7 failed: " + e);
                s.para("Failed: `" + e + "`");
            }
        }
        return s;
    }

    private static void measure(RealApiSession session, Section s) throws Exception {
        String version = session.kubernetesVersion();
        s.para(String.format(Locale.ROOT, """
                Kubernetes %s (kube-apiserver, etcd and kube-controller-manager on loopback, as the \
                apiserver tests run them), the real Deployment and ReplicaSet controllers, and the tests' \
                `NodeStandIn` as the node with no delays: it binds a new pod, reports it Ready and finishes a \
                deletion as soon as its watch shows the pod (each step a GET and a write of its own). JDK \
                transport, https on loopback. Requests are counted on each client by an interceptor, by \
                User-Agent; "watches aside" leaves out watch streams and the lists informers start with.""", version));

        RealApiFloor floor = new RealApiFloor(session);
        Stats get = floor.get();
        Stats patch = floor.conditionalPatch();
        Stats chain = floor.causalChain();
        s.table(
                List.of("floor", "samples", "median", "p99", "max"),
                List.of(
                        row("one GET of a Deployment", get),
                        row("one conditional JSON Patch (`test` replicas, replace an annotation)", patch),
                        row("causal chain: patch replicas 0→1 → controllers → stand-in → Ready pod seen", chain)));
        s.figure(
                "floor: one conditional JSON Patch, median / p99",
                Stats.ms(patch.median()) + " / " + Stats.ms(patch.p99()));
        s.figure(
                "floor: patch → controllers → Ready pod seen, median / p99",
                Stats.ms(chain.median()) + " / " + Stats.ms(chain.p99()));

        // Scenario 1: one uncontended cycle.
        RealApiCycles cycles = new RealApiCycles(session);
        Cycle ours = cycles.replicaLock();
        Cycle elector = cycles.leaderElector();
        Stats shell = cycles.shell();
        s.table(
                List.of(
                        "contender (scenario 1)",
                        "requests, watches aside: acquire / release",
                        "cycle median",
                        "cycle p99"),
                List.of(
                        List.of(
                                "replica-lock, `LockOptions.defaults()`",
                                ours.requests(),
                                Stats.ms(ours.latency().median()),
                                Stats.ms(ours.latency().p99())),
                        List.of(
                                "LeaderElector + LeaseLock, " + Timings.TIGHTEST,
                                elector.requests(),
                                Stats.ms(elector.latency().median()),
                                Stats.ms(elector.latency().p99())),
                        List.of(
                                "shell steps, the real kubectl (6 runs of it per cycle)",
                                "—",
                                Stats.ms(shell.median()),
                                Stats.ms(shell.p99()))));
        s.figure("1. requests per acquire / release, watches aside", ours.requests());

        // Scenario 2: handoff latency.
        RealApiHandoff handoff = new RealApiHandoff(session);
        List<List<String>> handoffs = new ArrayList<>();
        for (int n : new int[] {2, 8, 32}) {
            for (Fairness fairness : Fairness.values()) {
                Duration limit = Duration.ofSeconds(n == 32 ? 40 : 25);
                RealApiHandoff.Run run = handoff.replicaLock(n, fairness, 60, limit);
                Stats h = run.handoff();
                // A run that stalls before its warm-up is over has no handoff to show, only its holds.
                boolean none = h.count() == 0;
                handoffs.add(List.of(
                        "replica-lock, " + fairness.name(),
                        String.valueOf(n),
                        h.count() + " (" + run.holds() + " holds in the run)",
                        none ? "—" : Stats.ms(h.median()),
                        none ? "—" : Stats.ms(h.p99()),
                        none ? "—" : Stats.ratio(h.median(), chain.median()),
                        Stats.number(run.requestsPerHandoff()),
                        Stats.number(run.patchesPerHandoff()),
                        Stats.number(run.lostPerHandoff())));
                s.figure(
                        "2. handoff p50 / p99 (requests per handoff), " + n + " contenders, " + fairness.name(),
                        none
                                ? "none measured: " + run.holds() + " holds in " + limit.toSeconds() + " s ("
                                        + Stats.number(run.requestsPerHandoff()) + ")"
                                : Stats.ms(h.median()) + " / " + Stats.ms(h.p99()) + " ("
                                        + Stats.number(run.requestsPerHandoff()) + ")");
            }
        }
        Stats electorHandoff = handoff.leaderElector(10);
        handoffs.add(List.of(
                "LeaderElector, " + Timings.TIGHTEST,
                "2",
                String.valueOf(electorHandoff.count()),
                Stats.ms(electorHandoff.median()),
                Stats.ms(electorHandoff.p99()),
                Stats.ratio(electorHandoff.median(), chain.median()),
                "—",
                "—",
                "—"));
        s.para("""
                Scenario 2: N contenders (each its own `ReplicaLocks`, backend and client, `LockOptions.defaults()` \
                with `fairness(FIFO)`, the default, or `fairness(BARGING)`) loop on one lock; a handoff is the time \
                from a holder's `close()` returning (its pod gone) to the next holder's `acquire` returning (its \
                new pod Ready). The first 5 handoffs are warm-up. Requests, PATCHes and lost writes (conditional \
                writes answered 422 or 409) per handoff: the contenders' requests (watches aside) over the whole \
                run, warm-up included, divided by its holds. A run ends after 60 handoffs or at its limit (25 s, \
                40 s for 32 contenders), whichever comes first.""");
        s.table(
                List.of(
                        "contender",
                        "contenders",
                        "handoffs",
                        "p50",
                        "p99",
                        "p50 vs causal chain",
                        "requests per handoff",
                        "PATCHes per handoff",
                        "lost writes per handoff"),
                handoffs);

        // Scenario 3: API load of waiters.
        double rate = new RealApiWaitingLoad(session).requestsPerSecond(50, Duration.ofSeconds(20));
        s.para(
                "Scenario 3: 50 builds wait in `acquire` on a held lock (each its own `ReplicaLocks`, backend and client); "
                        + "once their watches are open, their requests and the holder's are counted over 20 s, watches aside.");
        s.table(
                List.of("contender", "requests/s, 50 waiters and the holder"),
                List.of(List.of("replica-lock", Stats.number(rate))));
        s.figure("3. requests/s at the server, 50 waiters", Stats.number(rate));
    }

    private static List<String> row(String what, Stats stats) {
        return List.of(
                what,
                String.valueOf(stats.count()),
                Stats.ms(stats.median()),
                Stats.ms(stats.p99()),
                Stats.ms(stats.max()));
    }
}
