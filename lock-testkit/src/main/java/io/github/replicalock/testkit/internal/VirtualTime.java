package io.github.replicalock.testkit.internal;

import static io.github.replicalock.testkit.internal.PendingDeadlines.saturatedAdd;
import static io.github.replicalock.testkit.internal.PendingDeadlines.saturatedNanos;

import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.internal.VirtualWakeup.Waiter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The engine of {@code VirtualClock}: virtual time, what keeps it still, and the auto-advance
 * driver that moves it. Its parts: the {@link PendingDeadlines}, the {@link TaskRunner} that runs
 * due timers, the {@link VirtualWakeup}s that threads wait on, and the {@link Participants} whose
 * activity the driver waits out.
 *
 * <p>One lock guards everything, so that "time moved", "a timer became due", "a waiter was
 * signalled" and "a waiter registered" are totally ordered: no wakeup is lost between a waiter's
 * check and its wait, and a deadline and a signal that race are decided by whoever takes the lock
 * first.
 *
 * <p>Time never moves while the clock is <em>busy</em>: a due task has not started, the runner is
 * running a task that is not itself waiting on this clock, or a waiter that time (or a signal) woke
 * has not yet taken the lock back. That is what lets a task wait on a virtual latency: the runner
 * waiting on the clock is not busy, so time can reach the latency's end.
 */
public final class VirtualTime implements AutoCloseable {
    /**
     * The value of {@link #nanoTime()} at the start: arbitrary, as {@link System#nanoTime()}'s
     * origin is, and not 0 so that code treating it as an elapsed time shows up in tests.
     */
    static final long NANO_ORIGIN = 1_000_000_000_000L;

    private static final LockClock.Cancellable NOT_SCHEDULED = () -> {};

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever the clock may have stopped being busy. */
    private final Condition settled = lock.newCondition();

    private final PendingDeadlines pending = new PendingDeadlines(lock);
    private final TaskRunner runner = new TaskRunner(lock, settled, pending);
    private final Participants participants;

    private final Instant start;
    private final long quietNanos;
    private final @Nullable Thread driver;

    /** Virtual nanoseconds since the start. Written under the lock, read without it. */
    private volatile long elapsed;

    private int waitingThreads;
    private int wokenWaiters;
    private boolean closed;

    public VirtualTime(Instant start, boolean autoAdvance, Duration quietPeriod) {
        this.start = Objects.requireNonNull(start, "start");
        this.quietNanos = quietPeriod.toNanos();
        Thread drives = null;
        if (autoAdvance) {
            drives = new Thread(this::drive, "virtual-clock-driver");
            drives.setDaemon(true);
        }
        this.driver = drives;
        this.participants = new Participants(runner.thread(), driver);
        runner.start();
        if (driver != null) {
            driver.start();
        }
    }

    // ---------------------------------------------------------------- reading time

    public Instant now() {
        touch();
        return start.plusNanos(elapsed);
    }

    public long nanoTime() {
        touch();
        return nanoTimeNow();
    }

    /** {@link #nanoTime()} without touching: for the clock's own parts. */
    long nanoTimeNow() {
        return NANO_ORIGIN + elapsed;
    }

    /** Virtual time since the start; an inspection, so it does not count as activity. */
    public Duration elapsed() {
        return Duration.ofNanos(elapsed);
    }

    public boolean autoAdvancing() {
        return driver != null;
    }

    public Duration quietPeriod() {
        return Duration.ofNanos(quietNanos);
    }

    /**
     * Marks activity, and the calling thread as a participant: the auto-advance driver waits for a
     * quiet period after the last activity, and until no participant is running.
     */
    public void touch() {
        participants.touch();
    }

    /** How many threads are blocked in a wait on this clock; an inspection, not activity. */
    public int waitingThreads() {
        lock.lock();
        try {
            return waitingThreads;
        } finally {
            lock.unlock();
        }
    }

    public List<Throwable> taskFailures() {
        return runner.failures();
    }

