package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.benchmarks.Contenders.Timings;
import io.github.replicalock.benchmarks.MockApi.Request;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Scenario 7: scenarios 1 to 3 again on a real Kubernetes API server (the one {@value
 * ApiServer#KUBECONFIG_ENV} names, e.g. {@code scripts/control-plane start}), with the real
 * controllers and the tests' {@link NodeStandIn} as the node (pods Ready and gone at once), beside
 * {@code LeaderElector} and the shell steps run by the real kubectl, and the server's own floor.
 * Requests are counted on the client side (an interceptor on each client), since the real server
 * keeps no request log.
 */
final class RealApiServer {
    private static final int CYCLE_WARMUP = 5;
    private static final int CYCLES = 20;
    private static final int FLOOR_SAMPLES = 60;
    private static final int CHAIN_SAMPLES = 20;

    private final KubernetesClient admin;
    private final String namespace;
    private final NodeStandIn node;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

    private RealApiServer() {
        admin = ApiServer.adminClient();
        namespace = ApiServer.createNamespace(admin, "bench");
        node = NodeStandIn.builder(admin, namespace)
                .readyAfter(Duration.ZERO)
                .terminateAfter(Duration.ZERO)
                .start();
    }

    static Section run() throws Exception {
        Section s = new Section("7. On a real API server");
        if (System.getenv(ApiServer.KUBECONFIG_ENV) == null) {
            s.para("Skipped: no real API server (set " + ApiServer.KUBECONFIG_ENV
                    + ", e.g. `scripts/control-plane start && eval \"$(scripts/control-plane env)\"`).");
            return s;
        }
        RealApiServer bench = new RealApiServer();
        try {
            bench.measure(s);
        } catch (Exception e) {
            // The report says so instead of the run hanging on the clients' threads.
            Progress.log("scenario 7 failed: " + e);
            s.para("Failed: `" + e + "`");
        } finally {
            bench.close();
        }
        return s;
    }

    private void measure(Section s) throws Exception {
        String version = admin.getKubernetesVersion().getGitVersion();
        s.para(String.format(Locale.ROOT, """
                Kubernetes %s (kube-apiserver, etcd and kube-controller-manager on loopback, as the \
                apiserver tests run them), the real Deployment and ReplicaSet controllers, and the tests' \
                `NodeStandIn` as the node with no delays: it binds a new pod, reports it Ready and finishes a \
                deletion as soon as its watch shows the pod (each step a GET and a write of its own). JDK \
                transport, https on loopback. Requests are counted on each client by an interceptor, by \
                User-Agent; "watches aside" leaves out watch streams and the lists informers start with.""", version));

        Stats get = floorGet();
        Stats patch = floorPatch();
        Stats chain = causalChain();
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
        Cycle ours = replicaLockCycles();
        Cycle elector = electorCycles();
        Stats shell = shellCycles();
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
        List<List<String>> handoffs = new ArrayList<>();
        for (int n : new int[] {2, 8, 32}) {
            Stats h = handoff(n, 60, Duration.ofSeconds(n == 32 ? 40 : 25));
            handoffs.add(List.of(
                    "replica-lock",
                    String.valueOf(n),
                    String.valueOf(h.count()),
                    Stats.ms(h.median()),
                    Stats.ms(h.p99()),
                    Stats.ratio(h.median(), chain.median())));
            s.figure("2. handoff p50 / p99, " + n + " contenders", Stats.ms(h.median()) + " / " + Stats.ms(h.p99()));
        }
        Stats electorHandoff = electorHandoff(10);
        handoffs.add(List.of(
                "LeaderElector, " + Timings.TIGHTEST,
                "2",
                String.valueOf(electorHandoff.count()),
                Stats.ms(electorHandoff.median()),
                Stats.ms(electorHandoff.p99()),
                Stats.ratio(electorHandoff.median(), chain.median())));
        s.para("""
                Scenario 2: N contenders (each its own `ReplicaLocks`, backend and client, `LockOptions.defaults()`) \
                loop on one lock; a handoff is the time from a holder's `close()` returning (its pod gone) to the \
                next holder's `acquire` returning (its new pod Ready). The first 5 handoffs are warm-up.""");
        s.table(List.of("contender", "contenders", "handoffs", "p50", "p99", "p50 vs causal chain"), handoffs);

        // Scenario 3: API load of waiters.
        double rate = waitingLoad(50, Duration.ofSeconds(20));
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

    // ---- clients -------------------------------------------------------------------------------

    /** A client of the admin's server and credentials whose requests are recorded under {@code agent}. */
    private KubernetesClient client(String agent) {
        Config config =
                new ConfigBuilder(admin.getConfiguration()).withUserAgent(agent).build();
        KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(config)
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("bench-recorder", new Interceptor() {
                    @Override
                    public void after(
                            HttpRequest request,
                            HttpResponse<?> response,
                            AsyncBody.Consumer<List<ByteBuffer>> consumer) {
                        String query = request.uri().getRawQuery();
                        requests.add(new Request(
                                request.method(),
                                request.uri().getRawPath() + (query == null ? "" : "?" + query),
                                agent));
                    }
                }))
                .build();
        closeables.add(client);
        return client;
    }

    private ReplicaLocks locks(String agent, LockOptions options) {
        ReplicaLocks locks = ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.builder(client(agent)).build())
                .holder(agent)
                .options(options)
                .shutdownHook(false)
                .build();
        closeables.add(locks);
        return locks;
    }

    private long count(String agent) {
        return requests.stream()
                .filter(r -> r.agent().equals(agent) && !r.isWatchSetup())
                .count();
    }

    private LockTarget builder(String name) {
        ApiServer.createBuilder(admin, namespace, name);
        return LockTarget.of(namespace, name);
    }

    // ---- floors --------------------------------------------------------------------------------

    private Stats floorGet() {
        LockTarget target = builder("floor-get");
        KubernetesClient client = client("floor");
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < FLOOR_SAMPLES + 10; i++) {
            long t0 = System.nanoTime();
            client.apps()
                    .deployments()
                    .inNamespace(namespace)
                    .withName(target.name())
                    .get();
            if (i >= 10) {
                samples.add(System.nanoTime() - t0);
            }
        }
        return Stats.of(samples);
    }

    private Stats floorPatch() {
        LockTarget target = builder("floor-patch");
        KubernetesClient client = client("floor");
        Deployment ref = client.apps()
                .deployments()
                .inNamespace(namespace)
                .withName(target.name())
                .get();
        client.apps()
                .deployments()
                .inNamespace(namespace)
                .resource(ref)
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"example.com/n\":\"0\"}}}");
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < FLOOR_SAMPLES + 10; i++) {
            String patch = "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":0},"
                    + "{\"op\":\"test\",\"path\":\"/metadata/annotations/example.com~1n\",\"value\":\"" + i + "\"},"
                    + "{\"op\":\"replace\",\"path\":\"/metadata/annotations/example.com~1n\",\"value\":\"" + (i + 1)
                    + "\"}]";
            long t0 = System.nanoTime();
            client.apps()
                    .deployments()
                    .inNamespace(namespace)
                    .resource(ref)
                    .patch(PatchContext.of(PatchType.JSON), patch);
            if (i >= 10) {
                samples.add(System.nanoTime() - t0);
            }
        }
        return Stats.of(samples);
    }

    /** Patch 0→1 until a Ready pod shows in an informer, then 1→0 until the pods are gone: the first leg timed. */
    private Stats causalChain() {
        LockTarget target = builder("floor-chain");
        KubernetesClient client = client("floor");
        SharedIndexInformer<Pod> pods = client.pods()
                .inNamespace(namespace)
                .withLabel(NodeStandIn.APP_LABEL, target.name())
                .inform();
        Deployment ref = client.apps()
                .deployments()
                .inNamespace(namespace)
                .withName(target.name())
                .get();
        List<Long> samples = new ArrayList<>();
        try {
            for (int i = 0; i < CHAIN_SAMPLES + 3; i++) {
                long t0 = System.nanoTime();
                scale(client, ref, 0, 1);
                awaitPods(pods, true);
                if (i >= 3) {
                    samples.add(System.nanoTime() - t0);
                }
                scale(client, ref, 1, 0);
                awaitPods(pods, false);
            }
        } finally {
            pods.stop();
        }
        return Stats.of(samples);
    }

    private void scale(KubernetesClient client, Deployment ref, int from, int to) {
        client.apps()
                .deployments()
                .inNamespace(namespace)
                .resource(ref)
                .patch(
                        PatchContext.of(PatchType.JSON),
                        "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":" + from
                                + "},{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":" + to + "}]");
    }

    private static void awaitPods(SharedIndexInformer<Pod> pods, boolean ready) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            List<Pod> now = pods.getStore().list();
            if (ready ? !now.isEmpty() && now.stream().allMatch(RealApiServer::isReady) : now.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("causal chain: pods not " + (ready ? "ready" : "gone") + " in 60 s");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static boolean isReady(Pod pod) {
        return pod.getStatus() != null
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    // ---- scenario 1 ----------------------------------------------------------------------------

    private record Cycle(String requests, Stats latency) {}

    private Cycle replicaLockCycles() throws Exception {
        LockTarget target = builder("cycle");
        String agent = "cycle-replica-lock";
        ReplicaLocks locks = locks(agent, LockOptions.defaults());
        ReplicaLock[] held = new ReplicaLock[1];
        return cycles(agent, () -> held[0] = locks.acquire(target, Duration.ofSeconds(60)), () -> held[0].close());
    }

    private Cycle electorCycles() throws Exception {
        String agent = "cycle-elector";
        KubernetesClient client = client(agent);
        Elector[] elector = new Elector[1];
        return cycles(
                agent,
                () -> {
                    elector[0] = new Elector(client, "cycle-lease", agent, Timings.TIGHTEST);
                    elector[0].acquire();
                },
                () -> elector[0].release());
    }

    /** A step of a cycle. */
    private interface Step {
        void run() throws Exception;
    }

    /** Warm-up, then measured cycles of acquire and release: the latency and the requests of each half. */
    private Cycle cycles(String agent, Step acquire, Step release) throws Exception {
        List<Long> latency = new ArrayList<>();
        long acquireRequests = 0;
        long releaseRequests = 0;
        for (int i = 0; i < CYCLE_WARMUP + CYCLES; i++) {
            long t0 = System.nanoTime();
            long before = count(agent);
            acquire.run();
            long between = count(agent);
            release.run();
            long t1 = System.nanoTime();
            // Lets answers in flight (events are sent asynchronously) land in this cycle's count.
            Thread.sleep(50);
            if (i >= CYCLE_WARMUP) {
                latency.add(t1 - t0);
                acquireRequests += between - before;
                releaseRequests += count(agent) - between;
            }
        }
        return new Cycle(
                Stats.number((double) acquireRequests / CYCLES) + " / "
                        + Stats.number((double) releaseRequests / CYCLES),
                Stats.of(latency));
    }

    private Stats shellCycles() {
        LockTarget target = builder("cycle-shell");
        String selector = NodeStandIn.APP_LABEL + "=" + target.name();
        Duration limit = Duration.ofSeconds(90);
        List<Long> latency = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
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
            if (i >= 2) {
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

    /** fabric8's LeaderElector on a LeaseLock with releaseOnCancel. */
    private final class Elector {
        private final KubernetesClient client;
        private final String lease;
        private final String identity;
        private final Timings timings;
        private final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch stopped = new CountDownLatch(1);
        private CompletableFuture<?> running = CompletableFuture.completedFuture(null);

        Elector(KubernetesClient client, String lease, String identity, Timings timings) {
            this.client = client;
            this.lease = lease;
            this.identity = identity;
            this.timings = timings;
        }

        void start() {
            running = client.leaderElector()
                    .withConfig(new LeaderElectionConfigBuilder()
                            .withName("bench")
                            .withLock(new LeaseLock(namespace, lease, identity))
                            .withLeaseDuration(timings.lease())
                            .withRenewDeadline(timings.renewDeadline())
                            .withRetryPeriod(timings.retryPeriod())
                            .withReleaseOnCancel(true)
                            .withLeaderCallbacks(
                                    new LeaderCallbacks(started::countDown, stopped::countDown, leader -> {}))
                            .build())
                    .build()
                    .start();
        }

        void acquire() throws Exception {
            start();
            awaitLeading(Duration.ofSeconds(30));
        }

        void awaitLeading(Duration timeout) throws Exception {
            if (!started.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(identity + " did not lead within " + timeout);
            }
        }

        void release() throws Exception {
            running.cancel(true);
            if (!stopped.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(identity + " did not stop leading");
            }
        }
    }

    // ---- scenario 2 ----------------------------------------------------------------------------

    /** N contenders loop on one lock; handoff = next holder's acquire returned − previous close() returned. */
    private Stats handoff(int n, int handoffs, Duration limit) throws Exception {
        LockTarget target = builder("handoff-" + n);
        Map<Long, Long> began = new ConcurrentHashMap<>();
        Map<Long, Long> ended = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(n, daemon("handoff"));
        List<Future<?>> loops = new ArrayList<>();
        long deadline = System.nanoTime() + limit.toNanos();
        for (int i = 0; i < n; i++) {
            ReplicaLocks locks = locks("handoff-" + n + "-" + i, LockOptions.defaults());
            loops.add(pool.submit(() -> {
                long lastToken = -1;
                while (!stop.get()) {
                    // Queue again only once someone else holds: every handoff goes to a waiter.
                    while (lastToken >= 0 && !began.containsKey(lastToken + 1) && !stop.get()) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    if (stop.get()) {
                        return null;
                    }
                    ReplicaLock lock;
                    try {
                        // N − 1 waiters queue: a turn can take N handoffs.
                        lock = locks.acquire(target, Duration.ofMinutes(10));
                    } catch (RuntimeException timeoutOrClosed) {
                        if (stop.get()) {
                            return null;
                        }
                        throw timeoutOrClosed;
                    }
                    began.put(lock.fencingToken(), System.nanoTime());
                    lastToken = lock.fencingToken();
                    lock.close();
                    ended.put(lock.fencingToken(), System.nanoTime());
                    if (began.size() >= handoffs + 6 || System.nanoTime() - deadline >= 0) {
                        stop.set(true);
                    }
                }
                return null;
            }));
        }
        for (Future<?> loop : loops) {
            loop.get(limit.toSeconds() + 90, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        List<Long> samples = new ArrayList<>();
        long first = began.keySet().stream().mapToLong(Long::longValue).min().orElse(0);
        began.forEach((token, at) -> {
            Long previousEnd = ended.get(token - 1);
            if (token > first + 5 && previousEnd != null) {
                samples.add(at - previousEnd);
            }
        });
        return Stats.of(samples);
    }

    private Stats electorHandoff(int handoffs) throws Exception {
        String lease = "handoff-lease";
        List<Long> samples = new ArrayList<>();
        KubernetesClient a = client("elector-a");
        KubernetesClient b = client("elector-b");
        Elector leader = new Elector(a, lease, "elector-a", Timings.TIGHTEST);
        leader.acquire();
        for (int i = 0; i < handoffs + 1; i++) {
            KubernetesClient next = (i % 2 == 0) ? b : a;
            Elector candidate = new Elector(next, lease, "elector-" + UUID.randomUUID(), Timings.TIGHTEST);
            candidate.start();
            LockSupport.parkNanos(Duration.ofMillis(500).toNanos()); // campaigning, seeing the lease held
            long released = System.nanoTime();
            leader.release();
            candidate.awaitLeading(Duration.ofSeconds(30));
            if (i >= 1) {
                samples.add(System.nanoTime() - released);
            }
            leader = candidate;
        }
        leader.release();
        return Stats.of(samples);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    // ---- scenario 3 ----------------------------------------------------------------------------

    private double waitingLoad(int waiters, Duration window) throws Exception {
        LockTarget target = builder("load");
        ReplicaLocks holder = locks("load-holder", LockOptions.defaults());
        ReplicaLock held = holder.acquire(target, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(waiters, daemon("waiter"));
        List<ReplicaLocks> all = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            ReplicaLocks locks = locks("load-waiter-" + i, LockOptions.defaults());
            all.add(locks);
            pool.submit(() -> locks.acquire(target, Duration.ofMinutes(10)));
        }
        // Every waiter has opened its watches (a watch request each for the Deployment and its pods).
        long setupDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (requests.stream()
                                .filter(r -> r.agent().startsWith("load-waiter-") && r.isWatch())
                                .map(Request::agent)
                                .distinct()
                                .count()
                        < waiters
                && System.nanoTime() - setupDeadline < 0) {
            LockSupport.parkNanos(50_000_000);
        }
        Thread.sleep(2_000);
        long before = requests.stream()
                .filter(r -> r.agent().startsWith("load-") && !r.isWatchSetup())
                .count();
        Thread.sleep(window.toMillis());
        long after = requests.stream()
                .filter(r -> r.agent().startsWith("load-") && !r.isWatchSetup())
                .count();
        for (ReplicaLocks locks : all) {
            locks.close();
        }
        pool.shutdownNow();
        held.close();
        return (after - before) / (double) window.toSeconds();
    }

    private void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                Progress.log("closing: " + e);
            }
        }
        node.close();
        ApiServer.deleteNamespace(admin, namespace);
        admin.close();
    }
}
