package io.github.replicalock.testkit;

import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.internal.VirtualTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A {@link LockClock} whose time moves only when a test (or its driver thread) moves it, so that a
 * lock's 120 s ready timeout or 30 s lease passes in milliseconds and timing-dependent code runs
 * the same way every time.
 *
 * <p><b>Two modes.</b> A {@linkplain #manual() manual} clock moves only in {@link #advance}. An
 * {@linkplain #autoAdvancing() auto-advancing} clock (what {@link FakeCluster.Builder#virtualTime()}
 * uses) also has a daemon driver thread that jumps to the earliest pending deadline whenever
 * everyone is waiting: code under test just runs, and whenever all its threads wait, time flies.
 * "Everyone is waiting" means all of:
 *
 * <ul>
 *   <li>a timer or a timed wait is pending (otherwise the driver blocks; it never spins);
 *   <li>no thread that has used this clock or its fake cluster (a <em>participant</em>) is
 *       running ({@link Thread.State#RUNNABLE}): a test thread busy asserting or a build thread
 *       preempted on a loaded machine holds time still, however long it takes; threads blocked or
 *       waiting on anything, a real {@code Thread.sleep} included, count as idle, except a thread
 *       waiting for a lock (a monitor or a {@code java.util.concurrent} lock) held by a thread that
 *       is not a participant (another test's thread writing to {@code System.err}, say) or just
 *       released, and a thread queued for the clock's own lock: those are about to run;
 *   <li>no task is due or running, unless the running task waits on this clock, and every waiter
 *       that time or a signal woke has resumed;
 *   <li>nobody has touched the clock (read it, scheduled, signalled, waited) or the fake cluster
 *       for the {@linkplain #quietPeriod() quiet period} of real time: a margin for threads that
 *       have not used the clock yet.
 * </ul>
 *
 * <p>The flip side: a participant that keeps running without ever waiting (a spin loop on a flag)
 * holds virtual time still.
 *
 * <pre>{@code
 * try (VirtualClock clock = VirtualClock.autoAdvancing()) {
 *     LockClock.Wakeup wakeup = clock.newWakeup();
 *     boolean signalled = wakeup.awaitUntil(clock.nanoTime() + Duration.ofSeconds(120).toNanos());
 *     // returns false after 120 s of virtual time, a few milliseconds of real time
 *     assertThat(clock.elapsed()).isGreaterThanOrEqualTo(Duration.ofSeconds(120));
 * }
 *
 * try (VirtualClock clock = VirtualClock.manual()) {
 *     clock.schedule(Duration.ofSeconds(10), () -> System.out.println("renew"));
 *     clock.advance(Duration.ofSeconds(30)); // prints "renew" once, at virtual 10 s
 * }
 * }</pre>
 *
 * <p><b>Semantics.</b>
 *
 * <ul>
 *   <li>{@link #now()} is a fixed start instant plus the elapsed virtual time; {@link #nanoTime()}
 *       has an arbitrary origin and moves with it.
 *   <li>Scheduled tasks run in deadline order (first scheduled first on ties) on one daemon task
 *       thread, never on the thread that moves time. A task may itself wait on this clock (a fake
 *       request latency): time keeps moving while it does. Tasks due while another task waits run
 *       after it, as on a single-threaded scheduler. An exception thrown by a task is logged and
 *       kept in {@link #taskFailures()}.
 *   <li>A {@link LockClock.Wakeup} holds one permit: a signal before the wait is not lost. A wait
 *       really blocks its thread, returns true when signalled, false when virtual time reaches the
 *       deadline, and throws {@link InterruptedException} on interrupt (keeping any permit). A
 *       signal and a deadline that race are ordered by one lock: the first wins, and a signal that
 *       arrives by the time the waiter runs again wins over the deadline.
 *   <li>{@link #advance} steps through deadlines the same way, waiting after each step until
 *       everyone else is waiting again.
 * </ul>
 *
 * <p>{@link #close()} stops both threads: pending tasks never run, and waits throw {@link
 * IllegalStateException}; tasks scheduled afterwards are dropped.
 */
public final class VirtualClock implements LockClock, AutoCloseable {
    /** The default start instant: fixed, so that timestamps in tests are reproducible. */
    public static final Instant DEFAULT_START = Instant.parse("2030-01-01T00:00:00Z");

    /**
     * The default quiet period, 500 µs: a margin for threads about to use the clock for the first
     * time (participants are tracked exactly, so it need not cover a busy thread). Measured on a
     * loaded 2-core machine, a 120 s wait with a renewal every 10 s takes a median 10 ms of real
     * time with it (13 ms with 1 ms).
     */
    public static final Duration DEFAULT_QUIET_PERIOD = Duration.ofNanos(500_000);

    private final VirtualTime time;

    private VirtualClock(VirtualTime time) {
        this.time = time;
    }

    /** A clock that moves only in {@link #advance}, starting at {@link #DEFAULT_START}. */
    public static VirtualClock manual() {
        return builder().build();
    }

    /** A clock that jumps to the next deadline whenever everyone is waiting; see the class comment. */
    public static VirtualClock autoAdvancing() {
        return builder().autoAdvance().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Instant now() {
        return time.now();
    }

    @Override
    public long nanoTime() {
        return time.nanoTime();
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        return time.schedule(delay, task);
    }

    @Override
    public Wakeup newWakeup() {
        return time.newWakeup();
    }

    /**
     * Moves time forward by {@code duration}, stepping to each deadline on the way, and returns once
     * the tasks and waiters of the last step are done or waiting again. After each step it waits
     * until they are done or waiting on the clock, and for a quiet period, so that a timer scheduled
     * in reaction still fires in this advance if it is due. Works in both modes.
     *
     * @throws IllegalArgumentException if {@code duration} is negative
     * @throws IllegalStateException if called from a clock task (it would wait for itself), or if
     *     interrupted (the interrupt flag is restored)
     */
    public void advance(Duration duration) {
        time.advance(duration);
    }

    /** The virtual time that has passed since the clock started. Reading it is not activity. */
    public Duration elapsed() {
        return time.elapsed();
    }

    /** True if a driver thread moves time by itself. */
    public boolean isAutoAdvancing() {
        return time.autoAdvancing();
    }

    /** How long the clock must be left alone before the driver moves time. */
    public Duration quietPeriod() {
        return time.quietPeriod();
    }

    /**
     * How many threads are blocked in {@link Wakeup#awaitUntil} on this clock now: lets a test wait
     * until the code under test is waiting, before it moves time or signals. Reading it is not
     * activity.
     *
     * <pre>{@code
     * await().until(() -> clock.waitingThreads() == 1);
     * clock.advance(Duration.ofSeconds(120));
     * }</pre>
     */
    public int waitingThreads() {
        return time.waitingThreads();
    }

    /**
     * A multi-line snapshot for diagnosing a stall or a hang: virtual time, what keeps the clock
     * busy, every pending deadline (timers, and waits with the waiting thread's name) and every
     * participant with its {@link Thread.State}. Reading it is not activity.
     */
    public String diagnostics() {
        return time.diagnostics();
    }

    /** The exceptions scheduled tasks have thrown, oldest first. */
    public List<Throwable> taskFailures() {
        return time.taskFailures();
    }

    /** Counts as activity, as a request to the fake cluster does; package-private for it. */
    void touch() {
        time.touch();
    }

    /** Stops the driver and task threads; idempotent. */
    @Override
    public void close() {
        time.close();
    }

    @Override
    public String toString() {
        return "VirtualClock{elapsed=" + elapsed() + (isAutoAdvancing() ? ", auto-advancing" : ", manual") + "}";
    }

    /**
     * Builds a {@link VirtualClock}.
     *
     * <pre>{@code
     * VirtualClock clock = VirtualClock.builder()
     *         .start(Instant.parse("2030-01-01T12:00:00Z"))
     *         .autoAdvance()
     *         .quietPeriod(Duration.ofMillis(5)) // a slow CI machine
     *         .build();
     * }</pre>
     */
    public static final class Builder {
        private Instant start = DEFAULT_START;
        private boolean autoAdvance;
        private Duration quietPeriod = Timing.scaled(DEFAULT_QUIET_PERIOD);

        private Builder() {}

        /** What {@link #now()} returns before time moves; default {@link #DEFAULT_START}. */
        public Builder start(Instant start) {
            this.start = Objects.requireNonNull(start, "start must not be null");
            return this;
        }

        /** Starts a driver thread that moves time whenever the clock is quiet. */
        public Builder autoAdvance() {
            this.autoAdvance = true;
            return this;
        }

        /**
         * How long the clock must be left alone (in real time) before time moves; default {@link
         * #DEFAULT_QUIET_PERIOD} times {@link Timing#scale()}. Also used by {@link #advance} between
         * steps.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder quietPeriod(Duration quietPeriod) {
            Objects.requireNonNull(quietPeriod, "quietPeriod must not be null");
            if (quietPeriod.isZero() || quietPeriod.isNegative()) {
                throw new IllegalArgumentException("quietPeriod must be positive, got " + quietPeriod);
            }
            this.quietPeriod = quietPeriod;
            return this;
        }

        public VirtualClock build() {
            return new VirtualClock(new VirtualTime(start, autoAdvance, quietPeriod));
        }
    }
}
