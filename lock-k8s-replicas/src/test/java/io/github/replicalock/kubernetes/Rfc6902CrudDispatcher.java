package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The CRUD mock's dispatcher with two fixes, so that it answers as a real API server does.
 *
 * <p><b>A failed JSON Patch.</b> In kubernetes-server-mock 8.0.0 a JSON Patch whose {@code test}
 * operation fails (or that otherwise cannot be applied) throws out of {@code handlePatch} and the
 * mock never answers: the client waits for its request timeout and gets code -1. A real API server
 * answers HTTP 422 with a Status (reason Invalid). This subclass gives that answer, so that a lost
 * race shows up in tests the way it does in production. Everything else is the mock's own CRUD
 * behaviour, including its write lock around every mutation, which makes each patch atomic.
 *
 * <p><b>A watch closed by the client while an event is on its way.</b> The mock's {@code
 * WatchEventsListener.onClosed} runs on the server's only Vert.x event loop and waits (up to a
 * minute) for the listener's send executor to finish; that executor may be in {@code
 * VertxMockWebSocket.send}, which waits (up to 30 s) for the write to complete, and writes complete
 * on the same event loop. The whole mock server then stops answering for 30 s: every request times
 * out. Closing watches while the deployment changes is exactly what lock contention does (each
 * {@code acquire} and each informer stop closes one). Here the listener gets a socket whose {@code
 * send} hands the write to a thread of the socket's own and returns at once, so the listener's
 * executor never waits for the event loop. (Running {@code onClosed} itself elsewhere is not
 * enough: the listener stays registered after its executor has shut down, and the next change then
 * throws out of the mock's patch and delete handlers after the store was already changed.)
 */
final class Rfc6902CrudDispatcher extends KubernetesCrudDispatcher {
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
        return listener == null ? response : response.withWebSocketUpgrade(new OffLoopClose(listener));
    }

    /** Forwards every callback, giving the listener a socket whose sends never block. */
    private static final class OffLoopClose extends WebSocketListener {
        private final WebSocketListener delegate;
        private volatile @Nullable AsyncSendSocket opened;

        OffLoopClose(WebSocketListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onBeforeAccept(WebSocket webSocket, Response response) {
            delegate.onBeforeAccept(webSocket, response);
        }

        @Override
        public void onOpen(WebSocket webSocket, Response response) {
            AsyncSendSocket socket = new AsyncSendSocket(webSocket);
            opened = socket;
            delegate.onOpen(socket, response);
        }

        @Override
        public void onMessage(WebSocket webSocket, String text) {
            delegate.onMessage(webSocket, text);
        }

        @Override
        public void onMessage(WebSocket webSocket, ByteString bytes) {
            delegate.onMessage(webSocket, bytes);
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
            stopSending();
        }

        @Override
        public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            delegate.onFailure(webSocket, t, response);
            stopSending();
        }

        private void stopSending() {
            AsyncSendSocket socket = opened;
            if (socket != null) {
                socket.sender.shutdown();
            }
        }
    }

    /** Sends in order on a thread of its own and reports success at once, as a queueing socket does. */
    private static final class AsyncSendSocket implements WebSocket {
        private final WebSocket socket;
        private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mock-watch-sender");
            t.setDaemon(true);
            return t;
        });

        AsyncSendSocket(WebSocket socket) {
            this.socket = socket;
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
                sender.execute(send);
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
