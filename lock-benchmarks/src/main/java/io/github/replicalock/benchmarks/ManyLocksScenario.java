package io.github.replicalock.benchmarks;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Scenario 5: runs {@link ManyLocks} in a fresh JVM and writes its table. */
final class ManyLocksScenario {
    static final int TARGET_THREADS = 2;
    static final long TARGET_BYTES_PER_LOCK = 4096;

    private ManyLocksScenario() {}

    static Section run() throws Exception {
        Map<String, String> v = Forked.run(ManyLocks.class, List.of("-Xms1g", "-Xmx1g", "-XX:+UseG1GC"), 300);
        int n = ManyLocks.LOCKS;
        String threadList = v.getOrDefault("threads", "");
        List<String> threads = Stats.commaSeparated(threadList);
        long[] rounds = new long[3];
        for (int i = 0; i < rounds.length; i++) {
            rounds[i] = Long.parseLong(Forked.value(v, "round" + (i + 1) + ".perLockBytes"));
        }
        long perLock = Arrays.stream(rounds).max().orElseThrow();
        double[] renewals = Stats.commaSeparated(Forked.value(v, "renewalsPerSecond")).stream()
                .mapToDouble(Double::parseDouble)
                .toArray();
        double expected = n / (ManyLocks.LEASE.toMillis() / 3000.0);
        long[] renewalSamples = Arrays.stream(renewals).mapToLong(Math::round).toArray();
        Stats r = Stats.of(renewalSamples);
        boolean threadsMet = threads.size() <= TARGET_THREADS;
        boolean heapMet = perLock <= TARGET_BYTES_PER_LOCK;
        boolean renewMet = Math.abs(r.median() - expected) <= expected * 0.05;

        Section s = new Section("5. Many locks in one process");
        s.para(String.format(
                Locale.ROOT, """
                %,d locks held at once by one `ReplicaLocks` on %,d Deployments of one real-time `FakeCluster` \
                (zero pod delays, history off), lease %d s so renewal every %d s; measured in a fresh JVM \
                (`-Xmx1g`, G1). Threads: the live threads after all locks are held that were not there \
                before the first lock (after a warm-up on another cluster). Heap: used heap after full GCs \
                with the %,d locks held through the library, minus the used heap with the same %,d holds \
                written straight through the backend SPI (same annotations, same pods in the fake), over \
                %,d; events dropped on both sides (they live in the API server). Three alternating rounds; the \
                largest figure counts.""", n, n, ManyLocks.LEASE.toSeconds(), ManyLocks.LEASE.toSeconds() / 3, n, n, n));
        s.table(
                List.of("figure", "measured", "target", "verdict"),
                List.of(
                        List.of(
                                "threads the library started",
                                threads.size() + (threads.isEmpty() ? "" : " (`" + String.join("`, `", threads) + "`)"),
                                "≤ 2",
                                threadsMet ? "met" : "**missed**"),
                        List.of(
                                "retained heap per held lock",
                                String.format(
                                        Locale.ROOT,
                                        "%,d B (rounds: %,d B, %,d B, %,d B)",
                                        perLock,
                                        rounds[0],
                                        rounds[1],
                                        rounds[2]),
                                "≤ 4 KiB",
                                heapMet ? "met" : "**missed**"),
                        List.of(
                                "fake cluster's own heap per held Deployment (context)",
                                String.format(
                                        Locale.ROOT, "%,d B", Long.parseLong(Forked.value(v, "round2.rawBytes")) / n),
                                "—",
                                "—"),
                        List.of(
                                "acquire 1,000 locks one after another / release them all",
                                Stats.ms(Double.parseDouble(Forked.value(v, "round2.acquireAllNanos"))) + " / "
                                        + Stats.ms(Double.parseDouble(Forked.value(v, "round2.releaseAllNanos"))),
                                "—",
                                "—")));
        s.table(
                List.of(
                        "renewal writes per second (1 s buckets)",
                        "median",
                        "p99",
                        "max",
                        "min",
                        "expected N / (lease/3)",
                        "verdict"),
                List.of(List.of(
                        String.format(Locale.ROOT, "%,d locks, lease %d s", n, ManyLocks.LEASE.toSeconds()),
                        Stats.number(r.median()),
                        Stats.number(r.p99()),
                        Stats.number(r.max()),
                        Stats.number(r.min()),
                        Stats.number(expected),
                        renewMet ? "met (within 5%)" : "**missed**")));
        s.verdict("threads started for 1,000 held locks", String.valueOf(threads.size()), "≤ 2", threadsMet);
        s.verdict("retained heap per held lock", String.format(Locale.ROOT, "%,d B", perLock), "≤ 4 KiB", heapMet);
        s.verdict(
                "renewal writes/s, 1,000 locks, lease 3 s (median)",
                Stats.number(r.median()),
                "= " + Stats.number(expected),
                renewMet);
        return s;
    }
}
