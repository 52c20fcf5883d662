package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockListener;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LockListener}s of one {@code ReplicaLocks}, called as the listener's contract says: an
 * exception thrown by one is logged and never changes the lock's outcome, nor keeps the others from
 * hearing.
 */
final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final List<LockListener> listeners;

    Listeners(List<LockListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    void acquired(LockTarget target, long token, Duration waited) {
        each("onAcquired", target, l -> l.onAcquired(target, token, waited));
    }

    void takeover(LockTarget target, @Nullable String previousHolder, long token) {
        each("onTakeover", target, l -> l.onTakeover(target, previousHolder, token));
    }

    void released(LockTarget target, long token, Duration held) {
        each("onReleased", target, l -> l.onReleased(target, token, held));
    }

    void lost(LockTarget target, LockLostException cause, Duration held) {
        each("onLost", target, l -> l.onLost(target, cause, held));
    }

    void renewalFailed(LockTarget target, long token, LockException cause) {
        each("onRenewalFailed", target, l -> l.onRenewalFailed(target, token, cause));
    }

    void readyTimeout(LockTarget target, PodNotReadyException cause, Duration waited) {
        each("onReadyTimeout", target, l -> l.onReadyTimeout(target, cause, waited));
    }

    void queueObserved(LockTarget target, int length) {
        each("onQueueObserved", target, l -> l.onQueueObserved(target, length));
    }

    private void each(String callback, LockTarget target, Consumer<LockListener> call) {
        for (LockListener listener : listeners) {
            try {
                call.accept(listener);
            } catch (RuntimeException e) {
                log.warn(
                        "{}: lock listener {}.{} failed",
                        target,
                        listener.getClass().getName(),
                        callback,
                        e);
            }
        }
    }
}
