package io.github.replicalock.testkit.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.AbstractOwnableSynchronizer;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Who takes part in a virtual clock's time, and whether any of them is still at work: the threads
 * that have used the clock (or its fake cluster) and the count of their activity. The clock moves
 * time only when nobody touched it for a quiet period and no participant is {@linkplain #running
 * running}.
 */
final class Participants {
    /** Who owns the lock a participant is blocked on; asked only when one is. */
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * How long a participant parked on a {@code java.util.concurrent} lock that nobody owns still
     * counts as running: the lock was just released and the thread waits for a core (on a loaded
     * machine, milliseconds), unless it is a latch or a shared lock, which it waits on for good.
     */
    private static final long UNOWNED_LOCK_GRACE_NANOS = Duration.ofMillis(50).toNanos();

    /**
     * Bumped by every clock call, signal, wait and fake-cluster request; the driver advances only
     * when it has not changed for a whole quiet period. An atomic counter costs one CAS per call,
     * cheaper than reading {@link System#nanoTime()}, and cannot repeat a value as a racy "last
     * activity time" could.
     */
    private final AtomicLong activity = new AtomicLong();

    /**
     * Every thread that has used the clock (or its fake cluster), but the clock's own two. Time
     * never jumps while one of them is {@link Thread.State#RUNNABLE}: a thread between two clock
     * calls (asserting, logging, loading classes, preempted on a busy machine) is still part of
     * the conversation, however long it takes. Nor while one is interrupted and has not run since:
     * to the clock it still looks parked. Threads blocked or waiting on anything count as idle;
     * terminated ones are forgotten.
     */
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    /** Set once per thread, so that touching stays a thread-local read after the first time. */
    private final ThreadLocal<Boolean> participating = new ThreadLocal<>();

    /**
     * Participants found parked on a {@code java.util.concurrent} lock with no owner at the last
     * check: how many times each had parked then, and since when (real time; see {@link
     * #heldUpByOutsider}); clock lock held.
     */
    private final Map<Long, long[]> parkedOnUnownedLock = new HashMap<>();

    private final Thread runner;
    private final @Nullable Thread driver;

    /** The clock's task runner and driver, which are never participants. */
    Participants(Thread runner, @Nullable Thread driver) {
        this.runner = runner;
        this.driver = driver;
    }

    /** Marks activity, and the calling thread as a participant. */
    void touch() {
        activity.incrementAndGet();
        if (participating.get() == null) {
            participating.set(Boolean.TRUE);
            Thread current = Thread.currentThread();
            if (current != runner && current != driver) {
                threads.add(current);
            }
        }
    }

    /** How many times the clock was touched so far. */
    long activity() {
        return activity.get();
    }

    /**
     * True if a participant other than the caller is running, or only seems idle: it waits for a
     * lock (a monitor, or a {@code java.util.concurrent} lock) that no thread of this clock holds.
     * The runner is not a participant: the clock's own busy check accounts for it precisely. Clock
     * lock held.
     *
     * <p>A participant blocked on a lock counts as idle only if the lock's owner is a participant
     * or the task runner (that one is judged by itself: time moves when it waits on the clock while
     * holding the lock). If the owner is a thread outside this clock (another test's or seed's
     * thread writing to {@code System.err}, say), the participant is not waiting for virtual time at
     * all: before this check, such a moment let time jump to the next deadline, which in the
     * parallel protocol simulation was the run's two-hour guard. Threads queued for the clock's own
     * lock are checked by the clock.
     */
    boolean running() {
        Thread self = Thread.currentThread();
        boolean running = false;
        List<Thread> onLocks = null;
        for (Iterator<Thread> it = threads.iterator(); it.hasNext(); ) {
            Thread thread = it.next();
            if (thread == self) {
                continue;
            }
            Thread.State state = thread.getState();
            if (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING) {
                if (thread.isInterrupted()) {
                    // Interrupted and not yet running again: its park ends as soon as it gets a
                    // core, but the clock never saw the interrupt being sent, so only the flag
                    // tells. A parked thread cannot stay parked with the flag set, so this holds
                    // time only until the thread has run.
                    parkedOnUnownedLock.remove(thread.getId());
                    running = true;
                    continue;
                }
            }
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
        for (Thread participant : threads) {
            if (participant.getId() == threadId) {
                return true;
            }
        }
        return false;
    }

    /** Every participant with its state, for the clock's diagnostics. */
    void describe(StringBuilder s) {
        s.append("\n  participants (").append(threads.size()).append("):");
        for (Thread t : threads) {
            s.append("\n    ").append(t.getName()).append(' ').append(t.getState());
            Object blocker = LockSupport.getBlocker(t);
            if (blocker != null) {
                s.append(" on ").append(blocker.getClass().getName());
            }
        }
    }
}
