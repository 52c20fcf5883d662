package io.github.replicalock.spi;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import java.util.Collection;

/**
 * Where a lock lives. A backend stores, compares-and-sets, watches, reads and deletes pods; the
 * algorithm (who may acquire, when a lease expires, when to take over, what a lost lock is, how
 * serious an event is, what time it is) lives in {@link io.github.replicalock.ReplicaLocks} once,
 * for every backend.
 *
 * <p>Errors: a missing Deployment is {@link LockTargetNotFoundException}, a refused verb {@link
 * LockAccessDeniedException}, lock annotations that do not parse {@link LockTargetInvalidException},
 * and a store that cannot be reached after the backend's own retries {@link
 * LockBackendUnavailableException}. Transient failures are the backend's to retry.
 *
 * <pre>{@code
 * ReplicaLocks locks = ReplicaLocks.builder().backend(KubernetesReplicaBackend.create(client)).build();
 * }</pre>
 *
 * <p>Implementations are thread-safe. {@link #close()} releases the backend's own resources
 * (watches, threads), never the store's.
 */
public interface LockBackend extends AutoCloseable {

    /**
     * Reads the Deployment's lock fields and status, and the pods of its selector. The answer may
     * come from a cache the backend keeps in sync through a watch, and may therefore lag behind the
     * store; it is never older than a copy this backend already returned or wrote.
     */
    LockRecord read(LockTarget target) throws InterruptedException;

    /**
     * Reads as {@link #read}, but from the store itself: the copy current when the call was
     * answered, never a cache's. The engine asks for it before a takeover, because a cache that
     * stops hearing the holder's renewals (a watch that stalls while connected) looks exactly like a
     * holder that stopped renewing; conditional writes leave the renewal time out on purpose, so
     * only a fresh read can tell. A backend without a cache answers as {@link #read} does.
     */
    LockRecord readFresh(LockTarget target) throws InterruptedException;

    /**
     * Writes {@code desired} if, and only if, the stored replicas, holder and token equal those of
     * {@code expected}, decided atomically by the store. A concurrent change of anything else (the
     * controller writing status) must not make the write fail: the backend retries it.
     *
     * <p>A backend that retries a write whose outcome it could not learn (a timeout, a lost
     * response) and then finds {@code desired}'s replicas, holder and token stored must answer true:
     * that write was its own. It must not answer true merely because the stored fields equal
     * {@code desired} on a first attempt: another thread of the same holder may have written them.
     *
     * @return true if written, false if the lock fields differed
     */
    boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException;

    /**
     * Takes over a hold the engine judged expired: writes {@code desired} if, and only if, the stored
     * replicas, holder, token <em>and renewal instant</em> ({@link LockFields#renewed()}, absent when
     * null) equal {@code expected}'s, decided atomically by the store. The renewal instant is what
     * tells a hold still renewed from one that stopped: a renewal that lands between the engine's
     * {@link #readFresh fresh read} and this write must make it fail. Ordinary writes leave it out
     * so that a holder whose renewal's answer was lost can still renew and release. Retries and lost
     * answers as for {@link #compareAndSet(LockTarget, LockFields, LockFields)}.
     *
     * @return true if written, false if the lock fields or the renewal instant differed
     */
    boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException;

    /**
     * Applies the queue write {@code change} if, and only if, every annotation it {@linkplain
     * QueueChange#tests() tests} has exactly the text given (absent for a null text), decided
     * atomically by the store; the lock fields are not tested (see {@code docs/lock-protocol.md}
     * section 10.4). A concurrent change of anything else (another waiter's renewal annotation, the
     * lock's own annotations, the controller's status) must not make the write fail.
     *
     * <p>A retried write whose first attempt may have applied answers true when it finds every
     * {@linkplain QueueChange#writes() write} stored ({@link QueueChange#isAppliedIn}), as {@link
     * #compareAndSet(LockTarget, LockFields, LockFields)} does.
     *
     * <pre>{@code
     * LockQueue seen = backend.read(target).queue();
     * LockQueue next = seen.enqueue(QueueEntry.joining("build-42", clock.wallTime(), Duration.ofSeconds(2)));
     * boolean queued = backend.compareAndSetQueue(target, QueueChange.between(seen, next));
     * }</pre>
     *
     * <p>The default throws {@link UnsupportedOperationException}: a backend that does not store
     * the queue serves only {@code Fairness.BARGING}.
     *
     * @return true if written, false if a tested annotation differed
     */
    default boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        throw new UnsupportedOperationException(
                getClass().getName() + " does not store a waiter queue; use Fairness.BARGING with it");
    }

    /**
     * The acquiring write of a queued waiter: writes the lock fields {@code desired} and applies
     * {@code queueChange} in one atomic write, if, and only if, the stored replicas, holder and token
     * equal {@code expected}'s <em>and</em> every test of {@code queueChange} holds. Unrelated changes
     * are retried as for {@link #compareAndSet(LockTarget, LockFields, LockFields)}.
     *
     * <p>The default throws {@link UnsupportedOperationException}, as {@link #compareAndSetQueue}.
     *
     * @return true if written, false if the lock fields or a tested annotation differed
     */
    default boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        throw new UnsupportedOperationException(
                getClass().getName() + " does not store a waiter queue; use Fairness.BARGING with it");
    }

    /**
     * The takeover of a queued waiter: {@link #takeOver(LockTarget, LockFields, LockFields)}'s
     * condition and {@link #compareAndSet(LockTarget, LockFields, LockFields, QueueChange)}'s queue
     * tests and writes, in one atomic write.
     *
     * <p>The default throws {@link UnsupportedOperationException}, as {@link #compareAndSetQueue}.
     *
     * @return true if written, false if the lock fields, the renewal instant or a tested annotation differed
     */
    default boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        throw new UnsupportedOperationException(
                getClass().getName() + " does not store a waiter queue; use Fairness.BARGING with it");
    }

    /**
     * Calls {@code onChange} (on any thread, quickly) whenever the Deployment or one of its pods may
     * have changed, and once more after a dropped watch is re-established, so that nothing that
     * happened while it was down is missed. The listener re-reads: events carry no trust.
     *
     * @throws io.github.replicalock.LockBackendUnavailableException if the store cannot be reached
     * @throws io.github.replicalock.LockAccessDeniedException if watching is forbidden
     */
    Subscription watch(LockTarget target, Runnable onChange);

    /** Deletes these pods of the Deployment, so that its controller starts fresh ones. */
    void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException;

    /**
     * Records an event on the Deployment, best effort: never throws. The event's kind says its
     * reason and severity; the backend stores them as they are and decides neither.
     */
    void recordEvent(LockTarget target, LockEvent event);

    @Override
    void close();
}
