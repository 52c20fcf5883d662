package io.github.replicalock.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP relay on loopback in front of the mock server, for the clients of one simulated process.
 * {@link #pull() Pulling} it closes every connection it carries and the listening socket, as the
 * kernel does for a process that is killed: the server sees the connections end, and the process's
 * threads, which go on running in this JVM, reach nobody (their connections are refused). Nothing
 * of the process gets a chance to say goodbye, which is the point of a dead waiter.
 */
final class Plug implements AutoCloseable {
    private final InetAddress loopback = InetAddress.getLoopbackAddress();
    private final int targetPort;
    private final ServerSocket listener;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService relays = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "plug-relay");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean pulled;

    Plug(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, loopback);
        relays.execute(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!pulled) {
            Socket in;
            Socket out;
            try {
                in = listener.accept();
            } catch (IOException closed) {
                return;
            }
            try {
                out = new Socket(loopback, targetPort);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(in);
                continue;
            }
            open.add(in);
            open.add(out);
            if (pulled) {
                // Pulled while this connection was being set up: it must not outlive the pull.
                closeQuietly(in);
                closeQuietly(out);
                return;
            }
            relays.execute(() -> pump(in, out));
            relays.execute(() -> pump(out, in));
        }
    }

    /** Copies one direction until it ends, then ends the connection both ways (HTTP never half-closes). */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException ended) {
            // Either side closed, or the plug was pulled.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    /** Cuts every connection and refuses new ones, at once. */
    void pull() {
        pulled = true;
        closeQuietly(listener);
        for (Socket s : open) {
            closeQuietly(s);
        }
    }

    @Override
    public void close() {
        pull();
        relays.shutdownNow();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Closing what is already gone.
        }
    }
}
