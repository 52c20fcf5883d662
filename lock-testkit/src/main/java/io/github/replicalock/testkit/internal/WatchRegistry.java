package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The fake API server's watches: who watches which Deployment, telling them of changes, and the
 * watch faults (dropped for a while, then re-established). Listeners are only ever called with no
 * lock of the cluster held, so that they may call back into it.
 */
final class WatchRegistry {
    private final Map<LockTarget, CopyOnWriteArrayList<ClusterWatch>> watches = new ConcurrentHashMap<>();
    private final BooleanSupplier serving;
    private final BiConsumer<Duration, Runnable> schedule;
    /** Counts the drops, so that a restore brings back only the watches of its own drop. */
    private long dropEpoch;

    /**
     * @param serving false once the cluster is closed: no watch is connected then
     * @param schedule runs a task after a delay on the cluster clock
     */
    WatchRegistry(BooleanSupplier serving, BiConsumer<Duration, Runnable> schedule) {
        this.serving = serving;
        this.schedule = schedule;
    }

    boolean isServing() {
        return serving.getAsBoolean();
    }

    ClusterWatch open(ClusterClient client, LockTarget target, Runnable onChange) {
        ClusterWatch watch = new ClusterWatch(this, client, target, onChange);
        watches.computeIfAbsent(target, t -> new CopyOnWriteArrayList<>()).add(watch);
        client.opened(watch);
        return watch;
    }

    void remove(ClusterWatch watch) {
        List<ClusterWatch> list = watches.get(watch.target());
        if (list != null) {
            list.remove(watch);
        }
    }

    /** Tells every connected watch of {@code target} that it changed; null: nothing changed. */
    void changed(@Nullable LockTarget target) {
        if (target == null) {
            return;
        }
        List<ClusterWatch> list = watches.get(target);
        if (list == null) {
            return;
        }
        for (ClusterWatch watch : list) {
            if (watch.isConnected()) {
                watch.fire();
            }
        }
    }

    /** Drops every open watch; they come back after {@code downFor} on the cluster clock. */
    void drop(Duration downFor) {
        long epoch;
        synchronized (this) {
            epoch = ++dropEpoch;
            for (List<ClusterWatch> list : watches.values()) {
                for (ClusterWatch watch : list) {
                    watch.droppedIn(epoch);
                }
            }
        }
        schedule.accept(downFor, () -> restore(epoch));
    }

    /** Re-establishes every dropped watch now. */
    void restoreAll() {
        restore(0);
    }

    /** Re-establishes the watches dropped in {@code epoch} (0: all), each calling its listener once. */
    private void restore(long epoch) {
        List<ClusterWatch> restored = new ArrayList<>();
        synchronized (this) {
            for (List<ClusterWatch> list : watches.values()) {
                for (ClusterWatch watch : list) {
                    long droppedIn = watch.droppedIn();
                    if (droppedIn != 0 && (epoch == 0 || droppedIn == epoch)) {
                        watch.droppedIn(0);
                        restored.add(watch);
                    }
                }
            }
        }
        for (ClusterWatch watch : restored) {
            if (watch.isConnected()) {
                watch.fire();
            }
        }
    }
}
