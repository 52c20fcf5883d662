package io.github.replicalock.kubernetes.mock;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The CRUD mock's dispatcher with the three fixes the tests and the benchmarks need to see the
 * mock answer as an API server does; lock-benchmarks uses it through lock-k8s-replicas' test-jar.
 *
 * <ul>
 *   <li>A JSON Patch whose {@code test} operation fails throws out of the mock's {@code handlePatch}
 *       and is never answered (the client times out); a real API server answers 422, which is what
 *       a lost race looks like. Answered 422 here.
 *   <li>A watch closed by its client while an event is being sent stalls the mock's only event loop
 *       for 30 s ({@code onClosed} waits for the sender, which waits for a write that completes on
 *       that event loop). Lock contention closes watches all the time; here each watch socket sends
 *       from a thread of its own, so the sender never waits for the event loop.
 *   <li>A watch from a list's resourceVersion does not get the deletions that happened between the
 *       list and the watch (the mock sends the objects that exist when the watch opens, as ADDED,
 *       and nothing about those that went): an informer then keeps a deleted pod in its cache for
 *       good, and a wait for "pods gone" times out. A real API server replays from the
 *       resourceVersion. Here deletions are remembered with a resourceVersion of their own and
 *       replayed to a watch that starts from an older one. Without it, a release here could wait
 *       its whole release timeout and throw {@code ReleaseTimeoutException}, rarely.
 * </ul>
 */
public final class Rfc6902CrudDispatcher extends KubernetesCrudDispatcher {
    private static final int DELETIONS_KEPT = 10_000;
    private static final Pattern RESOURCE_VERSION = Pattern.compile("[?&]resourceVersion=(\\d+)");
    private static final Pattern NAME_SELECTOR = Pattern.compile("fieldSelector=metadata\\.name%3D([^&]+)");

    /** A deletion the mock performed, with the resourceVersion it happened at. */
    private record Deletion(long resourceVersion, AttributeSet attributes, String object) {}

    private final ArrayDeque<Deletion> deletions = new ArrayDeque<>();
    private final AtomicLong replayed = new AtomicLong();
    private final Object gate = new Object();
    private boolean watchEventsHeld;

    /**
     * Holds back every watch event from now on (they queue, in order) until {@link
     * #releaseWatchEvents()}: a watch that lags behind the store, as a real one may.
     */
    public void holdWatchEvents() {
        synchronized (gate) {
            watchEventsHeld = true;
        }
    }

    /** Sends the held watch events, and the later ones at once. */
    public void releaseWatchEvents() {
        synchronized (gate) {
            watchEventsHeld = false;
            gate.notifyAll();
        }
    }

    private void awaitGate() {
        synchronized (gate) {
            while (watchEventsHeld) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** How many deletions were replayed to watches that would have missed them. */
    public long replayedDeletions() {
        return replayed.get();
    }

    @Override
    public void processEvent(
            String path,
            AttributeSet pathAttributes,
            AttributeSet oldAttributes,
            @Nullable GenericKubernetesResource resource,
            @Nullable String newState) {
        if (newState == null && oldAttributes != null) {
            String existing = getMap().get(oldAttributes);
            if (existing != null) {
                // Called under the mock's write lock: the order of deletions is the order of versions.
                synchronized (deletions) {
                    deletions.addLast(new Deletion(requestResourceVersion(), oldAttributes, existing));
                    if (deletions.size() > DELETIONS_KEPT) {
                        deletions.removeFirst();
                    }
                }
            }
        }
        super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
    }

    /** The deletions a watch from {@code path}'s resourceVersion has not heard of, oldest first. */
    private List<String> missedDeletions(String path) {
        Matcher version = RESOURCE_VERSION.matcher(path);
        if (!version.find() || Long.parseLong(version.group(1)) == 0) {
            return List.of();
        }
        long since = Long.parseLong(version.group(1));
        AttributeSet query = getKey(path);
        Matcher name = NAME_SELECTOR.matcher(path);
        if (name.find()) {
            query = query.add(new Attribute("name", name.group(1)));
        }
        List<String> missed = new ArrayList<>();
        synchronized (deletions) {
            for (Deletion d : deletions) {
                if (d.resourceVersion() > since && d.attributes().matches(query)) {
                    missed.add("{\"type\":\"DELETED\",\"object\":" + d.object() + "}");
                    replayed.incrementAndGet();
                }
            }
        }
        return missed;
    }

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        try {
            return super.handlePatch(request);
        } catch (RuntimeException e) {
            String message =
                    String.valueOf(e.getMessage()).replace("\\", "\\\\").replace("\"", "'");
            return new MockResponse()
                    .setResponseCode(422)
                    .setHeader("Content-Type", "application/json")
                    .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                            + "\"message\":\"the server rejected our request due to an error in our request: "
                            + message + "\",\"reason\":\"Invalid\",\"code\":422}");
        }
    }

