package io.github.replicalock.testkit;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.internal.ClusterStore;
import java.util.Collection;

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
    private final ClusterStore store;
    private final ClusterStore.Client client;

    FakeBackend(ClusterStore store, ClusterStore.Client client) {
        this.store = store;
        this.client = client;
    }

    /** The name this client's writes and events are recorded under, such as {@code client-1}. */
    public String name() {
        return client.name();
    }

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        return store.read(client, target);
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        return store.compareAndSet(client, target, expected, desired);
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        return store.watch(client, target, onChange);
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        store.deletePods(client, target, podNames);
    }

    @Override
    public void recordEvent(LockTarget target, String reason, String message) {
        store.recordEvent(client, target, reason, message);
    }

    /** The cluster's clock: the system clock, or the cluster's {@link VirtualClock}. */
    @Override
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
