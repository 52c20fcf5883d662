package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's observers, one per target while some thread waits on it: concurrent acquisitions,
 * ready waits and release waits of one {@code ReplicaLocks} on the same Deployment share one watch.
 * The watch opens with the first wait and closes when the last {@link Use} ends.
 *
 * <pre>{@code
 * try (TargetObservers.Use use = observers.observe(target)) {
 *     use.observer().await(check, deadline, last -> new LockTimeoutException(...));
 * }
 * }</pre>
 */
final class TargetObservers {
    private final LockSession session;

    // Guarded by this: each observer with how many uses it has.
    private final Map<LockTarget, Entry> open = new HashMap<>();

    private static final class Entry {
        final TargetObserver observer;
        int uses;

        Entry(TargetObserver observer) {
            this.observer = observer;
        }
    }

    TargetObservers(LockSession session) {
        this.session = session;
    }

    /** A use of the target's observer; close it when the wait is over. */
    final class Use implements AutoCloseable {
        private final Entry entry;
        private boolean closed;

        private Use(Entry entry) {
            this.entry = entry;
        }

        TargetObserver observer() {
            return entry.observer;
        }

        @Override
        public void close() {
            boolean last;
            synchronized (TargetObservers.this) {
                if (closed) {
                    return;
                }
                closed = true;
                last = --entry.uses == 0;
                if (last) {
                    open.remove(entry.observer.target());
                }
            }
            if (last) {
                // Outside the registry's lock: closing a watch may wait for the backend.
                entry.observer.close();
            }
        }
    }

    synchronized Use observe(LockTarget target) {
        Entry entry = open.computeIfAbsent(target, t -> new Entry(new TargetObserver(session, t)));
        entry.uses++;
        return new Use(entry);
    }

    /** Wakes every waiter of every target: the engine is closing. */
    void wakeAll() {
        List<TargetObserver> observers;
        synchronized (this) {
            observers = open.values().stream().map(e -> e.observer).toList();
        }
        observers.forEach(TargetObserver::wakeAll);
    }

    /** How many targets are observed now; for tests. */
    synchronized int observedTargets() {
        return open.size();
    }
}
