package io.github.replicalock.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The real clock, behind {@link LockClock#system()}. One daemon scheduler thread for the whole
 * JVM, started on first use.
 */
final class SystemLockClock implements LockClock {
    static final SystemLockClock INSTANCE = new SystemLockClock();

    private SystemLockClock() {}

    // Holder idiom: the thread starts only when something is first scheduled.
    private static final class Scheduler {
        static final ScheduledThreadPoolExecutor EXECUTOR = create();

        /**
         * The scheduler thread sleeps until the earliest task; a task that becomes the earliest wakes
         * it, only to sleep again when it is a renewal 10 s away. Every acquisition schedules one, and
         * that wake-up (a context switch, on a loaded machine a descheduling) cost more than the rest
         * of an in-memory acquire and release together. A heartbeat that is never further away than
         * {@link #HEARTBEAT} keeps such tasks from being the earliest. It stops once nothing has been
         * scheduled for {@link #IDLE}, so an idle JVM is not woken.
         */
        static final long HEARTBEAT = TimeUnit.SECONDS.toNanos(1);

        static final long IDLE = TimeUnit.SECONDS.toNanos(30);
        static final AtomicBoolean beating = new AtomicBoolean();
        static volatile long lastUse;

        private static ScheduledThreadPoolExecutor create() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "replica-lock-scheduler");
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            return executor;
        }

        static void used() {
            lastUse = System.nanoTime();
            if (!beating.get() && beating.compareAndSet(false, true)) {
                beat();
            }
        }

        private static void beat() {
            if (System.nanoTime() - lastUse > IDLE) {
                beating.set(false);
                // A task scheduled meanwhile may have seen beating still true: keep beating for it.
                if (System.nanoTime() - lastUse > IDLE || !beating.compareAndSet(false, true)) {
                    return;
                }
            }
            ScheduledFuture<?> unused = EXECUTOR.schedule(Scheduler::beat, HEARTBEAT, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        Scheduler.used();
        ScheduledFuture<?> future = Scheduler.EXECUTOR.schedule(task, saturatedNanos(delay), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public Wakeup newWakeup() {
        return new MonitorWakeup();
    }

    private static final class MonitorWakeup implements Wakeup {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private boolean signalled;

        @Override
        public void signal() {
            lock.lock();
            try {
                signalled = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean awaitUntil(long deadlineNanos) throws InterruptedException {
            lock.lockInterruptibly();
            try {
                while (!signalled) {
                    long remaining = deadlineNanos - System.nanoTime();
                    if (remaining <= 0) {
                        return false;
                    }
                    changed.awaitNanos(remaining);
                }
                signalled = false;
                return true;
            } finally {
                lock.unlock();
            }
        }
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException longerThan292Years) {
            return Long.MAX_VALUE;
        }
    }
}
