package io.github.replicalock.internal;

import io.github.replicalock.LockListener;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockEvent;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a held lock needs from the {@link LockEngine} that took it, and nothing more: the backend,
 * the clock, the options, the holder's name, and the right to use the backend while it is open.
 *
 * <p>The backend closes when its last user leaves: {@link LockEngine#close()} gives up its own use,
 * and an acquisition, renewal or release still in flight keeps it open until it has given back
 * what it wrote.
 *
 * <p>It also holds the {@linkplain #observers one observer per target} that every wait uses.
 */
final class LockSession {
    private static final Logger log = LoggerFactory.getLogger(LockSession.class);

    final LockBackend backend;
    final LockClock clock;
    final LockOptions options;
    final String holder;
    /** The one observer per target that every wait of this session uses. */
    final TargetObservers observers;
    /** The threads every renewal of this session runs on. */
    final RenewalWorkers renewals;
    /** The listeners registered on {@code ReplicaLocks.Builder}. */
    final Listeners listeners;

    // Uses in progress, plus one for the engine until its close().
    private final AtomicInteger backendUsers = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();

    LockSession(
            LockBackend backend, LockClock clock, LockOptions options, String holder, List<LockListener> listeners) {
        this.backend = backend;
        this.clock = clock;
        this.options = options;
        this.holder = holder;
        this.observers = new TargetObservers(this);
        this.renewals = new RenewalWorkers(clock, "replica-lock-renewal-" + holder);
        this.listeners = new Listeners(listeners);
    }

    /** Marks the session closed: no acquisition gets further. True for the first caller only. */
    boolean markClosed() {
        return closed.compareAndSet(false, true);
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Throws the typed error of a closed {@code ReplicaLocks}. */
    void ensureOpen(LockTarget target) {
        if (closed.get()) {
            throw new LocksClosedException(target, holder);
        }
    }

    /** Registers a use of the backend; false once it is closed. Pair with {@link #leave()}. */
    boolean tryEnter() {
        int users;
        do {
            users = backendUsers.get();
            if (users == 0) {
                return false;
            }
        } while (!backendUsers.compareAndSet(users, users + 1));
        return true;
    }

    /** Records {@code event} unless the backend is closed already; best effort, as every event. */
    void recordEventIfOpen(LockTarget target, LockEvent event) {
        if (tryEnter()) {
            try {
                backend.recordEvent(target, event);
            } finally {
                leave();
            }
        }
    }

    /** Ends a use of the backend; the last one closes it. */
    void leave() {
        if (backendUsers.decrementAndGet() == 0) {
            try {
                backend.close();
            } catch (RuntimeException e) {
                log.warn("closing the lock backend of '{}' failed", holder, e);
            }
        }
    }
}
