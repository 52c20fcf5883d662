package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockClock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A wakeup of a virtual clock: a waiter is a pending deadline, woken when time reaches it or by a
 * {@link #signal()}, whichever takes the clock's lock first. A signal with nobody waiting is kept
 * as a permit for the next wait.
 */
final class VirtualWakeup implements LockClock.Wakeup {
    private final VirtualTime time;
    private final ReentrantLock lock;
    private final Condition changed;
    private final List<Waiter> waiters = new ArrayList<>(1);
    private boolean permit;

    VirtualWakeup(VirtualTime time, ReentrantLock clockLock) {
        this.time = time;
        this.lock = clockLock;
        this.changed = clockLock.newCondition();
    }

    @Override
    public void signal() {
        lock.lock();
        try {
            time.touch();
            permit = true;
            for (Waiter waiter : waiters) {
                time.wake(waiter);
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
            time.touch();
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (takePermit()) {
                return true;
            }
            time.ensureOpen();
            long remaining = deadlineNanos - time.nanoTimeNow();
            if (remaining <= 0) {
                return false;
            }
            Waiter waiter = time.startWaiting(this, remaining);
            waiters.add(waiter);
            try {
                while (true) {
                    if (takePermit()) {
                        return true;
                    }
                    if (time.reached(waiter.deadline)) {
                        return false;
                    }
                    time.ensureOpen();
                    changed.await();
                    time.resumed(waiter);
                }
            } finally {
                waiters.remove(waiter);
                time.stopWaiting(waiter);
            }
        } finally {
            lock.unlock();
        }
    }

    private boolean takePermit() {
        if (permit) {
            permit = false;
            return true;
        }
        return false;
    }

    /** One thread's wait on this wakeup, pending until its deadline. */
    static final class Waiter extends PendingDeadlines.Entry {
        private final VirtualWakeup wakeup;
        private final Thread thread = Thread.currentThread();
        /** Woken (by time or a signal) and not yet back on the clock's lock: the clock is busy. */
        boolean woken;

        Waiter(long deadline, long sequence, VirtualWakeup wakeup) {
            super(deadline, sequence);
            this.wakeup = wakeup;
        }

        @Override
        void fire() {
            wakeup.time.wake(this);
            wakeup.changed.signalAll();
        }

        @Override
        void abandon() {
            wakeup.changed.signalAll();
        }

        @Override
        public String toString() {
            return "wait #" + sequence + " of " + thread.getName() + (woken ? " (woken)" : "");
        }
    }
}
