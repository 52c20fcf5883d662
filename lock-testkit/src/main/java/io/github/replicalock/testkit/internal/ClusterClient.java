package io.github.replicalock.testkit.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A client's connection to the fake cluster: its name, whether the network reaches the API server,
 * and the watches it opened. {@code FakeBackend} is the client's side of the SPI on top of it.
 */
public final class ClusterClient {
    private final String name;
    private final List<ClusterWatch> watches = new CopyOnWriteArrayList<>();
    private volatile boolean connected = true;
    private volatile boolean closed;

    ClusterClient(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    public boolean isConnected() {
        return connected;
    }

    boolean isClosed() {
        return closed;
    }

    public void disconnect() {
        connected = false;
    }

    /** Reconnects; each open watch re-establishes and calls its listener once. */
    public void reconnect() {
        if (connected) {
            return;
        }
        connected = true;
        for (ClusterWatch watch : watches) {
            if (watch.isConnected()) {
                watch.fire();
            }
        }
    }

    /** Closes this client's watches; calls afterwards are refused. */
    public void close() {
        closed = true;
        for (ClusterWatch watch : watches) {
            watch.close();
        }
    }

    void opened(ClusterWatch watch) {
        watches.add(watch);
    }

    void closed(ClusterWatch watch) {
        watches.remove(watch);
    }

    @Override
    public String toString() {
        return name;
    }
}
