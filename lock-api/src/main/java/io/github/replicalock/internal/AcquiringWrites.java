package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.QueueChange;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one conditional write by which {@link LockEngine#attempt} acquires or takes over (with the
 * queue's part under {@code Fairness.FIFO}, {@link QueueAcquisition#write}), and its undo when the
 * write failed in a way that leaves unknown whether it applied.
 */
final class AcquiringWrites {
    private static final Logger log = LoggerFactory.getLogger(AcquiringWrites.class);

    private final LockSession session;
    private final ExpiryTracker expiry;

    AcquiringWrites(LockSession session, ExpiryTracker expiry) {
        this.session = session;
        this.expiry = expiry;
    }

    /**
     * Writes a hold of this instance with the next token over {@code observed}; won, or declined
     * as a lost race. A failed write is undone if it may have applied, then thrown.
     */
    Attempt write(
            LockTarget target,
            LockFields observed,
            List<String> oldPods,
            long expiresIn,
            @Nullable QueueChange queueChange,
            boolean takeover)
            throws InterruptedException {
        LockFields desired = observed.heldBy(
                session.holder, observed.token() + 1, session.clock.now(), session.options.leaseDuration());
        long sentAt = session.clock.nanoTime();
        boolean applied;
        try {
            // A takeover is also conditional on the renewal instant judged expired: a renewal that
            // lands after the fresh read must win over it (LockBackend#takeOver).
            if (queueChange != null) {
                applied = QueueAcquisition.write(session.backend, target, observed, desired, queueChange, takeover);
            } else {
                applied = takeover
                        ? session.backend.takeOver(target, observed, desired)
                        : session.backend.compareAndSet(target, observed, desired);
            }
        } catch (InterruptedException | RuntimeException e) {
            // The write may have reached the store before the failure: undo it if it did.
            undoUncertainWrite(target, desired, e);
            throw e;
        }
        if (!applied) {
            return new Attempt.Declined("another contender's write won", expiresIn, true);
        }
        expiry.forget(target);
        return new Attempt.Won(target, desired, sentAt, oldPods);
    }

    private void undoUncertainWrite(LockTarget target, LockFields desired, Throwable failure) {
        boolean interrupted = Thread.interrupted();
        try {
            session.backend.compareAndSet(target, desired, desired.released());
        } catch (InterruptedException | RuntimeException e) {
            failure.addSuppressed(e);
            log.warn("{}: could not undo a lock write that may have applied; it expires after its lease", target, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
