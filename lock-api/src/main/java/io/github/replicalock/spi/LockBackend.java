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
