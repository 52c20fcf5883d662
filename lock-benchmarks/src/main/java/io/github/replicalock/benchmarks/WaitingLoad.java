package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.Fairness;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.benchmarks.Contenders.Elector;
import io.github.replicalock.benchmarks.Contenders.ReplicaLockContender;
import io.github.replicalock.benchmarks.Contenders.Timings;
import io.github.replicalock.benchmarks.MockApi.Request;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.spi.LockQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Scenario 3: 50 builds waiting for 30 s on a held lock; requests per second at the server once
 * their watches are open. Anchor: 50 LeaderElector candidates on a held Lease.
 */
final class WaitingLoad {
    static final int WAITERS = 50;
    static final Duration WINDOW = Duration.ofSeconds(30);
    static final double TARGET_PER_SECOND = 0.5;
    /**
     * What FIFO waiters cost by design (docs/lock-protocol.md section 10.3): of the 32 admitted to
     * the queue, the first three renew 1.5 times a second, the 29 behind them every 20/3 s, the rest
     * only watch; plus the holder's renewal every 10 s.
     */
    static final double FIFO_DESIGN_PER_SECOND = 3 * 1.5 + 29 * 3 / 20.0 + 0.1;
    /** The design figure and one renewal more per queued waiter, for renewals at the window's edges. */
    static final double FIFO_TARGET_PER_SECOND = FIFO_DESIGN_PER_SECOND + 32.0 / WINDOW.toSeconds();

    private static final String NAMESPACE = "load";
    private static final Pattern QUERY = Pattern.compile("\\?.*");
    private static final Pattern NAMESPACE_SEGMENT = Pattern.compile("/namespaces/[^/]+/");

    private WaitingLoad() {}

    /** What the mock saw in the window, per kind of client. */
    private record Load(double seconds, List<Request> requests) {
        double rate(String agentPrefix) {
            return requests.stream()
                            .filter(r -> r.agent().startsWith(agentPrefix))
                            .count()
                    / seconds;
        }

        long count(String agentPrefix, boolean watchSetup) {
            return requests.stream()
                    .filter(r -> r.agent().startsWith(agentPrefix) && r.isWatchSetup() == watchSetup)
                    .count();
        }
    }

    static Section run() throws Exception {
        Load fifo = replicaLock(Fairness.FIFO);
        Load barging = replicaLock(Fairness.BARGING);
        Load anchor = leaderElector();
        double fifoRate = fifo.rate("waiter-") + fifo.rate("holder");
        double bargingRate = barging.rate("waiter-") + barging.rate("holder");
        double anchorRate = anchor.rate("candidate-") + anchor.rate("leader");
        boolean fifoMet = fifoRate <= FIFO_TARGET_PER_SECOND;
        boolean bargingMet = bargingRate <= TARGET_PER_SECOND;
        Section s = new Section("3. API load while builds wait");
        s.para(String.format(
                Locale.ROOT,
                """
                %d waiters block in `acquire(target, 10 min)` on a lock another client holds (replica-lock: \
                `LockOptions.defaults()`, lease 30 s, renewal every 10 s, with `fairness(FIFO)`, the default, \
                or `fairness(BARGING)`; each waiter its own `ReplicaLocks`, backend and client, as separate \
                builds would be). FIFO waiters renew their queue entries by design (docs/lock-protocol.md \
                section 10.3): of the 32 admitted to the queue, the first three 1.5 times a second, the others \
                every 6.7 s, hence its own target (%s req/s with the holder's, and one renewal \
                per queued waiter more for the window's edges); the ≤ 0.5 req/s target predates \
                the queue and is barging's. Once every waiter's watch streams are open \
                (under FIFO: once the queue holds its 32 waiters) and 2 s have passed, the mock's request log is read over %d s and counted by User-Agent. \
                Anchor: %d `LeaderElector` candidates at %s on a Lease held by a %dst elector. One mock \
                server each, one after the other (request counts do not drift with load).""",
                WAITERS,
                Stats.number(FIFO_TARGET_PER_SECOND),
                WINDOW.toSeconds(),
                WAITERS,
                Timings.CUSTOMARY,
                WAITERS + 1));
        s.table(
                List.of(
                        "contender",
                        "requests/s, all",
                        "waiters' requests/s",
                        "holder's requests/s",
                        "watch set-ups in the window",
                        "vs anchor",
                        "target",
                        "verdict"),
                List.of(
                        row(
                                "replica-lock, FIFO, " + WAITERS + " waiters",
                                fifo,
                                anchorRate,
                                "≤ " + Stats.number(FIFO_TARGET_PER_SECOND) + " req/s",
                                fifoMet),
                        row(
                                "replica-lock, BARGING, " + WAITERS + " waiters",
                                barging,
                                anchorRate,
                                "≤ 0.5 req/s",
                                bargingMet),
                        List.of(
                                "LeaderElector, " + WAITERS + " candidates, " + Timings.CUSTOMARY,
                                Stats.number(anchorRate),
                                Stats.number(anchor.rate("candidate-")),
                                Stats.number(anchor.rate("leader")),
                                String.valueOf(anchor.count("candidate-", true) + anchor.count("leader", true)),
                                "×1",
                                "—",
                                "—")));
        s.para(String.format(
                Locale.ROOT,
                "The controller simulation made %s requests/s beside replica-lock (it re-reads a Deployment on each "
                        + "change, as a controller would); not counted above. What replica-lock's waiters sent, by "
                        + "kind: %s.",
                Stats.number(fifo.rate(ControllerSimulation.USER_AGENT)),
                "FIFO " + kinds(fifo.requests()) + "; BARGING " + kinds(barging.requests())));
        s.verdict(
                "requests/s at the server, 50 waiters, FIFO",
                Stats.number(fifoRate),
                "≤ " + Stats.number(FIFO_TARGET_PER_SECOND),
                fifoMet);
        s.verdict("requests/s at the server, 50 waiters, BARGING", Stats.number(bargingRate), "≤ 0.5", bargingMet);
        return s;
    }

