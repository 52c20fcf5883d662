package io.github.replicalock.testkit.internal;

import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Reports a run that does not end: a stall (virtual time reached the run's guard with threads
 * still busy) or a hang (no verdict within the real-time limit; the watchdog then closes the clock
 * so that the run's threads end). Both reports carry the clock's diagnostics and the stacks of the
 * run's threads, so that they can be diagnosed without a replay.
 */
final class StallWatch {
    // The run's logger: a stall is the run's news.
    private static final System.Logger LOG = System.getLogger(SimulationRun.class.getName());

    private final long seed;
    private final VirtualClock clock;
    private final RunLog log;
    private final Duration realTimeLimit;
    private final Supplier<List<Thread>> threads;
    private volatile boolean fired;

    StallWatch(long seed, VirtualClock clock, RunLog log, Duration realTimeLimit, Supplier<List<Thread>> threads) {
        this.seed = seed;
        this.clock = clock;
        this.log = log;
        this.realTimeLimit = realTimeLimit;
        this.threads = threads;
    }

    /** Starts the watchdog; it gives up once {@code done} is counted down. */
    void start(CountDownLatch done) {
        Thread watchdog = new Thread(() -> watch(done), "simulation-watchdog-" + seed);
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** True once the watchdog closed the clock: what the run's threads see after that is its doing. */
    boolean fired() {
        return fired;
    }

    /** Records a stall at {@code horizon}, in the report and the log. */
    void stalled(Duration horizon, int busyThreads) {
        String state = state();
        log.violation("stalled: virtual time reached " + horizon + " with " + busyThreads + " threads busy" + state);
        // Also in the log: a run that counts the stall apart prints the seed in one line only.
        LOG.log(
                System.Logger.Level.WARNING,
                "simulation seed " + seed + " stalled: virtual time reached " + horizon + state
                        + "\n  trace (latest last):\n    " + String.join("\n    ", log.traceLines()));
    }

    private void watch(CountDownLatch done) {
        try {
            if (!done.await(realTimeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                fired = true;
                log.violation("hung: no verdict after " + realTimeLimit + " of real time, at virtual " + clock.elapsed()
                        + state());
                clock.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The clock's diagnostics and the stacks of the run's threads. */
    private String state() {
        StringBuilder dump = new StringBuilder("\n").append(clock.diagnostics());
        for (Thread t : threads.get()) {
            dump.append("\n  ").append(t.getName()).append(' ').append(t.getState());
            RunLog.appendFrames(dump, t.getStackTrace(), Integer.MAX_VALUE);
        }
        return dump.toString();
    }
}
