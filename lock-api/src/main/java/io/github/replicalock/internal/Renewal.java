package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockClock.Cancellable;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews one held lock every {@link io.github.replicalock.LockOptions#renewInterval()}, until
 * {@link #stop()}. The clock's scheduler only says when; the backend calls run on the engine's
 * {@link RenewalWorkers}, so a renewal that hangs delays no other lock's.
 *
 * <p>A renewal and its retries end before the lease does: every attempt is cut (its thread
 * interrupted, which every backend call answers with {@link InterruptedException}) at the
 * <em>renewal deadline</em>, the lease counted from the last confirmed write minus a margin (the
 * takeover grace, at most half the time between a renewal and the lease's end), and no retry
 * starts after it. If the lease then runs out unconfirmed, the lock is lost at that instant, not
 * whenever someone next asks.
 *
 * <p>It asks its {@link HeldReplicaLock} what to renew and tells it what it found; it never
 * decides on its own that the lock is lost.
 */
final class Renewal {
    private static final Logger log = LoggerFactory.getLogger(Renewal.class);

    private final HeldReplicaLock lock;
    private final LockSession session;

    // Guarded by this: the next renewal, the check at the lease's end, and the attempt in flight.
    private @Nullable Cancellable next;
    private @Nullable Cancellable leaseEndCheck;
    private boolean stopped;
    private @Nullable Thread attempting;
    private long attempts;

    Renewal(HeldReplicaLock lock, LockSession session) {
        this.lock = lock;
        this.session = session;
    }

    void start() {
        schedule(session.options.renewInterval(), this::renewOnWorker);
    }

    /** No renewal starts after this; one in flight finds the lock no longer held. Idempotent. */
    void stop() {
        Cancellable renewal;
        Cancellable check;
        synchronized (this) {
            stopped = true;
            renewal = next;
            check = leaseEndCheck;
            next = null;
            leaseEndCheck = null;
        }
        if (renewal != null) {
            renewal.cancel();
        }
        if (check != null) {
            check.cancel();
        }
    }

    private synchronized void schedule(Duration delay, Runnable task) {
        // Never after stop(): a renewal in flight when a release fails would otherwise reschedule
        // itself and keep renewing a lock its owner gave up, for as long as the process lives.
        if (!stopped) {
            next = session.clock.schedule(delay, task);
        }
    }

    /**
     * No attempt fits before the deadline any more: the lock is lost when its lease ends, unless a
     * write still in flight confirms it meanwhile.
     */
    private synchronized void awaitLeaseEnd() {
        if (stopped) {
            return;
        }
        if (leaseEndCheck != null) {
            leaseEndCheck.cancel();
        }
        Duration untilLeaseEnd = Duration.ofNanos(Math.max(0, lock.leaseRemainingNanos()));
        leaseEndCheck = session.clock.schedule(untilLeaseEnd, () -> session.renewals.execute(() -> lock.leaseRanOut()));
    }

    /** On the clock's scheduler thread: hands the renewal to a worker. */
    private void renewOnWorker() {
        session.renewals.execute(this::renew);
    }

    private void renew() {
        if (!session.tryEnter()) {
            return; // ReplicaLocks.close() has released every lock and closed the backend
        }
        try {
            renewOnce();
        } finally {
            session.leave();
        }
    }

    private void renewOnce() {
        LockFields current = lock.fieldsWhileHeld();
        if (current == null || lock.leaseRanOut()) {
            return;
        }
        long sentAt = session.clock.nanoTime();
        long untilCut = untilDeadlineNanos();
        if (untilCut <= 0) {
            awaitLeaseEnd();
            return;
        }
        LockFields renewed = current.renewedAt(session.clock.now());
        long attempt = begin();
        Cancellable cut = session.clock.schedule(Duration.ofNanos(untilCut), () -> cut(attempt));
        try {
            if (session.backend.compareAndSet(lock.target(), current, renewed)) {
                lock.confirmed(current, renewed, sentAt);
                schedule(session.options.renewInterval(), this::renewOnWorker);
            } else if (lock.fieldsWhileHeld() != null) {
                // Had our own release changed the fields under this renewal, the lock would no
                // longer be held: that is not a loss, and the release's own write reports a real one.
                lock.markLost(LockStates.whyLost(session, lock.target(), lock.fencingToken()));
            }
        } catch (LockTargetNotFoundException e) {
            lock.markLost("the deployment was deleted");
        } catch (InterruptedException e) {
            // Cut at the deadline (so no retry fits any more), or interrupted for a reason of its own.
            log.debug("{}: renewal interrupted, {} before the lease ends at the latest", lock.target(), margin());
            retryOrAwaitLeaseEnd();
        } catch (RuntimeException e) {
            log.debug("{}: renewal failed, retrying: {}", lock.target(), e.toString());
            if (e instanceof LockException failure) {
                session.listeners.renewalFailed(lock.target(), current.token(), failure);
            }
            retryOrAwaitLeaseEnd();
        } finally {
            end();
            cut.cancel();
        }
    }

    private synchronized long begin() {
        attempting = Thread.currentThread();
        return ++attempts;
    }

    private synchronized void end() {
        attempting = null;
    }

    /**
     * On the clock's scheduler thread, at the renewal deadline: interrupts the attempt if it still
     * runs, and checks the lease at its end even if the backend ignores the interrupt.
     */
    private synchronized void cut(long attempt) {
        Thread thread = attempting;
        if (thread != null && attempts == attempt) {
            thread.interrupt();
            awaitLeaseEnd();
        }
    }

    private void retryOrAwaitLeaseEnd() {
        Duration retryIn = session.options.renewInterval().dividedBy(2);
        if (untilDeadlineNanos() > Durations.saturatedNanos(retryIn)) {
            schedule(retryIn, this::renewOnWorker);
        } else {
            awaitLeaseEnd();
        }
    }

    /** Nanoseconds from now until the renewal deadline of the current lease; at most 0 once passed. */
    private long untilDeadlineNanos() {
        return lock.leaseRemainingNanos() - Durations.saturatedNanos(margin());
    }

    /** The takeover grace, but at most half the time from a renewal to the lease's end. */
    private Duration margin() {
        Duration lease = lock.lease();
        Duration half = lease.minus(session.options.renewInterval()).dividedBy(2);
        Duration grace = session.options.takeoverGrace();
        return grace.compareTo(half) < 0 ? grace : half;
    }
}