    private static List<String> row(String contender, Load load, double anchorRate, String target, boolean met) {
        double rate = load.rate("waiter-") + load.rate("holder");
        return List.of(
                contender,
                Stats.number(rate),
                Stats.number(load.rate("waiter-")),
                Stats.number(load.rate("holder")),
                String.valueOf(load.count("waiter-", true) + load.count("holder", true)),
                Stats.ratio(rate, anchorRate),
                target,
                met ? "met" : "**missed**");
    }

    /** "GET /apis/apps/v1/…/deployments/builder × 150"-style counts of the waiters' and holder's requests. */
    private static String kinds(List<Request> requests) {
        Map<String, Long> counts = requests.stream()
                .filter(r -> r.agent().startsWith("waiter-") || r.agent().startsWith("holder"))
                .collect(Collectors.groupingBy(WaitingLoad::kind, TreeMap::new, Collectors.counting()));
        if (counts.isEmpty()) {
            return "none";
        }
        return counts.entrySet().stream()
                .map(e -> "`" + e.getKey() + "` × " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static String kind(Request r) {
        String path = QUERY.matcher(r.path()).replaceAll("");
        return r.method() + " " + NAMESPACE_SEGMENT.matcher(path).replaceAll("/…/");
    }

    private static Load replicaLock(Fairness fairness) throws Exception {
        LockOptions options = LockOptions.builder().fairness(fairness).build();
        ExecutorService pool = Executors.newFixedThreadPool(WAITERS);
        try (MockApi api = new MockApi()) {
            api.closeLater(ControllerSimulation.start(api.client(ControllerSimulation.USER_AGENT), NAMESPACE));
            LockTarget target = api.createBuilder(NAMESPACE, "builder");
            ReplicaLockContender holder = new ReplicaLockContender(api, "holder", target, LockOptions.defaults());
            holder.acquire(Duration.ofSeconds(30));
            List<Future<?>> waiting = new ArrayList<>();
            for (int i = 0; i < WAITERS; i++) {
                ReplicaLockContender waiter = new ReplicaLockContender(api, "waiter-" + i, target, options);
                waiting.add(pool.submit(() -> {
                    waiter.acquire(Duration.ofMinutes(10));
                    return null;
                }));
            }
            awaitWatches(api, "waiter-", 2);
            if (fairness == Fairness.FIFO) {
                awaitQueueFull(api, target);
            }
            Load load = window(api);
            if (waiting.stream().anyMatch(Future::isDone)) {
                throw new IllegalStateException("a waiter stopped waiting while the lock was held");
            }
            pool.shutdownNow(); // interrupts the waiters: nothing is left behind
            pool.awaitTermination(30, TimeUnit.SECONDS);
            holder.release();
            return load;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Load leaderElector() throws Exception {
        try (MockApi api = new MockApi()) {
            Elector leader = new Elector(api, "leader", NAMESPACE, "lease", Timings.CUSTOMARY);
            leader.acquire(Duration.ofSeconds(30));
            List<Elector> candidates = new ArrayList<>();
            for (int i = 0; i < WAITERS; i++) {
                Elector candidate = new Elector(api, "candidate-" + i, NAMESPACE, "lease", Timings.CUSTOMARY);
                candidates.add(candidate);
                candidate.start();
            }
            Thread.sleep(5000); // every candidate has polled at least once
            Load load = window(api);
            candidates.forEach(Elector::close);
            leader.release();
            return load;
        }
    }

    /** Waits until every client of the prefix has opened {@code streams} watch streams. */
    private static void awaitWatches(MockApi api, String prefix, int streams) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Set<String> seen = new HashSet<>();
        List<Request> all = new ArrayList<>();
        while (System.nanoTime() - deadline < 0) {
            all.addAll(api.takeRequests());
            seen.clear();
            for (int i = 0; i < WAITERS; i++) {
                String agent = prefix + i;
                if (all.stream()
                                .filter(r -> r.agent().equals(agent) && r.isWatch())
                                .count()
                        >= streams) {
                    seen.add(agent);
                }
            }
            if (seen.size() == WAITERS) {
                Thread.sleep(2000);
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("only " + seen.size() + " of " + WAITERS + " waiters opened their watches");
    }

    /**
     * Waits until the queue holds as many waiters as it admits, and 2 s more: the window measures
     * waiting, not the 32 rounds of conflicting enqueues it takes 50 waiters to join.
     */
    private static void awaitQueueFull(MockApi api, LockTarget target) throws InterruptedException {
        KubernetesClient observer = api.client("observer");
        int expected = Math.min(WAITERS, LockQueue.MAX_WAITERS);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() - deadline < 0) {
            Deployment deployment = observer.apps()
                    .deployments()
                    .inNamespace(target.namespace())
                    .withName(target.name())
                    .get();
            Map<String, String> annotations = deployment.getMetadata().getAnnotations() == null
                    ? Map.of()
                    : deployment.getMetadata().getAnnotations();
            if (LockQueue.parse(target, annotations).size() >= expected) {
                Thread.sleep(2000);
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the queue did not fill up with " + expected + " waiters within 60 s");
    }

    private static Load window(MockApi api) throws InterruptedException {
        api.takeRequests();
        long start = System.nanoTime();
        Thread.sleep(WINDOW.toMillis());
        List<Request> requests = api.takeRequests();
        return new Load((System.nanoTime() - start) / 1e9, requests);
    }
}
