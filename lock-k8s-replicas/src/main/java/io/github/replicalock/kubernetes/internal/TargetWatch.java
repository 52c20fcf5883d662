package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watches of one target, shared by every subscription to it: a fabric8 informer on the
 * Deployment (by name) and one on the pods of its selector. Both caches also serve {@code read}, so
 * that a read while a watch is open costs no request at all: every waiter re-reads on every event,
 * and with the server answering those reads the waiters' load grew with their number.
 *
 * <p>Reconnection: fabric8 resumes a dropped watch from the last resourceVersion it saw, so the
 * server replays what happened meanwhile; a 410 Gone makes the informer list again, and the
 * differences come as events. On top of that, every time both informers are (back) up after having
 * been down, and after every list, the listeners hear one extra change, so that nothing that
 * happened while the watch was down can be missed.
 */
public final class TargetWatch {
    private static final Logger log = LoggerFactory.getLogger(TargetWatch.class);
    private static final long STARTUP_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final KubernetesClient client;
    private final LockTarget target;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> deletedHere = ConcurrentHashMap.newKeySet();
    private final SharedIndexInformer<Deployment> deployments;
    private volatile @Nullable PodCache pods;
    private volatile boolean closed;
    private volatile boolean wasConnected;
    // Set by the informers' exception handlers: a watch that fails is not waited for at start-up.
    private volatile boolean failed;
    private final long createdNanos = System.nanoTime();
    // Notified on every informer event and start-up step, for the waits below.
    private final Object changes = new Object();

    /** The pod informer together with the selector it was started for. */
    private record PodCache(String selector, SharedIndexInformer<Pod> informer) {}

    public TargetWatch(KubernetesClient client, LockTarget target) {
        this.client = client;
        this.target = target;
        this.deployments = client.apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .runnableInformer(0);
        deployments.addEventHandler(new Handler<Deployment>() {
            @Override
            void changed(@Nullable Deployment deployment) {
                if (deployment != null) {
                    ensurePodWatch(deployment);
                }
            }
        });
        // Keep trying after any failure (403 included): the lock algorithm polls while we are down,
        // and its reads report the failure with a proper exception.
        deployments.exceptionHandler((started, t) -> {
            log.debug("{}: deployment watch failed, retrying: {}", target, Requests.describe(t));
            failed = true;
            signal();
            return true;
        });
    }

    /** Starts the Deployment informer; returns at once. */
    public void start() {
        deployments.start().whenComplete((ignored, t) -> signal());
    }

    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    public boolean hasListeners() {
        return !listeners.isEmpty();
    }

    /** Removes the listener; true if none is left. */
    public boolean removeListener(Runnable listener) {
        listeners.remove(listener);
        return listeners.isEmpty();
    }

    /** Both informers are watching (the pod one only once the selector is known). */
    public boolean isConnected() {
        if (closed || !deployments.isWatching()) {
            return false;
        }
        PodCache cache = pods;
        return cache == null
                ? deployments.getStore().list().isEmpty()
                : cache.informer().isWatching();
    }

    /**
     * Called periodically: tells the listeners once when the watch comes (back) up.
     *
     * @return whether it is connected now
     */
    public boolean checkConnection() {
        boolean connected = isConnected();
        if (connected && !wasConnected) {
            log.debug("{}: watch (re-)established", target);
            notifyListeners();
        } else if (!connected && wasConnected) {
            log.debug("{}: watch down, re-establishing", target);
        }
        wasConnected = connected;
        return connected;
    }

    /**
     * The cached Deployment, or null when the cache cannot be trusted now (not synced, not watching,
     * or the Deployment is not there): the caller GETs it instead. A watch younger than {@code
     * startup} is waited for, up to that age: its list is one request the server answers anyway, and
     * a GET beside it would be a second. A watch that has failed is not waited for.
     *
     * <p>The copy may lag behind the server by the watch's delay; the caller compares its
     * resourceVersion with what it learned otherwise.
     */
    public @Nullable Deployment cachedDeployment(Duration startup) throws InterruptedException {
        awaitStartup(startup, () -> deploymentsReady() && podsReadyOrUnknown());
        if (!deploymentsReady()) {
            return null;
        }
        List<Deployment> list = deployments.getStore().list();
        return list.size() == 1 ? list.get(0) : null;
    }

