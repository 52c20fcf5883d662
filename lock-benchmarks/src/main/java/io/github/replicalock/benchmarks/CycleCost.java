package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.benchmarks.Contenders.Contender;
import io.github.replicalock.benchmarks.Contenders.Elector;
import io.github.replicalock.benchmarks.Contenders.ReplicaLockContender;
import io.github.replicalock.benchmarks.Contenders.ShellSteps;
import io.github.replicalock.benchmarks.Contenders.Timings;
import io.github.replicalock.benchmarks.MockApi.Request;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scenario 1: one uncontended acquire and release, for replica-lock, the shell steps and
 * LeaderElector, alternating in rounds on one mock server: wall time, and the requests the mock
 * saw from each (by User-Agent, so the controller simulation's are not counted).
 */
final class CycleCost {
    static final String NAMESPACE = "cycle";
    private static final int WARMUP_ROUNDS = 10;
    private static final int ROUNDS = 40;
    private static final long QUIET_MILLIS = 25;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private CycleCost() {}

    /** What one contender did over the measured rounds. */
    private static final class Tally {
        final Contender contender;
        final String label;
        final List<Long> acquire = new ArrayList<>();
        final List<Long> release = new ArrayList<>();
        final List<Long> cycle = new ArrayList<>();
        final Counts acquireCounts = new Counts();
        final Counts releaseCounts = new Counts();
        List<Request> lastAcquire = List.of();
        List<Request> lastRelease = List.of();

        Tally(String label, Contender contender) {
            this.label = label;
            this.contender = contender;
        }
    }

    static Section run() throws Exception {
        try (MockApi api = new MockApi()) {
            api.closeLater(ControllerSimulation.start(api.client(ControllerSimulation.USER_AGENT), NAMESPACE));
            LockTarget rl = api.createBuilder(NAMESPACE, "rl-builder");
            LockTarget sh = api.createBuilder(NAMESPACE, "sh-builder");
            List<Tally> tallies = List.of(
                    new Tally(
                            "replica-lock", new ReplicaLockContender(api, "replica-lock", rl, LockOptions.defaults())),
                    new Tally("shell steps (fabric8 calls)", new ShellSteps(api, sh)),
                    new Tally(
                            "LeaderElector + LeaseLock, " + Timings.CUSTOMARY,
                            new Elector(api, "leader-elector", NAMESPACE, "le-lock", Timings.CUSTOMARY)));
            Floor floor = Floor.measure(api);
            for (int round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
                boolean measured = round >= WARMUP_ROUNDS;
                for (int i = 0; i < tallies.size(); i++) {
                    // Rotate who goes first, so that no contender always follows the same one.
                    cycle(api, tallies.get((i + round) % tallies.size()), measured);
                }
            }
            tallies.forEach(t -> t.contender.close());
            Section section = report(tallies, floor);
            section.para("Deletions the mock would have kept from a watch (replayed by the dispatcher; see the notes): "
                    + api.replayedDeletions() + ".");
            return section;
        }
    }

    private static void cycle(MockApi api, Tally t, boolean measured) throws Exception {
        api.takeRequestsWhenQuiet(QUIET_MILLIS);
        long t0 = System.nanoTime();
        t.contender.acquire(TIMEOUT);
        long t1 = System.nanoTime();
        List<Request> acquired = mine(api.takeRequestsWhenQuiet(QUIET_MILLIS), t.contender.agent());
        long t2 = System.nanoTime();
        t.contender.release();
        long t3 = System.nanoTime();
        if (Boolean.getBoolean("benchmarks.debug")) {
            Progress.log("  " + t.label + ": " + (t1 - t0) / 1_000_000 + " ms + " + (t3 - t2) / 1_000_000 + " ms");
        }
        List<Request> released = mine(api.takeRequestsWhenQuiet(QUIET_MILLIS), t.contender.agent());
        if (measured) {
            t.acquire.add(t1 - t0);
            t.release.add(t3 - t2);
            t.cycle.add((t1 - t0) + (t3 - t2));
            t.acquireCounts.add(acquired);
            t.releaseCounts.add(released);
            t.lastAcquire = acquired;
            t.lastRelease = released;
        }
    }

    static List<Request> mine(List<Request> requests, String agent) {
        return requests.stream().filter(r -> r.agent().equals(agent)).toList();
    }

    /** Per step: requests aside from watches (the lock's reads and writes, and events), and watch set-up. */
    static final class Counts {
        final List<Integer> lock = new ArrayList<>();
        final List<Integer> events = new ArrayList<>();
        final List<Integer> watchSetup = new ArrayList<>();

        void add(List<Request> requests) {
            int setup = (int) requests.stream().filter(Request::isWatchSetup).count();
            int event = (int) requests.stream().filter(Request::isEvent).count();
            watchSetup.add(setup);
            events.add(event);
            lock.add(requests.size() - setup - event);
        }

        /** Requests with watches aside: the lock's own and events. */
        List<Integer> total() {
            List<Integer> total = new ArrayList<>();
            for (int i = 0; i < lock.size(); i++) {
                total.add(lock.get(i) + events.get(i));
            }
            return total;
        }
    }

    private static Section report(List<Tally> tallies, Floor floor) {
        Section s = new Section("1. Cost of one uncontended cycle");
        s.para(String.format(Locale.ROOT, """
                fabric8's CRUD mock server (kubernetes-server-mock 8.0.0) on loopback over plain HTTP, JDK \
                transport, a controller simulation that makes pods Ready at once, mock logging off. Each \
                contender has its own client and object (replica-lock and the shell steps their own builder \
                Deployment, LeaderElector a Lease); %d rounds after %d of warm-up, each round one cycle of \
                each contender in rotating order. Requests are the mock's request log, counted by the \
                contender's User-Agent (the controller simulation's are not counted), taken once the server \
                has been quiet for %d ms after the step. "Watches aside" leaves out the watch streams and the \
                list each informer starts with (fabric8 lists with `resourceVersion=0`); events (`POST \
                events`) count. The LeaderElector does not start or stop a pod, so it is the floor for a \
                lock, not the same work; the shell steps are. Steady state: the last token, lease and pods already \
                exist. replica-lock runs with `LockOptions.defaults()` and the backend's default retry \
                settings.""", ROUNDS, WARMUP_ROUNDS, QUIET_MILLIS));
        List<List<String>> requestRows = new ArrayList<>();
        for (Tally t : tallies) {
            boolean isOurs = t == tallies.get(0);
            boolean met = max(t.acquireCounts.total()) <= 2 && max(t.releaseCounts.total()) <= 2;
            requestRows.add(List.of(
                    t.label,
                    range(t.acquireCounts.total()) + " / " + range(t.releaseCounts.total()),
                    range(t.acquireCounts.lock) + " / " + range(t.releaseCounts.lock),
                    range(t.acquireCounts.events) + " / " + range(t.releaseCounts.events),
                    range(t.acquireCounts.watchSetup) + " / " + range(t.releaseCounts.watchSetup),
                    isOurs ? "≤ 2 / ≤ 2" : "—",
                    isOurs ? (met ? "met" : "**missed**") : "—"));
        }
        s.table(
                List.of(
                        "contender",
                        "requests, watches aside: acquire / release",
                        "of which reads and writes",
                        "of which events",
                        "watch set-up (informer list + stream)",
                        "target",
                        "verdict"),
                requestRows);
        Tally ours = tallies.get(0);
        double bestAnchor = Math.min(
                Stats.of(tallies.get(1).cycle).median(),
                Stats.of(tallies.get(2).cycle).median());
        List<List<String>> timeRows = new ArrayList<>();
        for (Tally t : tallies) {
            Stats a = Stats.of(t.acquire);
            Stats r = Stats.of(t.release);
            Stats c = Stats.of(t.cycle);
            timeRows.add(List.of(
                    t.label,
                    Stats.ms(a.median()) + " / " + Stats.ms(a.p99()),
                    Stats.ms(r.median()) + " / " + Stats.ms(r.p99()),
                    Stats.ms(c.median()),
                    Stats.ms(c.p99()),
                    Stats.ms(c.max()),
                    Stats.ratio(c.median(), bestAnchor),
                    Stats.ratio(c.median(), floor.get.median())));
        }
        timeRows.add(List.of(
                "mock floor: one GET of a Deployment",
                "—",
                "—",
                Stats.ms(floor.get.median()),
                Stats.ms(floor.get.p99()),
                Stats.ms(floor.get.max()),
                "—",
                "×1"));
        timeRows.add(List.of(
                "mock floor: one conditional JSON Patch",
                "—",
                "—",
                Stats.ms(floor.patch.median()),
                Stats.ms(floor.patch.p99()),
                Stats.ms(floor.patch.max()),
                "—",
                Stats.ratio(floor.patch.median(), floor.get.median())));
        s.table(
                List.of(
                        "contender",
                        "acquire median / p99",
                        "release median / p99",
                        "cycle median",
                        "cycle p99",
                        "cycle max",
                        "cycle vs best anchor",
                        "cycle vs one GET"),
                timeRows);
        if (tallies.get(1).contender instanceof ShellSteps shell && shell.relists.get() > 0) {
            s.para("The shell steps' wait listed again " + shell.relists.get()
                    + " time(s) after 1 s without news (the mock's list-then-watch gap, see the notes).");
        }
        s.para("The requests of the last measured cycle, method and path, in order (watches included):");
        StringBuilder sequences = new StringBuilder();
        for (Tally t : tallies) {
            sequences.append(t.label).append(", acquire:\n");
            t.lastAcquire.forEach(r -> sequences.append("  ").append(r).append('\n'));
            sequences.append(t.label).append(", release:\n");
            t.lastRelease.forEach(r -> sequences.append("  ").append(r).append('\n'));
        }
        s.code(sequences.toString());
        boolean met = max(ours.acquireCounts.total()) <= 2 && max(ours.releaseCounts.total()) <= 2;
        s.verdict(
                "requests per acquire / release, steady state, watches aside",
                range(ours.acquireCounts.total()) + " / " + range(ours.releaseCounts.total()),
                "≤ 2 / ≤ 2",
                met);
        return s;
    }

    private static int max(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    private static String range(List<Integer> values) {
        int min = values.stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = max(values);
        return min == max ? String.valueOf(min) : min + "–" + max;
    }

    /** One request alone on the mock: a GET and a conditional JSON Patch, on a namespace without a controller. */
    record Floor(Stats get, Stats patch) {
        static Floor measure(MockApi api) {
            KubernetesClient client = api.client("floor");
            Deployment ref = new DeploymentBuilder()
                    .withNewMetadata()
                    .withName("floor")
                    .withNamespace("floor")
                    .withAnnotations(Map.of("bench/n", "0"))
                    .endMetadata()
                    .withNewSpec()
                    .withReplicas(0)
                    .endSpec()
                    .build();
            client.apps().deployments().inNamespace("floor").resource(ref).create();
            List<Long> gets = new ArrayList<>();
            List<Long> patches = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                long t0 = System.nanoTime();
                client.apps()
                        .deployments()
                        .inNamespace("floor")
                        .withName("floor")
                        .get();
                long t1 = System.nanoTime();
                client.apps()
                        .deployments()
                        .inNamespace("floor")
                        .resource(ref)
                        .patch(
                                PatchContext.of(PatchType.JSON),
                                "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":0},"
                                        + "{\"op\":\"replace\",\"path\":\"/metadata/annotations/bench~1n\",\"value\":\""
                                        + i + "\"}]");
                long t2 = System.nanoTime();
                if (i >= 200) {
                    gets.add(t1 - t0);
                    patches.add(t2 - t1);
                }
            }
            return new Floor(Stats.of(gets), Stats.of(patches));
        }
    }
}
