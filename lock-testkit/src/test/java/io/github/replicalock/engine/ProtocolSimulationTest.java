package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.testkit.Simulation;
import io.github.replicalock.testkit.SimulationReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Issue #5: the protocol under faults, seed after seed, with {@link Simulation}. Every run checks
 * the invariants of {@code docs/reliability.md}; a failure prints the seed, its schedule, what
 * happened, and a one-line command that replays it.
 *
 * <ul>
 *   <li>{@value #SEEDS_PROPERTY}: how many seeds (default {@value #DEFAULT_SEEDS}; 100000 for a soak run);
 *   <li>{@value #FIRST_SEED_PROPERTY}: the first seed (default 1), to explore another range;
 *   <li>{@value #SEED_PROPERTY}: replay this one seed only;
 *   <li>{@value #THREADS_PROPERTY}: seeds run in parallel (default 2; each seed has its own cluster);
 *   <li>{@value #STRICT_PROPERTY}: fail on {@linkplain #KNOWN_ENGINE_BUGS known engine bugs} too.
 * </ul>
 */
class ProtocolSimulationTest {
    static final String SEEDS_PROPERTY = "replicalock.simulation.seeds";
    static final String FIRST_SEED_PROPERTY = "replicalock.simulation.firstSeed";
    static final String SEED_PROPERTY = "replicalock.seed";
    static final String THREADS_PROPERTY = "replicalock.simulation.threads";
    static final String STRICT_PROPERTY = "replicalock.simulation.strict";

    /**
     * Engine bugs the simulation finds that are reported but not fixed yet, each with a disabled
     * test that replays it, and one open issue of the simulator itself. A seed whose only
     * violations are one of these is counted and printed, not failed, unless {@value
     * #STRICT_PROPERTY} is true (to check a fix). A stall could also hide an engine deadlock: each
     * one is printed with its replay command, to be replayed with the threads' stacks.
     */
    static final Map<String, Pattern> KNOWN_ENGINE_BUGS = Map.of(
            // Not the engine's: seen twice in about 16,000 seeds run in parallel, never in a replay. Two
            // waiters of one seed were not woken at their deadlines, until the run's two-hour guard.
            "virtual time stalled (testkit, under investigation; see docs/reliability.md)",
            Pattern.compile("stalled: virtual time reached|virtual clock is closed|the cluster is closed"));

    static final int DEFAULT_SEEDS = 2_000;
    private static final int SHOWN_FAILURES = 3;
    private static final int PROGRESS_EVERY = 5_000;

    static String replayCommand(long seed) {
        return "./mvnw -B -pl lock-testkit -am verify -Dtest=ProtocolSimulationTest"
                + " -Dsurefire.failIfNoSpecifiedTests=false -D" + SEED_PROPERTY + "=" + seed;
    }

    /** The known bug all of the report's violations are, or null. */
    static @Nullable String knownBug(SimulationReport report) {
        if (report.passed()) {
            return null;
        }
        for (Map.Entry<String, Pattern> bug : KNOWN_ENGINE_BUGS.entrySet()) {
            if (report.violations().stream()
                    .allMatch(v -> bug.getValue().matcher(v).find())) {
                return bug.getKey();
            }
        }
        return null;
    }

    @Test
    void noSeedViolatesAnInvariant() throws Exception {
        String replay = System.getProperty(SEED_PROPERTY);
        long first = replay != null ? Long.parseLong(replay) : Long.getLong(FIRST_SEED_PROPERTY, 1);
        int seeds = replay != null ? 1 : Integer.getInteger(SEEDS_PROPERTY, DEFAULT_SEEDS);
        int threads = Math.max(1, Integer.getInteger(THREADS_PROPERTY, 2));
        boolean strict = Boolean.getBoolean(STRICT_PROPERTY);
        Map<String, Long> knownBugs = new java.util.concurrent.ConcurrentHashMap<>();
        Simulation simulation = Simulation.builder().build();

        AtomicLong next = new AtomicLong(first);
        long end = first + seeds;
        List<SimulationReport> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<String, Long> totals = java.util.Collections.synchronizedMap(new TreeMap<>());
        AtomicLong operations = new AtomicLong();
        AtomicLong virtualMillis = new AtomicLong();
        AtomicLong done = new AtomicLong();
        long startedAt = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    for (long seed = next.getAndIncrement(); seed < end; seed = next.getAndIncrement()) {
                        SimulationReport report = simulation.run(seed);
                        operations.addAndGet(report.operations());
                        virtualMillis.addAndGet(report.virtualTime().toMillis());
                        report.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
                        long finished = done.incrementAndGet();
                        if (finished % PROGRESS_EVERY == 0) {
                            // For soak runs: a line now and then, so that a long run shows where it is.
                            System.out.printf(
                                    java.util.Locale.ROOT,
                                    "ProtocolSimulationTest: %d of %d seeds in %.0f s, %d failed, %d known engine bugs%n",
                                    finished,
                                    seeds,
                                    (System.nanoTime() - startedAt) / 1e9,
                                    failures.size(),
                                    knownBugs.values().stream()
                                            .mapToLong(Long::longValue)
                                            .sum());
                        }
                        String known = knownBug(report);
                        if (known != null && !strict) {
                            knownBugs.merge(known, 1L, Long::sum);
                            System.err.println("known engine bug in seed " + seed + ": " + known + "; replay: "
                                    + replayCommand(seed));
                        } else if (!report.passed()) {
                            failures.add(report);
                            // The first few in full (plan, what happened), the others in a line each.
                            String what = failures.size() <= SHOWN_FAILURES
                                    ? report.describe()
                                    : "seed " + seed + ": "
                                            + report.violations().get(0);
                            System.err.println("FAILED " + what + "\n  replay: " + replayCommand(seed));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - startedAt) / 1e9;

        System.out.printf(
                java.util.Locale.ROOT,
                "ProtocolSimulationTest: %d seeds from %d on %d threads in %.1f s (%.1f seeds/s), %d failed,"
                        + " known engine bugs %s; %.1f operations and %.1f s of virtual time per seed%n  %s%n",
                seeds,
                first,
                threads,
                seconds,
                seeds / seconds,
                failures.size(),
                knownBugs,
                operations.get() / (double) seeds,
                virtualMillis.get() / 1000.0 / seeds,
                totals);
        StringBuilder message = new StringBuilder();
        failures.sort(java.util.Comparator.comparingLong(SimulationReport::seed));
        for (SimulationReport failure : failures.subList(0, Math.min(SHOWN_FAILURES, failures.size()))) {
            message.append("\n")
                    .append(failure.describe())
                    .append("replay: ")
                    .append(replayCommand(failure.seed()))
                    .append('\n');
        }
        assertThat(failures)
                .as("%d of %d seeds violated an invariant; the first ones:%s", failures.size(), seeds, message)
                .isEmpty();
        assertThat(Duration.ofMillis(virtualMillis.get())).isPositive();
    }
}
