package io.github.replicalock.benchmarks;

import io.github.replicalock.testkit.Simulation;
import io.github.replicalock.testkit.SimulationReport;
import io.github.replicalock.testkit.VirtualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 6: seeds per second of the test kit's reliability simulation ({@link Simulation}, the
 * one {@code ProtocolSimulationTest} runs 2,000 seeds of in every build), on 1 and on 2 threads.
 */
final class SimulationSpeed {
    private static final int SEEDS = Integer.getInteger("benchmarks.simulation.seeds", 1_000);
    private static final int WARM_UP_SEEDS = 100;
    /** Far from the seeds the build's test runs (1..2,000), so that this measures other schedules too. */
    private static final long FIRST_SEED = 1_000_000;

    private SimulationSpeed() {}

    /** One measured run: seeds on some threads. */
    private record Run(
            int threads, long wallNanos, List<Long> seedNanos, long failed, long operations, long virtualMillis) {
        double seedsPerSecond() {
            return seedNanos.size() / (wallNanos / 1e9);
        }
    }

    static Section run() throws Exception {
        Simulation simulation = Simulation.builder().build();
        runSeeds(simulation, FIRST_SEED - WARM_UP_SEEDS, WARM_UP_SEEDS, 2);
        List<Run> runs =
                List.of(runSeeds(simulation, FIRST_SEED, SEEDS, 1), runSeeds(simulation, FIRST_SEED + SEEDS, SEEDS, 2));

        Section section = new Section("6. Simulation throughput");
        section.para(String.format(
                Locale.ROOT,
                """
                `Simulation.builder().build().run(seed)` (lock-testkit; defaults: %s, virtual time with a %s \
                quiet period), %d seeds on one thread, then \
                %d other seeds on two (as `ProtocolSimulationTest` runs them in the build), after %d seeds of \
                warm-up. Seeds from %d on. Each seed builds its own fake cluster, clients and virtual clocks.""",
                simulation,
                VirtualClock.DEFAULT_QUIET_PERIOD.toNanos() / 1_000 + " µs",
                SEEDS,
                SEEDS,
                WARM_UP_SEEDS,
                FIRST_SEED));
        List<List<String>> rows = new ArrayList<>();
        for (Run run : runs) {
            Stats perSeed = Stats.of(run.seedNanos());
            rows.add(List.of(
                    Integer.toString(run.threads()),
                    Stats.number(run.seedNanos().size()),
                    String.format(Locale.ROOT, "%.1f s", run.wallNanos() / 1e9),
                    String.format(Locale.ROOT, "%.1f", run.seedsPerSecond()),
                    Stats.ms(perSeed.median()) + " / " + Stats.ms(perSeed.p99()) + " / " + Stats.ms(perSeed.max()),
                    String.format(
                            Locale.ROOT,
                            "%.1f",
                            (double) run.operations() / run.seedNanos().size()),
                    String.format(
                            Locale.ROOT,
                            "%.1f s",
                            run.virtualMillis() / 1e3 / run.seedNanos().size()),
                    Long.toString(run.failed())));
            section.figure(
                    "seeds/s, " + run.threads() + (run.threads() == 1 ? " thread" : " threads"),
                    String.format(Locale.ROOT, "%.1f", run.seedsPerSecond()));
        }
        section.table(
                List.of(
                        "threads",
                        "seeds",
                        "wall time",
                        "seeds/s",
                        "wall time per seed: median / p99 / max",
                        "operations per seed",
                        "virtual time per seed",
                        "seeds with a violation"),
                rows);
        section.para("""
                No target was set for this scenario. A seed mostly waits for virtual time to move: the clock \
                advances only after a quiet period with every thread of the seed idle, so a seed's wall time is \
                roughly its number of clock steps times that period plus the work, and two threads are nearly \
                twice as fast on two cores. Any violation here would be a bug: replay it with the command in \
                docs/reliability.md.""");
        return section;
    }

    private static Run runSeeds(Simulation simulation, long first, int seeds, int threads) throws Exception {
        ConcurrentLinkedQueue<Long> seedNanos = new ConcurrentLinkedQueue<>();
        AtomicLong next = new AtomicLong(first);
        AtomicLong failed = new AtomicLong();
        AtomicLong operations = new AtomicLong();
        AtomicLong virtualMillis = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long start = System.nanoTime();
        try {
            List<Future<?>> lanes = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                lanes.add(pool.submit(() -> {
                    for (long seed = next.getAndIncrement(); seed < first + seeds; seed = next.getAndIncrement()) {
                        long t0 = System.nanoTime();
                        SimulationReport report = simulation.run(seed);
                        seedNanos.add(System.nanoTime() - t0);
                        if (!report.passed()) {
                            failed.incrementAndGet();
                            Progress.log("simulation seed " + seed + " violated an invariant:\n" + report.describe());
                        }
                        operations.addAndGet(report.operations());
                        virtualMillis.addAndGet(report.virtualTime().toMillis());
                    }
                    return null;
                }));
            }
            for (Future<?> lane : lanes) {
                lane.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return new Run(
                threads,
                System.nanoTime() - start,
                List.copyOf(seedNanos),
                failed.get(),
                operations.get(),
                virtualMillis.get());
    }
}
