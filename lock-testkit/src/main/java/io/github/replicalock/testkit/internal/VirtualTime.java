package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockClock;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.AbstractOwnableSynchronizer;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The engine of {@code VirtualClock}: virtual time, timers, wakeups, the task runner and the
 * auto-advance driver.
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
    private static final System.Logger LOG = System.getLogger(VirtualTime.class.getName());

    /**
     * The value of {@link #nanoTime()} at the start: arbitrary, as {@link System#nanoTime()}'s
     * origin is, and not 0 so that code treating it as an elapsed time shows up in tests.
     */
    static final long NANO_ORIGIN = 1_000_000_000_000L;

    private static final LockClock.Cancellable NOT_SCHEDULED = () -> {};

    /** Who owns the lock a participant is blocked on; asked only when one is. */
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * How long a participant parked on a {@code java.util.concurrent} lock that nobody owns still
     * counts as running: the lock was just released and the thread waits for a core (on a loaded
     * machine, milliseconds), unless it is a latch or a shared lock, which it waits on for good.
     */
    private static final long UNOWNED_LOCK_GRACE_NANOS = Duration.ofMillis(50).toNanos();

    /** Pending deadlines listed by {@link #diagnostics()}. */
    private static final int MAX_DIAGNOSED = 40;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when something is registered: the driver blocks on it when nothing is pending. */
    private final Condition pendingChanged = lock.newCondition();
    /** Signalled when a task becomes due or the clock closes. */
    private final Condition taskDue = lock.newCondition();
    /** Signalled whenever the clock may have stopped being busy. */
    private final Condition settled = lock.newCondition();

    private final TreeSet<Pending> pending = new TreeSet<>();
    private final ArrayDeque<Timer> due = new ArrayDeque<>();
    private final List<Throwable> taskFailures = new CopyOnWriteArrayList<>();

    /**
     * Bumped by every clock call, signal, wait and fake-cluster request; the driver advances only
     * when it has not changed for a whole quiet period. An atomic counter costs one CAS per call,
     * cheaper than reading {@link System#nanoTime()}, and cannot repeat a value as a racy "last
     * activity time" could.
     */
    private final AtomicLong activity = new AtomicLong();

    /**
     * Every thread that has used this clock (or its fake cluster), but the clock's own two. Time
     * never jumps while one of them is {@link Thread.State#RUNNABLE}: a thread between two clock
     * calls (asserting, logging, loading classes, preempted on a busy machine) is still part of
     * the conversation, however long it takes. Threads blocked or waiting on anything count as
     * idle; terminated ones are forgotten.
     */
    private final Set<Thread> participants = ConcurrentHashMap.newKeySet();

    /** Set once per thread, so that touching stays a thread-local read after the first time. */
    private final ThreadLocal<Boolean> participating = new ThreadLocal<>();

    private final Instant start;
    private final long quietNanos;
    private final Thread runner;
    private final @Nullable Thread driver;

    /** Virtual nanoseconds since the start. Written under the lock, read without it. */
    private volatile long elapsed;

    /**
     * Participants found parked on a {@code java.util.concurrent} lock with no owner at the last
     * check: how many times each had parked then, and since when (real time; see {@link
     * #heldUpByOutsider}); lock held.
     */
    private final Map<Long, long[]> parkedOnUnownedLock = new HashMap<>();

    private long sequence;
    private int waitingThreads;
    private int wokenWaiters;
    private boolean runnerRunning;
    private boolean runnerWaitingOnClock;
    private boolean closed;

    public VirtualTime(Instant start, boolean autoAdvance, Duration quietPeriod) {
        this.start = Objects.requireNonNull(start, "start");
        this.quietNanos = quietPeriod.toNanos();
        this.runner = daemon(this::runTasks, "virtual-clock-tasks");
        this.driver = autoAdvance ? daemon(this::drive, "virtual-clock-driver") : null;
        runner.start();
        if (driver != null) {
            driver.start();
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    // ---------------------------------------------------------------- reading time

    public Instant now() {
        touch();
        return start.plusNanos(elapsed);
    }

    public long nanoTime() {
        touch();
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
        activity.incrementAndGet();
        if (participating.get() == null) {
            participating.set(Boolean.TRUE);
            Thread current = Thread.currentThread();
            if (current != runner && current != driver) {
                participants.add(current);
            }
        }
    }

    /**
     * True if a participant other than the caller is running, or only seems idle: it waits for a
     * lock (a monitor, or a {@code java.util.concurrent} lock) that no thread of this clock holds.
     * The runner is not a participant: {@link #busy()} accounts for it precisely.
     *
     * <p>A participant blocked on a lock counts as idle only if the lock's owner is a participant
     * or the task runner (that one is judged by itself: time moves when it waits on the clock while
     * holding the lock). If the owner is a thread outside this clock (another test's or seed's
     * thread writing to {@code System.err}, say), the participant is not waiting for virtual time at
     * all: before this check, such a moment let time jump to the next deadline, which in the
     * parallel protocol simulation was the run's two-hour guard. Threads queued for this clock's
     * own lock are checked by {@link #quiet(long)}.
     */
    private boolean participantRunning() {
        Thread self = Thread.currentThread();
        boolean running = false;
        List<Thread> onLocks = null;
        for (Iterator<Thread> it = participants.iterator(); it.hasNext(); ) {
            Thread thread = it.next();
            if (thread == self) {
                continue;
            }
            Thread.State state = thread.getState();
            if (state == Thread.State.BLOCKED
                    || (state != Thread.State.RUNNABLE
                            && LockSupport.getBlocker(thread) instanceof AbstractOwnableSynchronizer)) {
                if (onLocks == null) {
                    onLocks = new ArrayList<>(2);
                }
                onLocks.add(thread);
                continue;
            }
            // Not parked on a lock (any more): its grace, if any, starts afresh next time.
            parkedOnUnownedLock.remove(thread.getId());
            if (state == Thread.State.TERMINATED) {
                it.remove();
            } else if (state == Thread.State.RUNNABLE) {
                running = true;
            }
        }
        return running || (onLocks != null && heldUpByOutsider(onLocks));
    }

    /**
     * True if one of these threads, found blocked on a monitor or parked on an ownable lock, waits
     * for a lock held by a thread that is neither a participant nor the runner, or for a monitor
     * just released (it is about to run).
     */
    private boolean heldUpByOutsider(List<Thread> onLocks) {
        long[] ids = new long[onLocks.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = onLocks.get(i).getId();
        }
        boolean heldUp = false;
        long now = System.nanoTime();
        for (ThreadInfo info : THREADS.getThreadInfo(ids)) {
            if (info == null) {
                continue; // terminated meanwhile
            }
            if (info.getThreadState() == Thread.State.RUNNABLE) {
                // It got its lock since its state was read.
                parkedOnUnownedLock.remove(info.getThreadId());
                heldUp = true;
                continue;
            }
            long owner = info.getLockOwnerId();
            if (owner == -1) {
                if (info.getThreadState() == Thread.State.BLOCKED) {
                    heldUp = true; // a monitor just released: its next owner is about to run
                } else {
                    // A java.util.concurrent lock just released (its next owner is about to run, as
                    // soon as it gets a core), or one held in shared mode (a latch): running for a
                    // grace period, idle if still parked so after it.
                    // The same park as last time only if the thread has not parked since.
                    long[] seen = parkedOnUnownedLock.get(info.getThreadId());
                    if (seen == null || seen[0] != info.getWaitedCount()) {
                        seen = new long[] {info.getWaitedCount(), now};
                        parkedOnUnownedLock.put(info.getThreadId(), seen);
                    }
                    heldUp |= now - seen[1] < UNOWNED_LOCK_GRACE_NANOS;
                }
            } else {
                parkedOnUnownedLock.remove(info.getThreadId());
                heldUp |= !isOurs(owner);
            }
        }
        return heldUp;
    }

    private boolean isOurs(long threadId) {
        if (threadId == runner.getId()) {
            return true;
        }
        for (Thread participant : participants) {
            if (participant.getId() == threadId) {
                return true;
            }
        }
        return false;
    }

    /**
     * The driver's and {@link #advance}'s last check before moving time, lock held: nothing is
     * busy, no thread is queued for this clock's lock (it is about to schedule, signal or wait, and
     * it may not have touched the clock since the quiet period began: it is parked, so it does not
     * look like a running participant), no participant is running, and nobody touched the clock
     * since {@code seen}; read last, so that a touch during the other checks is seen.
     */
    private boolean quiet(long seen) {
        return !busy() && !lock.hasQueuedThreads() && !participantRunning() && activity.get() == seen;
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
        return List.copyOf(taskFailures);
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
                    .append(activity.get())
                    .append("; busy ")
                    .append(busy())
                    .append(" (woken waiters not resumed ")
                    .append(wokenWaiters)
                    .append(", task runner ")
                    .append(runnerRunning ? (runnerWaitingOnClock ? "waits on the clock" : "runs a task") : "idle")
                    .append(", due tasks ")
                    .append(due.size())
                    .append("), threads blocked in a wait ")
                    .append(waitingThreads)
                    .append(", threads queued for the clock's lock ")
                    .append(lock.getQueueLength());
            s.append("\n  pending deadlines (").append(pending.size()).append("):");
            int shown = 0;
            for (Pending p : pending) {
                if (shown++ == MAX_DIAGNOSED) {
                    s.append("\n    ...");
                    break;
                }
                s.append("\n    +")
                        .append(Duration.ofNanos(p.deadline))
                        .append(' ')
                        .append(p);
            }
            s.append("\n  participants (").append(participants.size()).append("):");
            for (Thread t : participants) {
                s.append("\n    ").append(t.getName()).append(' ').append(t.getState());
                Object blocker = LockSupport.getBlocker(t);
                if (blocker != null) {
                    s.append(" on ").append(blocker.getClass().getName());
                }
            }
            s.append("\n  task runner ").append(runner.getState());
            if (driver != null) {
                s.append(", driver ").append(driver.getState());
            }
            return s.toString();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- timers

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
            Timer timer = new Timer(saturatedAdd(elapsed, Math.max(0, delayNanos)), sequence++, task);
            if (timer.deadline <= elapsed) {
                makeDue(timer);
            } else {
                pending.add(timer);
                pendingChanged.signalAll();
            }
            return timer;
        } finally {
            lock.unlock();
        }
    }

    private void makeDue(Timer timer) {
        timer.state = TimerState.DUE;
        due.add(timer);
        taskDue.signalAll();
    }

    private void runTasks() {
        while (true) {
            Timer timer;
            lock.lock();
            try {
                if (runnerRunning) {
                    runnerRunning = false;
                    settled.signalAll();
                }
                while (due.isEmpty() && !closed) {
                    taskDue.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                timer = due.poll();
                // Under the same lock as the poll: there is no moment where the task is neither
                // due nor running, so the driver never sees a gap to advance through.
                timer.state = TimerState.RUNNING;
                runnerRunning = true;
            } finally {
                lock.unlock();
            }
            try {
                timer.task.run();
            } catch (Throwable e) {
                // Kept for tests to assert on; a dead runner would freeze every later timer.
                taskFailures.add(e);
                LOG.log(Level.WARNING, "virtual clock task failed", e);
            }
        }
    }

    // ---------------------------------------------------------------- wakeups

    public LockClock.Wakeup newWakeup() {
        touch();
        return new VirtualWakeup();
    }

    private final class VirtualWakeup implements LockClock.Wakeup {
        private final Condition changed = lock.newCondition();
        private final List<Waiter> waiters = new ArrayList<>(1);
        private boolean permit;

        @Override
        public void signal() {
            lock.lock();
            try {
                touch();
                permit = true;
                for (Waiter waiter : waiters) {
                    wake(waiter);
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean awaitUntil(long deadlineNanos) throws InterruptedException {
            lock.lockInterruptibly();
            try {
                touch();
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                if (permit) {
                    permit = false;
                    return true;
                }
                if (closed) {
                    throw closedException();
                }
                long remaining = deadlineNanos - (NANO_ORIGIN + elapsed);
                if (remaining <= 0) {
                    return false;
                }
                Waiter waiter = new Waiter(saturatedAdd(elapsed, remaining), sequence++, this);
                pending.add(waiter);
                waiters.add(waiter);
                waitingThreads++;
                pendingChanged.signalAll();
                boolean onRunner = Thread.currentThread() == runner;
                if (onRunner) {
                    runnerWaitingOnClock = true;
                    settled.signalAll();
                }
                try {
                    while (true) {
                        if (permit) {
                            permit = false;
                            return true;
                        }
                        if (elapsed >= waiter.deadline) {
                            return false;
                        }
                        if (closed) {
                            throw closedException();
                        }
                        changed.await();
                        unmarkWoken(waiter);
                    }
                } finally {
                    unmarkWoken(waiter);
                    pending.remove(waiter);
                    waiters.remove(waiter);
                    waitingThreads--;
                    if (onRunner) {
                        runnerWaitingOnClock = false;
                    }
                    // The waiter goes back to work: that is activity, so the driver waits for the
                    // next quiet period before moving time again.
                    touch();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void wake(Waiter waiter) {
        if (!waiter.woken) {
            waiter.woken = true;
            wokenWaiters++;
        }
    }

    private void unmarkWoken(Waiter waiter) {
        if (waiter.woken) {
            waiter.woken = false;
            wokenWaiters--;
            if (wokenWaiters == 0) {
                settled.signalAll();
            }
        }
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("the virtual clock is closed: time will not move any more");
    }

    // ---------------------------------------------------------------- moving time

    /**
     * True while moving time would overtake work that is already due: a woken waiter that has not
     * taken the lock back, a due task the runner has not started, or a running task that is not
     * waiting on this clock. A runner waiting on the clock with more tasks due is not busy: those
     * tasks cannot start before its wait ends, and its wait ends only if time moves.
     */
    private boolean busy() {
        if (wokenWaiters > 0) {
            return true;
        }
        return runnerRunning ? !runnerWaitingOnClock : !due.isEmpty();
    }

    /**
     * Moves time to the earliest pending deadline if it is at most {@code limit}, and fires
     * everything due then (ties in registration order). Lock held.
     */
    private boolean fireNext(long limit) {
        if (pending.isEmpty() || pending.first().deadline > limit) {
            return false;
        }
        long deadline = pending.first().deadline;
        if (deadline > elapsed) {
            elapsed = deadline;
        }
        while (!pending.isEmpty() && pending.first().deadline <= deadline) {
            Pending next = pending.pollFirst();
            if (next instanceof Timer timer) {
                makeDue(timer);
            } else {
                Waiter waiter = (Waiter) next;
                wake(waiter);
                waiter.wakeup.changed.signalAll();
            }
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
        if (Thread.currentThread() == runner) {
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
            long seen = activity.get();
            lock.unlock();
            try {
                LockSupport.parkNanos(quietNanos);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            } finally {
                lock.lock();
            }
            if (quiet(seen)) {
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
                    pendingChanged.awaitUninterruptibly();
                } else if (busy()) {
                    settled.awaitUninterruptibly();
                } else {
                    long seen = activity.get();
                    lock.unlock();
                    try {
                        LockSupport.parkNanos(quietNanos);
                    } finally {
                        lock.lock();
                    }
                    if (quiet(seen)) {
                        fireNext(Long.MAX_VALUE);
                    }
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
            for (Pending p : pending) {
                if (p instanceof Timer timer) {
                    timer.state = TimerState.CANCELLED;
                } else {
                    ((Waiter) p).wakeup.changed.signalAll();
                }
            }
            pending.clear();
            due.clear();
            pendingChanged.signalAll();
            taskDue.signalAll();
            settled.signalAll();
        } finally {
            lock.unlock();
        }
        Thread current = Thread.currentThread();
        for (Thread thread : new Thread[] {runner, driver}) {
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

    // ---------------------------------------------------------------- pending entries

    private abstract static class Pending implements Comparable<Pending> {
        final long deadline;
        final long sequence;

        Pending(long deadline, long sequence) {
            this.deadline = deadline;
            this.sequence = sequence;
        }

        @Override
        public final int compareTo(Pending other) {
            int byDeadline = Long.compare(deadline, other.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
        }

        // Identity is right: sequence numbers are unique, so compareTo is 0 only for the same entry.
        @Override
        public final boolean equals(@Nullable Object o) {
            return this == o;
        }

        @Override
        public final int hashCode() {
            return Long.hashCode(sequence);
        }
    }

    private enum TimerState {
        PENDING,
        DUE,
        RUNNING,
        CANCELLED
    }

    private final class Timer extends Pending implements LockClock.Cancellable {
        final Runnable task;
        TimerState state = TimerState.PENDING;

        Timer(long deadline, long sequence, Runnable task) {
            super(deadline, sequence);
            this.task = task;
        }

        @Override
        public String toString() {
            return "timer #" + sequence + " " + state + " " + task.getClass().getName();
        }

        @Override
        public void cancel() {
            lock.lock();
            try {
                if (state == TimerState.PENDING) {
                    pending.remove(this);
                } else if (state == TimerState.DUE) {
                    due.remove(this);
                    settled.signalAll();
                } else {
                    return;
                }
                state = TimerState.CANCELLED;
            } finally {
                lock.unlock();
            }
        }
    }

    private static final class Waiter extends Pending {
        final VirtualWakeup wakeup;
        final Thread thread = Thread.currentThread();
        boolean woken;

        Waiter(long deadline, long sequence, VirtualWakeup wakeup) {
            super(deadline, sequence);
            this.wakeup = wakeup;
        }

        @Override
        public String toString() {
            return "wait #" + sequence + " of " + thread.getName() + (woken ? " (woken)" : "");
        }
    }

    // ---------------------------------------------------------------- arithmetic

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow only when both have the same sign and the sum's sign differs.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return sum;
    }
}
