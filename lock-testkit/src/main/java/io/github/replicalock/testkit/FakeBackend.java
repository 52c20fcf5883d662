package io.github.replicalock.testkit;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.internal.ClusterClient;
import io.github.replicalock.testkit.internal.ClusterStore;
import io.github.replicalock.testkit.internal.ConditionalWrites;
import io.github.replicalock.testkit.internal.RequestRetry;
import io.github.replicalock.testkit.internal.TransientFailure;
import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One client of a {@link FakeCluster}, implementing the backend SPI as the real Kubernetes backend
 * does: conditional writes decided by the cluster, conflicts from unrelated writes retried, transient
 * errors retried a bounded number of times, typed exceptions for everything else. Get one with
 * {@link FakeCluster#backend()}; give each simulated process its own.
 *
 * <pre>{@code
 * try (FakeCluster cluster = FakeCluster.create(); FakeBackend backend = cluster.backend("build-1")) {
 *     LockTarget target = cluster.createDeployment("ci", "builder");
 *     LockRecord free = backend.read(target);
 *     boolean won = backend.compareAndSet(target, free.fields(),
 *             free.fields().heldBy("build-1", free.fields().token() + 1, backend.clock().now(), Duration.ofSeconds(30)));
 *
 *     backend.disconnect();      // the API server is unreachable for this client only
 *     assertThatThrownBy(() -> backend.read(target)).isInstanceOf(LockBackendUnavailableException.class);
 *     backend.reconnect();       // its watches come back and fire once
 * }
 * }</pre>
 *
 * <p>Behaviour, beyond the SPI's contract:
 *
 * <ul>
 *   <li>Each transient error (see {@link Faults#failNextRequests}) is retried after 10 ms, then
 *       20 ms, on the cluster clock; the third failure in a row throws {@link
 *       LockBackendUnavailableException}. A conflict (see {@link Faults#conflictOnNextWrites}) is
 *       retried after a re-read while the lock fields still match; ten in a row throw {@link
 *       LockBackendUnavailableException}.
 *   <li>While {@linkplain #disconnect() disconnected}, every call but {@link #recordEvent} throws
 *       {@link LockBackendUnavailableException} at once, and its watches report {@code
 *       isConnected() == false} and deliver nothing.
 *   <li>{@link #close()} closes only this client's watches, never the cluster; calls afterwards
 *       throw {@link IllegalStateException} ({@link #recordEvent} stays silent).
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class FakeBackend implements LockBackend {
    /**
     * Conflicts a compare-and-set absorbs before it gives up. A real API server under a controller
     * writing status sees one or two in a row; ten means something is badly wrong.
     */
    static final int MAX_CONFLICTS = 10;

    private static final System.Logger LOG = System.getLogger(FakeBackend.class.getName());

    private final ClusterStore store;
    private final ClusterClient client;
    private final RequestRetry requests;

    FakeBackend(ClusterStore store, ClusterClient client) {
        this.store = store;
        this.client = client;
        this.requests = new RequestRetry(store, client);
    }

    /** The name this client's writes and events are recorded under, such as {@code client-1}. */
    public String name() {
        return client.name();
    }

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        return requests.call(target, RequestKind.READ, () -> store.read(target));
    }

    /** As {@link #read}: the fake keeps no cache, so every read is the store's current copy. */
    @Override
    public LockRecord readFresh(LockTarget target) throws InterruptedException {
        return requests.call(target, RequestKind.FRESH_READ, () -> store.read(target));
    }

    /**
     * The conditional write, in the shape of the Kubernetes backend's: read, write conditional on
     * what was read, and on a rejection read again. A conflict while the lock fields still equal
     * {@code expected} (the controller wrote status in between) is absorbed by another round; other
     * lock fields are a lost race, unless an attempt whose answer was lost had written {@code
     * desired} itself.
     */
    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        return conditionalWrite(target, expected, desired, false);
    }

    /** {@link #compareAndSet(LockTarget, LockFields, LockFields)}, also tested on the renewal instant. */
    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException {
        return conditionalWrite(target, expected, desired, true);
    }

    private boolean conditionalWrite(LockTarget target, LockFields expected, LockFields desired, boolean renewalTested)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        // Set when an attempt may have been applied without our hearing of it.
        AtomicBoolean maybeApplied = new AtomicBoolean();
        return requests.call(target, RequestKind.COMPARE_AND_SET, () -> {
            for (int conflicts = 0; ; conflicts++) {
                ClusterStore.Versioned current = store.lockFields(target);
                if (!ConditionalWrites.matches(current.fields(), expected, renewalTested)) {
                    // Our own lost write, found by the retry: as LockBackend#compareAndSet says, it counts.
                    return maybeApplied.get() && current.fields().sameLockAs(desired);
                }
                if (store.writes().ifVersion(client.name(), target, current.resourceVersion(), desired)) {
                    if (store.faults().takeLostResponse()) {
                        // Applied, but the answer never arrived, as a real client's timeout.
                        maybeApplied.set(true);
                        throw new TransientFailure("timeout waiting for the response (injected lost response)");
                    }
                    return true;
                }
                if (conflicts + 1 >= MAX_CONFLICTS) {
                    throw new LockBackendUnavailableException(
                            target, "the write conflicted " + MAX_CONFLICTS + " times in a row; giving up", null);
                }
            }
        });
    }

    /**
     * The queue-only write: one atomic check of the annotations the change tests in the cluster, as
     * the Kubernetes backend's JSON Patch {@code test}s; conflicts from unrelated writes are retried.
     */
    @Override
    public boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        return queueWrite(target, null, null, change, false);
    }

    /** The acquiring write of a queued waiter: lock fields and queue change checked and written at once. */
    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        return queueWrite(target, expected, desired, queueChange, false);
    }

    /** The queued waiter's takeover: the acquiring queue write, also tested on the renewal instant. */
    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        return queueWrite(target, expected, desired, queueChange, true);
    }

    private boolean queueWrite(
            LockTarget target,
            @Nullable LockFields expected,
            @Nullable LockFields desired,
            QueueChange change,
            boolean renewalTested)
            throws InterruptedException {
        Objects.requireNonNull(change, "change");
        AtomicBoolean maybeApplied = new AtomicBoolean();
        return requests.call(target, RequestKind.QUEUE_WRITE, () -> {
            for (int conflicts = 0; ; conflicts++) {
                ConditionalWrites.Outcome outcome =
                        store.writes().ifQueue(client.name(), target, expected, renewalTested, change, desired);
                if (outcome == ConditionalWrites.Outcome.APPLIED) {
                    if (store.faults().takeLostResponse()) {
                        maybeApplied.set(true);
                        throw new TransientFailure("timeout waiting for the response (injected lost response)");
                    }
                    return true;
                }
                if (outcome == ConditionalWrites.Outcome.DIFFERS) {
                    if (!maybeApplied.get()) {
                        return false;
                    }
                    // Our own lost write, found by the retry, counts (LockBackend#compareAndSetQueue). An
                    // acquisition is known by its hold (our holder, a new token): the queue may have
                    // changed again since, by another waiter's renewal.
                    return desired != null
                            ? store.read(target).fields().sameLockAs(desired)
                            : change.isAppliedIn(store.annotations(target));
                }
                if (conflicts + 1 >= MAX_CONFLICTS) {
                    throw new LockBackendUnavailableException(
                            target, "the write conflicted " + MAX_CONFLICTS + " times in a row; giving up", null);
                }
            }
        });
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        Objects.requireNonNull(onChange, "onChange");
        try {
            return requests.call(target, RequestKind.WATCH, () -> store.openWatch(client, target, onChange));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockBackendUnavailableException(target, "interrupted while opening a watch", e);
        }
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        List<String> names = List.copyOf(podNames);
        requests.call(target, RequestKind.DELETE_PODS, () -> {
            store.deletePods(target, names);
            return Boolean.TRUE;
        });
    }

    /** Best effort, as the SPI promises: a failed event never fails the lock, and is only logged. */
    @Override
    public void recordEvent(LockTarget target, LockEvent event) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(event, "event");
        try {
            requests.call(target, RequestKind.EVENT, () -> {
                store.recordEvent(client.name(), target, event);
                return Boolean.TRUE;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "event " + event.reason() + " on " + target + " dropped: " + e.getMessage());
        }
    }

    /**
     * The cluster's clock: the system clock, or the cluster's {@link VirtualClock}. Not part of the
     * SPI (the engine's clock is {@code ReplicaLocks.Builder.clock}'s); for tests that time their
     * own writes, as the example above.
     */
    public LockClock clock() {
        return store.clock();
    }

    /** Cuts this client off the cluster, as a network partition would; other clients are unaffected. */
    public void disconnect() {
        client.disconnect();
    }

    /** Ends {@link #disconnect()}: calls work again; each open watch reconnects and fires once. */
    public void reconnect() {
        client.reconnect();
    }

    /** False between {@link #disconnect()} and {@link #reconnect()}. */
    public boolean isConnected() {
        return client.isConnected();
    }

    /** Closes this client's watches; the cluster and other clients go on. Idempotent. */
    @Override
    public void close() {
        client.close();
    }

    @Override
    public String toString() {
        return "FakeBackend{" + client.name() + (client.isConnected() ? "" : ", disconnected") + "}";
    }
}
