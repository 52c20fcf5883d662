package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Wakeup;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.Subscription;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The one way the engine waits for a lock to change: read, test, check the deadline, wait for the
 * watch (or a capped, jittered poll while the watch is down), read again. Every wait of the
 * algorithm (for the lock to be free, for a Ready builder pod, for the pods to be gone) is a
 * {@link Check} given to {@link #await}.
 *
 * <p>The shape is that of Curator's {@code LockInternals.internalLockLoop} and fabric8's {@code
 * LeaderElector.loop}: the condition is re-tested on a fresh read after every wakeup, never on
 * what the notification said, so a spurious or lost-and-repeated notification costs a read and
 * nothing else. The watch is opened before the first read, so a change between that read and the
 * wait is never missed.
 */
final class TargetObserver {
    private final LockSession session;
    private final LockTarget target;
    private final Set<Wakeup> waiters = ConcurrentHashMap.newKeySet();

    // Guarded by this.
    private @Nullable Subscription watch;
    private boolean closed;

    TargetObserver(LockSession session, LockTarget target) {
        this.session = session;
        this.target = target;
    }

    LockTarget target() {
        return target;
    }

    /** What a wait is for. */
    interface Check<T> {
        /**
         * What this read means: the result the wait is for, or null to keep waiting. Throws to end
         * the wait with an error.
         *
         * @param readStartNanos the clock just before the read was sent
         * @param readEndNanos the clock just after it returned
         */
        @Nullable
        T test(LockRecord record, long readStartNanos, long readEndNanos) throws InterruptedException;

        /**
         * The longest wait before reading again even without a notification, counted from the last
         * read's start (an expiry this process is counting down); {@link Long#MAX_VALUE} for none.
         */
        default long recheckWithinNanos() {
            return Long.MAX_VALUE;
        }

        /**
         * Whether the next read must be the store's own copy ({@link
         * io.github.replicalock.spi.LockBackend#readFresh}): a conditional write just lost on what
         * the last read showed, and a watch cache that stalls while connected would show the same
         * again at every read, so the wait would retry the same losing write without end.
         */
        default boolean wantsFreshRead() {
            return false;
        }
    }

    /**
     * Reads until {@code check} gives a result, woken by the watch; throws what {@code onTimeout}
     * makes of the last record once the deadline has passed. Compares durations, never instants: a
     * monotonic clock's instants may be negative or wrap.
     */
    <T> T await(Check<T> check, long deadlineNanos, Function<LockRecord, ? extends RuntimeException> onTimeout)
            throws InterruptedException {
        LockClock clock = session.clock;
        Wakeup wakeup = clock.newWakeup();
        waiters.add(wakeup);
        try {
            Subscription subscription = subscription();
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException(target + ": interrupted while waiting");
                }
                // What a read shows was current at some moment between these two.
                long readStart = clock.nanoTime();
                LockRecord record =
                        check.wantsFreshRead() ? session.backend.readFresh(target) : session.backend.read(target);
                long readEnd = clock.nanoTime();
                T result = check.test(record, readStart, readEnd);
                if (result != null) {
                    return result;
                }
                if (readEnd - deadlineNanos >= 0) {
                    throw onTimeout.apply(record);
                }
                long poll = Durations.jitteredNanos(session.options.fallbackPollInterval());
                long limit = check.recheckWithinNanos();
                // A limit already passed (a hold expired that this process cannot take over: its own)
                // must not turn the wait into a busy loop of reads.
                long wait = Math.min(deadlineNanos - readStart, limit > 0 ? limit : poll);
                if (!subscription.isConnected()) {
                    wait = Math.min(wait, poll);
                }
                wakeup.awaitUntil(readStart + wait);
            }
        } finally {
            waiters.remove(wakeup);
        }
    }

    /** Wakes every waiter, to re-read now: the watch saw a change, or the engine is closing. */
    void wakeAll() {
        waiters.forEach(Wakeup::signal);
    }

    private synchronized Subscription subscription() {
        if (closed) {
            throw new IllegalStateException(target + ": observer already closed");
        }
        Subscription open = watch;
        if (open == null) {
            open = session.backend.watch(target, this::wakeAll);
            watch = open;
        }
        return open;
    }

    /** Stops the watch; idempotent. */
    void close() {
        Subscription open;
        synchronized (this) {
            closed = true;
            open = watch;
            watch = null;
        }
        if (open != null) {
            open.close();
        }
    }
}
