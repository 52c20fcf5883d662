package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.LockTarget;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watches of one target, shared by every subscription to it: a fabric8 informer on the
 * Deployment (by name) and one on the pods of its selector. The pod informer's cache also serves
 * {@code read}, so that a read while a watch is open costs one request instead of two.
 *
 * <p>Reconnection: fabric8 resumes a dropped watch from the last resourceVersion it saw, so the
 * server replays what happened meanwhile; a 410 Gone makes the informer list again, and the
 * differences come as events. On top of that, every time both informers are (back) up after having
 * been down, and after every list, the listeners hear one extra change, so that nothing that
 * happened while the watch was down can be missed.
 */
public final class TargetWatch {
    private static final Logger log = LoggerFactory.getLogger(TargetWatch.class);

    private final KubernetesClient client;
    private final LockTarget target;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> deletedHere = ConcurrentHashMap.newKeySet();
    private final SharedIndexInformer<Deployment> deployments;
    private volatile @Nullable PodCache pods;
    private volatile boolean closed;
    private volatile boolean wasConnected;

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
            return true;
        });
    }

    /** Starts the Deployment informer; returns at once. */
    public void start() {
        deployments.start();
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
        if (selector == null) {
            return;
        }
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
                return true;
            });
            pods = new PodCache(selector, informer);
            informer.start();
        }
        if (old != null) {
            old.stop();
        }
    }

    public void close() {
        closed = true;
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
