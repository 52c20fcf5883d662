package io.github.replicalock.internal;

import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockClock.Cancellable;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews one held lock every {@link io.github.replicalock.LockOptions#renewInterval()} on the
 * clock's shared scheduler, until {@link #stop()}. It asks its {@link HeldReplicaLock} what to
 * renew and tells it what it found; it never decides on its own that the lock is lost.
 */
final class Renewal {
    private static final Logger log = LoggerFactory.getLogger(Renewal.class);

    private final HeldReplicaLock lock;
    private final LockSession session;

    // Guarded by this.
    private @Nullable Cancellable next;
    private boolean stopped;

    Renewal(HeldReplicaLock lock, LockSession session) {
        this.lock = lock;
        this.session = session;
    }

    void start() {
        schedule(session.options.renewInterval());
    }

    /** No renewal starts after this; one in flight finds the lock no longer held. Idempotent. */
    void stop() {
        Cancellable task;
        synchronized (this) {
            stopped = true;
            task = next;
            next = null;
        }
        if (task != null) {
            task.cancel();
        }
    }

    private synchronized void schedule(Duration delay) {
        // Never after stop(): a renewal in flight when a release fails would otherwise reschedule
        // itself and keep renewing a lock its owner gave up, for as long as the process lives.
        if (!stopped) {
            next = session.clock.schedule(delay, this::run);
        }
    }

    private void run() {
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
        LockFields renewed = current.renewedAt(session.clock.now());
        try {
            if (session.backend.compareAndSet(lock.target(), current, renewed)) {
                lock.confirmed(current, renewed, sentAt);
                schedule(session.options.renewInterval());
            } else if (lock.fieldsWhileHeld() != null) {
                // Had our own release changed the fields under this renewal, the lock would no
                // longer be held: that is not a loss, and the release's own write reports a real one.
                lock.markLost(lock.whyLost());
            }
        } catch (LockTargetNotFoundException e) {
            lock.markLost("the deployment was deleted");
        } catch (InterruptedException e) {
            // The scheduler is shutting down; a renewal cut short is retried like a failed one.
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("{}: renewal failed, retrying: {}", lock.target(), e.toString());
            if (!lock.leaseRanOut()) {
                schedule(session.options.renewInterval().dividedBy(2));
            }
        }
    }
}
