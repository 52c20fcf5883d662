package io.github.replicalock.spi;

import java.time.Duration;
import java.time.Instant;

/**
 * Time for the lock algorithm: wall time for annotations, monotonic time for every decision,
 * scheduling for renewals and waiting. A simulated store supplies a virtual clock so that a 120 s
 * timeout passes in milliseconds.
 *
 * <pre>{@code
 * Wakeup wakeup = clock.newWakeup();
 * boolean signalled = wakeup.awaitUntil(clock.nanoTime() + Duration.ofSeconds(5).toNanos());
 * }</pre>
 */
public interface LockClock {

    /** The real clock, with one shared daemon thread for all scheduled tasks in this JVM. */
    static LockClock system() {
        return SystemLockClock.INSTANCE;
    }

    /** Wall-clock time, written to annotations for people to read; never trusted across hosts. */
    Instant now();

    /** Monotonic time in nanoseconds, as {@link System#nanoTime()}: only differences mean anything. */
    long nanoTime();

    /** Runs {@code task} once after {@code delay}, on the clock's scheduler thread. */
    Cancellable schedule(Duration delay, Runnable task);

    /** A new, unsignalled wakeup. */
    Wakeup newWakeup();

    /** A scheduled task that may still be cancelled. */
    interface Cancellable {
        /** Prevents the task from running if it has not started; idempotent. */
        void cancel();
    }

    /**
     * A one-permit signal for a waiting thread: {@link #signal()} before {@link #awaitUntil} is
     * not lost.
     */
    interface Wakeup {
        /** Wakes the waiter, or the next one if nobody waits now. */
        void signal();

        /**
         * Waits until signalled, or until {@link #nanoTime()} reaches {@code deadlineNanos}; consumes
         * the signal.
         *
         * @return true if signalled, false if the deadline passed first
         */
        boolean awaitUntil(long deadlineNanos) throws InterruptedException;
    }
}