    /**
     * A snapshot for diagnosing a stall: virtual time, what keeps the clock busy, every pending
     * deadline (with the waiting thread's name) and every participant with its state. An
     * inspection, not activity.
     */
    public String diagnostics() {
        lock.lock();
        try {
            StringBuilder s = new StringBuilder("virtual clock at +")
                    .append(Duration.ofNanos(elapsed))
                    .append(closed ? " (closed)" : "")
                    .append(driver != null ? ", auto-advancing" : ", manual")
                    .append(", quiet period ")
                    .append(Duration.ofNanos(quietNanos))
                    .append(", activity count ")
                    .append(participants.activity())
                    .append("; busy ")
                    .append(busy())
                    .append(" (woken waiters not resumed ")
                    .append(wokenWaiters);
            runner.describe(s);
            s.append("), threads blocked in a wait ")
                    .append(waitingThreads)
                    .append(", threads queued for the clock's lock ")
                    .append(lock.getQueueLength());
            pending.describe(s);
            participants.describe(s);
            s.append("\n  task runner ").append(runner.thread().getState());
            if (driver != null) {
                s.append(", driver ").append(driver.getState());
            }
            return s.toString();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- timers and wakeups

    public LockClock.Cancellable schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(task, "task");
        long delayNanos = saturatedNanos(delay);
        lock.lock();
        try {
            touch();
            if (closed) {
                return NOT_SCHEDULED;
            }
            return runner.schedule(saturatedAdd(elapsed, Math.max(0, delayNanos)), elapsed, task);
        } finally {
            lock.unlock();
        }
    }

    public LockClock.Wakeup newWakeup() {
        touch();
        return new VirtualWakeup(this, lock);
    }

    /** A wait of {@code remainingNanos} on {@code wakeup} begins: it is pending from now. Lock held. */
    Waiter startWaiting(VirtualWakeup wakeup, long remainingNanos) {
        Waiter waiter = new Waiter(saturatedAdd(elapsed, remainingNanos), pending.nextSequence(), wakeup);
        pending.add(waiter);
        waitingThreads++;
        if (runner.isCurrent()) {
            runner.waitingOnClock(true);
        }
        return waiter;
    }

    /** The wait ended, however: the waiter goes back to work. Lock held. */
    void stopWaiting(Waiter waiter) {
        resumed(waiter);
        pending.remove(waiter);
        waitingThreads--;
        if (runner.isCurrent()) {
            runner.waitingOnClock(false);
        }
        // That is activity, so the driver waits for the next quiet period before moving time again.
        touch();
    }

    /** Time (or a signal) woke {@code waiter}: the clock is busy until it has the lock back. Lock held. */
    void wake(Waiter waiter) {
        if (!waiter.woken) {
            waiter.woken = true;
            wokenWaiters++;
        }
    }

    /** A woken waiter has the lock back. Lock held. */
    void resumed(Waiter waiter) {
        if (waiter.woken) {
            waiter.woken = false;
            wokenWaiters--;
            if (wokenWaiters == 0) {
                settled.signalAll();
            }
        }
    }

    /** True once virtual time reached {@code deadline} (nanoseconds since the start). */
    boolean reached(long deadline) {
        return elapsed >= deadline;
    }

    /** Throws if the clock is closed. Lock held. */
    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the virtual clock is closed: time will not move any more");
        }
    }

    // ---------------------------------------------------------------- moving time

    /**
     * True while moving time would overtake work that is already due: a woken waiter that has not
     * taken the lock back, or a task runner that is busy ({@link TaskRunner#busy()}).
     */
    private boolean busy() {
        return wokenWaiters > 0 || runner.busy();
    }

    /**
     * The last check before moving time, lock held: nothing is busy, no thread is queued for this
     * clock's lock (it is about to schedule, signal or wait, and it may not have touched the clock
     * since the quiet period began: it is parked, so it does not look like a running participant),
     * no participant is running, and nobody touched the clock since {@code seen}; read last, so
     * that a touch during the other checks is seen.
     */
    private boolean quiet(long seen) {
        return !busy() && !lock.hasQueuedThreads() && !participants.running() && participants.activity() == seen;
    }

    /** Leaves the clock alone for a quiet period (lock released meanwhile), then checks it stayed {@link #quiet}. */
    private boolean stayedQuiet() {
        long seen = participants.activity();
        lock.unlock();
        try {
            LockSupport.parkNanos(quietNanos);
        } finally {
            lock.lock();
        }
        return quiet(seen);
    }

    /**
     * Moves time to the earliest pending deadline if it is at most {@code limit}, and fires
     * everything due then (ties in registration order). Lock held.
     */
    private boolean fireNext(long limit) {
        if (pending.isEmpty() || pending.earliest() > limit) {
            return false;
        }
        long deadline = pending.earliest();
        if (deadline > elapsed) {
            elapsed = deadline;
        }
        for (PendingDeadlines.Entry next; (next = pending.pollDueBy(deadline)) != null; ) {
            next.fire();
        }
        return true;
    }

    /**
     * Manual mode: moves time by {@code by}, stepping to each deadline on the way; after each step
     * waits until the tasks and waiters it woke are done or waiting on the clock again, and quiet
     * for a quiet period, so that what they schedule in reaction is fired in this advance too.
     */
    public void advance(Duration by) {
        Objects.requireNonNull(by, "by");
        if (by.isNegative()) {
            throw new IllegalArgumentException("cannot advance a clock backwards, got " + by);
        }
        if (runner.isCurrent()) {
            throw new IllegalStateException(
                    "advance() called from a clock task: it would wait for itself; schedule instead");
        }
        lock.lock();
        try {
            long target = saturatedAdd(elapsed, saturatedNanos(by));
            while (!closed) {
                awaitSettled();
                if (!fireNext(target)) {
                    if (target > elapsed) {
                        elapsed = target;
                    }
                    return;
                }
                awaitQuiet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while advancing the virtual clock", e);
        } finally {
            lock.unlock();
        }
    }

    private void awaitSettled() throws InterruptedException {
        while (busy() && !closed) {
            settled.await();
        }
    }

    /** Lock held on entry and exit; released while parked. */
    private void awaitQuiet() throws InterruptedException {
        while (!closed) {
            awaitSettled();
            boolean quiet = stayedQuiet();
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (quiet) {
                return;
            }
        }
    }

    /** The auto-advance driver: blocks while nothing is pending, never spins. */
    private void drive() {
        lock.lock();
        try {
            while (!closed) {
                if (pending.isEmpty()) {
                    pending.awaitAdded();
                } else if (busy()) {
                    settled.awaitUninterruptibly();
                } else if (stayedQuiet()) {
                    fireNext(Long.MAX_VALUE);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- closing

    /** Stops both threads; pending timers never run, waiters get an IllegalStateException. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            pending.abandonAll();
            runner.stop();
            settled.signalAll();
        } finally {
            lock.unlock();
        }
        Thread current = Thread.currentThread();
        for (Thread thread : new Thread[] {runner.thread(), driver}) {
            if (thread != null && thread != current) {
                try {
                    // A task still running may hold the runner; do not hang the caller for it.
                    thread.join(1_000);
                } catch (InterruptedException e) {
                    current.interrupt();
                    return;
                }
            }
        }
    }
}
