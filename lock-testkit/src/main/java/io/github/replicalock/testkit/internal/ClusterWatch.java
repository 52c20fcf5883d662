package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.Subscription;
import java.lang.System.Logger.Level;

/** One watch a client opened on one Deployment and its pods; see {@link WatchRegistry}. */
final class ClusterWatch implements Subscription {
    private static final System.Logger LOG = System.getLogger(ClusterWatch.class.getName());

    private final WatchRegistry registry;
    private final ClusterClient client;
    private final LockTarget target;
    private final Runnable onChange;
    private volatile boolean closed;
    /** The drop that took this watch down, 0 while it is up. */
    private volatile long droppedIn;

    ClusterWatch(WatchRegistry registry, ClusterClient client, LockTarget target, Runnable onChange) {
        this.registry = registry;
        this.client = client;
        this.target = target;
        this.onChange = onChange;
    }

    LockTarget target() {
        return target;
    }

    long droppedIn() {
        return droppedIn;
    }

    void droppedIn(long epoch) {
        droppedIn = epoch;
    }

    @Override
    public boolean isConnected() {
        return !closed && droppedIn == 0 && client.isConnected() && registry.isServing();
    }

    void fire() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            // A listener's bug must not fail the write that triggered it.
            LOG.log(Level.WARNING, "watch listener on " + target + " of client " + client.name() + " failed", e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        registry.remove(this);
        client.closed(this);
    }

    @Override
    public String toString() {
        return "watch of " + target + " by " + client.name() + (isConnected() ? "" : " (disconnected)");
    }
}
