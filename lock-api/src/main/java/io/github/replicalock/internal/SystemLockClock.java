package io.github.replicalock.internal;

import io.github.replicalock.spi.LockClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** The real clock. One daemon scheduler thread for the whole JVM, started on first use. */
public final class SystemLockClock implements LockClock {
    public static final SystemLockClock INSTANCE = new SystemLockClock();

    private SystemLockClock() {}

    // Holder idiom: the thread starts only when something is first scheduled.
    private static final class Scheduler {
        static final ScheduledThreadPoolExecutor EXECUTOR = create();

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
        ScheduledFuture<?> future = Scheduler.EXECUTOR.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
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
}