    @Override
    public MockResponse handleWatch(String path) {
        MockResponse response = super.handleWatch(path);
        WebSocketListener listener = response.getWebSocketListener();
        // Called under the mock's read lock, so no deletion slips between the registration and this list.
        return listener == null
                ? response
                : response.withWebSocketUpgrade(new QueuedSends(listener, missedDeletions(path), this::awaitGate));
    }

    /** Forwards every callback; the listener sends through a socket that queues. */
    private static final class QueuedSends extends WebSocketListener {
        private final WebSocketListener delegate;
        private final List<String> missedDeletions;
        private final Runnable gate;
        private volatile @Nullable QueueingSocket socket;

        QueuedSends(WebSocketListener delegate, List<String> missedDeletions, Runnable gate) {
            this.delegate = delegate;
            this.missedDeletions = missedDeletions;
            this.gate = gate;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(webSocket, response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            QueueingSocket queueing = new QueueingSocket(webSocket, gate);
            socket = queueing;
            delegate.onOpen(queueing, response); // sends what exists now, as ADDED
            missedDeletions.forEach(queueing::send);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            delegate.onMessage(webSocket, text);
        }

        @Override
        public void onMessage(WebSocket webSocket, byte[] bytes) {
            delegate.onMessage(webSocket, bytes);
        }

        @Override
        public void onPing(WebSocket webSocket, byte[] bytes) {
            delegate.onPing(webSocket, bytes);
        }

        @Override
        public void onClosing(WebSocket webSocket, int code, String reason) {
            delegate.onClosing(webSocket, code, reason);
        }

        @Override
        public void onClosed(WebSocket webSocket, int code, String reason) {
            delegate.onClosed(webSocket, code, reason);
            stop();
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            delegate.onFailure(webSocket, t, response);
            stop();
        }

        private void stop() {
            QueueingSocket s = socket;
            if (s != null) {
                s.sender.shutdown();
            }
        }
    }

    /** Sends in order from its own thread and reports success at once. */
    private static final class QueueingSocket implements WebSocket {
        private final WebSocket socket;
        private final Runnable gate;
        final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mock-watch-sender");
            t.setDaemon(true);
            return t;
        });

        QueueingSocket(WebSocket socket, Runnable gate) {
            this.socket = socket;
            this.gate = gate;
        }

        @Override
        public RecordedRequest request() {
            return socket.request();
        }

        @Override
        public boolean send(String text) {
            return enqueue(() -> socket.send(text));
        }

        @Override
        public boolean send(byte[] bytes) {
            return enqueue(() -> socket.send(bytes));
        }

        private boolean enqueue(Runnable send) {
            try {
                sender.execute(() -> {
                    gate.run();
                    send.run();
                });
                return true;
            } catch (RejectedExecutionException closed) {
                return false;
            }
        }

        @Override
        public boolean close(int code, String reason) {
            sender.shutdown();
            return socket.close(code, reason);
        }
    }
}
