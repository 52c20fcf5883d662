package io.github.replicalock.internal;

import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who hears that a held lock was lost, and when: each lost-listener once, at once if the loss is
 * known already, and after the release in progress if there is one (a listener that takes a lock
 * the owner holds while its close() waits for that release must not deadlock). Listeners run
 * outside every lock.
 */
final class LossReport {
    private static final Logger log = LoggerFactory.getLogger(LossReport.class);

    private final LockTarget target;

    // Guarded by this.
    private @Nullable LockLostException lost;
    private final List<Consumer<LockLostException>> listeners = new ArrayList<>();
    private List<Consumer<LockLostException>> deferred = List.of();

    LossReport(LockTarget target) {
        this.target = target;
    }

    synchronized @Nullable LockLostException lost() {
        return lost;
    }

    /** Runs {@code listener} if the lock is lost later, or now if it is already. */
    void listen(Consumer<LockLostException> listener) {
        LockLostException already;
        synchronized (this) {
            already = lost;
            if (already == null) {
                listeners.add(listener);
                return;
            }
        }
        listener.accept(already);
    }

    /**
     * Records the loss (the first one counts) and returns the listeners to run now; none if {@code
     * releaseInProgress}: {@link #takeDeferred()} hands them over when it ends.
     */
    synchronized List<Consumer<LockLostException>> lose(LockLostException exception, boolean releaseInProgress) {
        if (lost != null) {
            return List.of();
        }
        lost = exception;
        List<Consumer<LockLostException>> due = List.copyOf(listeners);
        listeners.clear();
        if (releaseInProgress) {
            deferred = due;
            return List.of();
        }
        return due;
    }

    /** The listeners held back while a release was in progress. */
    synchronized List<Consumer<LockLostException>> takeDeferred() {
        List<Consumer<LockLostException>> due = deferred;
        deferred = List.of();
        return due;
    }

    /** The lock was released normally: nobody is to hear of a loss. */
    synchronized void forgetListeners() {
        listeners.clear();
    }

    /** Runs {@code due} with the recorded loss; a listener that throws is logged and the rest still run. */
    void run(List<Consumer<LockLostException>> due) {
        LockLostException exception = lost();
        if (exception == null) {
            return;
        }
        for (Consumer<LockLostException> listener : due) {
            try {
                listener.accept(exception);
            } catch (RuntimeException e) {
                log.warn("{}: lost-listener failed", target, e);
            }
        }
    }
}