    /**
     * Waits up to {@code max} until the cached Deployment's resourceVersion is above {@code
     * resourceVersion}, and returns it; null if it did not get there or the cache cannot be trusted.
     * Free for the server, unlike a GET: the watch brings the change anyway.
     */
    public @Nullable Deployment awaitNewerThan(long resourceVersion, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (changes) {
            while (true) {
                if (closed || !deploymentsReady()) {
                    return null;
                }
                List<Deployment> list = deployments.getStore().list();
                if (list.size() == 1 && Versions.of(list.get(0)) > resourceVersion) {
                    return list.get(0);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                TimeUnit.NANOSECONDS.timedWait(changes, left);
            }
        }
    }

    private boolean deploymentsReady() {
        return !closed && deployments.hasSynced() && deployments.isWatching();
    }

    private boolean podsReadyOrUnknown() {
        PodCache cache = pods;
        return cache == null
                ? deployments.getStore().list().isEmpty()
                : cache.informer().hasSynced() && cache.informer().isWatching();
    }

    private void awaitStartup(Duration startup, BooleanSupplier ready) throws InterruptedException {
        long deadline = createdNanos + startup.toNanos();
        synchronized (changes) {
            while (!closed && !failed && !ready.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                // isWatching turns true without an event: look again soon.
                TimeUnit.NANOSECONDS.timedWait(changes, Math.min(left, STARTUP_POLL_NANOS));
            }
        }
    }

    private void signal() {
        synchronized (changes) {
            changes.notifyAll();
        }
    }

    /**
     * The cached pods of {@code selector}, or null when the cache cannot be trusted now (not started
     * for this selector, not synced or not watching): the caller lists them instead.
     */
    public @Nullable List<Pod> cachedPods(String selector, Duration startup) throws InterruptedException {
        awaitStartup(startup, () -> {
            PodCache c = pods;
            return c != null && c.informer().hasSynced() && c.informer().isWatching();
        });
        return cachedPods(selector);
    }

    /**
     * The cached pods of {@code selector}, or null when the cache cannot be trusted now (not started
     * for this selector, not synced or not watching): the caller lists them instead.
     */
    public @Nullable List<Pod> cachedPods(String selector) {
        PodCache cache = pods;
        if (cache == null
                || !cache.selector().equals(selector)
                || !cache.informer().hasSynced()
                || !cache.informer().isWatching()) {
            return null;
        }
        List<Pod> list = cache.informer().getStore().list();
        deletedHere.retainAll(list.stream().map(p -> p.getMetadata().getName()).toList());
        return list;
    }

    /** Pods this process deleted; they count as terminating until the cache sees them go. */
    public Set<String> deletedHere() {
        return deletedHere;
    }

    /** Remembers pods deleted by this process, for {@link #cachedPods}. */
    public void markDeleted(Iterable<String> names) {
        names.forEach(deletedHere::add);
    }

    /** Starts the pod informer for the Deployment's selector, if known and not already running. */
    public void ensurePodWatch(Deployment deployment) {
        String selector;
        try {
            selector = Selectors.render(
                    target,
                    deployment.getSpec() == null ? null : deployment.getSpec().getSelector());
        } catch (RuntimeException e) {
            return; // an invalid selector is reported by read()
        }
        if (selector != null) {
            ensurePodWatch(selector);
        }
    }

    /** Starts the pod informer for {@code selector}, if not already running. */
    public void ensurePodWatch(String selector) {
        SharedIndexInformer<Pod> old = null;
        synchronized (this) {
            PodCache cache = pods;
            if (closed || (cache != null && cache.selector().equals(selector))) {
                return;
            }
            if (cache != null) {
                old = cache.informer();
            }
            SharedIndexInformer<Pod> informer = client.pods()
                    .inNamespace(target.namespace())
                    .withLabelSelector(selector)
                    .runnableInformer(0);
            informer.addEventHandler(new Handler<Pod>() {
                @Override
                void changed(@Nullable Pod pod) {}
            });
            informer.exceptionHandler((started, t) -> {
                log.debug("{}: pod watch failed, retrying: {}", target, Requests.describe(t));
                failed = true;
                signal();
                return true;
            });
            pods = new PodCache(selector, informer);
            informer.start().whenComplete((ignored, t) -> signal());
        }
        if (old != null) {
            old.stop();
        }
    }

    public void close() {
        closed = true;
        signal();
        listeners.clear();
        deployments.stop();
        PodCache cache;
        synchronized (this) {
            cache = pods;
            pods = null;
        }
        if (cache != null) {
            cache.informer().stop();
        }
    }

    private void notifyListeners() {
        signal();
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.warn("{}: watch listener failed", target, e);
            }
        }
    }

    @Override
    public String toString() {
        return "TargetWatch{" + target + ", connected=" + isConnected() + "}";
    }

    /** Every informer event, and the end of every list, is a change for the listeners. */
    private abstract class Handler<T> implements ResourceEventHandler<T> {
        abstract void changed(@Nullable T item);

        @Override
        public void onAdd(T obj) {
            changed(obj);
            notifyListeners();
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            if (!Objects.equals(oldObj, newObj)) {
                changed(newObj);
                notifyListeners();
            }
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            notifyListeners();
        }

        @Override
        public void onList(String resourceVersion, boolean ignored) {
            notifyListeners();
        }

        @Override
        public void onNothing() {
            notifyListeners();
        }
    }
}
