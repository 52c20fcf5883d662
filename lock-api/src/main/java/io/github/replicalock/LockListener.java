package io.github.replicalock;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Hears what happens to the locks of one {@link ReplicaLocks} instance, for metrics, audit logs or
 * alerts. Every method has an empty default: implement the ones you need. {@code lock-micrometer}'s
 * {@code ReplicaLockMetrics} is one implementation.
 *
 * <pre>{@code
 * LockListener audit = new LockListener() {
 *     @Override
 *     public void onAcquired(LockTarget target, long fencingToken, Duration waited) {
 *         log.info("{}: token {} after waiting {}", target, fencingToken, waited);
 *     }
 *
 *     @Override
 *     public void onLost(LockTarget target, LockLostException cause, Duration held) {
 *         alerts.page("build lock lost after " + held + ": " + cause.getMessage());
 *     }
 * };
 * }</pre>
 *
 * <p><b>Registration.</b> {@code ReplicaLocks.builder().listener(audit)}; several may be added.
 * {@link #onQueueObserved} is called on the reads of waiting {@code Fairness.FIFO} acquisitions and
 * of {@code tryAcquire}.
 *
 * <p><b>Contract.</b> Methods are called on the engine's threads: the acquiring or releasing caller's
 * thread for {@link #onAcquired}, {@link #onTakeover}, {@link #onReleased} and {@link
 * #onReadyTimeout}; the renewal thread for {@link #onRenewalFailed} and {@link #onLost}; whichever
 * thread read the lock for {@link #onQueueObserved}. They must be thread-safe, quick and must not
 * block: a slow listener delays the lock. An exception thrown by a listener is logged and never
 * changes the lock's outcome. Durations are measured on the engine's monotonic clock, so they are
 * virtual in tests that run in virtual time.
 */
public interface LockListener {

    /**
     * The lock is held: the write landed and a builder pod is Ready. Called once per acquisition,
     * takeovers included (after {@link #onTakeover}).
     *
     * @param fencingToken the new hold's token
     * @param waited from the call to {@code acquire} or {@code tryAcquire} until the lock was
     *     returned, the wait for the Ready pod included
     */
    default void onAcquired(LockTarget target, long fencingToken, Duration waited) {}

    /**
     * An expired hold was taken over (its pods are being replaced); {@link #onAcquired} follows when
     * the new builder pod is Ready.
     *
     * @param previousHolder the holder whose lease expired; null for a hold without a holder (the
     *     shell pipeline's, taken over under {@link LockOptions#foreignLease()})
     * @param fencingToken the new hold's token (the expired hold's plus one)
     */
    default void onTakeover(LockTarget target, @Nullable String previousHolder, long fencingToken) {}

    /**
     * The lock was given back by {@link ReplicaLock#close()} or {@link ReplicaLocks#close()}.
     *
     * @param held from the acquisition's success until the release was written
     */
    default void onReleased(LockTarget target, long fencingToken, Duration held) {}

    /**
     * A held lock was lost: scaled to 0 by someone else, force-released, taken over, or not renewed
     * within its lease. Called once per lost hold, before the lock's own {@code onLost} listeners.
     *
     * @param cause what the build's {@code close()} throws, with the token and why
     * @param held from the acquisition's success until the loss was found
     */
    default void onLost(LockTarget target, LockLostException cause, Duration held) {}

    /**
     * One renewal of a held lock failed (after its retries) while the lease still has time: the
     * engine tries again at the next renewal. A lock that can no longer be renewed in time is
     * reported by {@link #onLost} as well.
     */
    default void onRenewalFailed(LockTarget target, long fencingToken, LockException cause) {}

    /**
     * The lock was taken but no builder pod became Ready within {@link LockOptions#readyTimeout()};
     * the lock was rolled back and {@code cause} is thrown to the caller.
     *
     * @param waited from the call to {@code acquire} or {@code tryAcquire} until the rollback
     */
    default void onReadyTimeout(LockTarget target, PodNotReadyException cause, Duration waited) {}

    /**
     * A read of the lock showed {@code length} waiters in its queue (dead ones not yet removed
     * included). Called on reads the engine makes anyway, never by a read made only to report it,
     * and possibly often: keep it to storing a number.
     */
    default void onQueueObserved(LockTarget target, int length) {}
}
