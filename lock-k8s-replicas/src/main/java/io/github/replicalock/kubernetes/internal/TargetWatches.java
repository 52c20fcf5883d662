package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend's watches: at most one {@link TargetWatch} per target, shared by every subscription
 * on it, kept open for a while after its last subscription closes, and a monitor thread that tells
 * listeners when a watch comes back up.
 */
public final class TargetWatches {
    private static final Logger log = LoggerFactory.getLogger(TargetWatches.class);
    private static final Duration CONNECTION_CHECK = Duration.ofMillis(200);

    private final KubernetesClient client;
    private final Duration linger;
    private final Consumer<LockTarget> stopped;
    // Guards itself, watchMonitor and monitorTask.
    private final Map<LockTarget, TargetWatch> watches = new HashMap<>();
    private @Nullable ScheduledExecutorService watchMonitor;
    private @Nullable ScheduledFuture<?> monitorTask;

    /**
     * @param linger how long a watch nobody listens to stays open for the next subscriber
     * @param stopped told of every target whose watch stopped, so that what was cached for it goes
     */
    public TargetWatches(KubernetesClient client, Duration linger, Consumer<LockTarget> stopped) {
        this.client = client;
        this.linger = linger;
        this.stopped = stopped;
    }

    /** The open watch of {@code target}, lingering ones included; null if none. */
    public @Nullable TargetWatch of(LockTarget target) {
        synchronized (watches) {
            return watches.get(target);
        }
    }

    /** Subscribes {@code onChange} to the target's watch, opening it if there is none. */
    public Subscription subscribe(LockTarget target, Runnable onChange) {
        TargetWatch watch;
        synchronized (watches) {
            watch = watches.get(target);
            if (watch == null) {
                watch = new TargetWatch(client, target);
                watches.put(target, watch);
                watch.addListener(onChange);
                watch.start();
                startMonitor();
            } else {
                watch.addListener(onChange);
            }
        }
        TargetWatch opened = watch;
        AtomicBoolean open = new AtomicBoolean(true);
        return new Subscription() {
            @Override
            public boolean isConnected() {
                return open.get() && opened.isConnected();
            }

            @Override
            public void close() {
                if (open.compareAndSet(true, false)) {
                    synchronized (watches) {
                        if (opened.removeListener(onChange) && watches.get(target) == opened) {
                            stopUnlessReused(target, opened);
                        }
                    }
                }
            }

            @Override
            public String toString() {
                return "Subscription{" + target + ", connected=" + isConnected() + "}";
            }
        };
    }

    /**
     * Stops a watch nobody listens to any more, after {@link #linger}: the lock algorithm closes
     * its subscription after winning the write and opens another at once to wait for Ready, and a
     * watch that lingers serves the second from its warm caches instead of listing and watching the
     * Deployment and its pods again. Called with {@link #watches} locked.
     */
    private void stopUnlessReused(LockTarget target, TargetWatch idle) {
        ScheduledExecutorService monitor = watchMonitor;
        if (linger.isZero() || monitor == null || monitor.isShutdown()) {
            stop(target, idle);
            return;
        }
        ScheduledFuture<?> unused = monitor.schedule(
                () -> {
                    synchronized (watches) {
                        if (!idle.hasListeners() && watches.get(target) == idle) {
                            stop(target, idle);
                        }
                    }
                },
                linger.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    /** Called with {@link #watches} locked. */
    private void stop(LockTarget target, TargetWatch watch) {
        watches.remove(target);
        stopped.accept(target);
        watch.close();
    }

    /** How many targets have a watch open now, lingering ones included. */
    public int open() {
        synchronized (watches) {
            return watches.size();
        }
    }

    /** One daemon thread per backend tells listeners when a watch comes back up. Called locked. */
    private void startMonitor() {
        if (watchMonitor == null) {
            ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "replica-lock-k8s-watch-monitor");
                t.setDaemon(true);
                return t;
            });
            watchMonitor = executor;
            monitorTask = executor.scheduleWithFixedDelay(
                    this::checkWatches,
                    CONNECTION_CHECK.toMillis(),
                    CONNECTION_CHECK.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private void checkWatches() {
        List<TargetWatch> open;
        synchronized (watches) {
            open = new ArrayList<>(watches.values());
        }
        for (TargetWatch w : open) {
            try {
                w.checkConnection();
            } catch (RuntimeException e) {
                log.debug("watch check failed for {}", w, e);
            }
        }
    }

    /** Stops every watch and the monitor. */
    public void close() {
        List<TargetWatch> open;
        synchronized (watches) {
            open = new ArrayList<>(watches.values());
            for (LockTarget target : watches.keySet()) {
                stopped.accept(target);
            }
            watches.clear();
            if (monitorTask != null) {
                monitorTask.cancel(false);
            }
            if (watchMonitor != null) {
                watchMonitor.shutdownNow();
            }
        }
        open.forEach(TargetWatch::close);
    }
}
