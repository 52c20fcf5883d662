package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.kubernetes.mock.MockServers;
import io.github.replicalock.kubernetes.mock.Rfc6902CrudDispatcher;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * fabric8's CRUD mock API server on loopback over plain HTTP, with {@link Rfc6902CrudDispatcher} (shared with
 * lock-k8s-replicas' tests), and clients on it that name themselves in their User-Agent, so that the mock's request log tells
 * whose request each one was.
 */
final class MockApi implements AutoCloseable {
    /** A request as the mock recorded it. */
    record Request(String method, String path, String agent) {
        /** A watch stream (the long-lived request itself). */
        boolean isWatch() {
            return path.contains("watch=true");
        }

        /** The list an informer starts with, before its watch stream: fabric8 lists with resourceVersion=0. */
        boolean isInformerList() {
            return method.equals("GET") && !isWatch() && path.contains("resourceVersion=0");
        }

        /** Part of opening a watch: an informer's list or the stream. */
        boolean isWatchSetup() {
            return isWatch() || isInformerList();
        }

        boolean isEvent() {
            return method.equals("POST") && path.endsWith("/events");
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /**
     * A request as its client saw it answered: who sent it, what kind of request it was (from its
     * method, path and JSON Patch body, see {@link #kind}), the HTTP status of the answer, and when
     * the answer came ({@link System#nanoTime()}).
     */
    record Sent(String agent, String kind, int code, long at) {
        /** A conditional write that lost: a failed JSON Patch {@code test} (422) or a stale version (409). */
        boolean lost() {
            return code == 422 || code == 409;
        }
    }

    private final Rfc6902CrudDispatcher dispatcher = new Rfc6902CrudDispatcher();
    private final KubernetesMockServer server;
    private final KubernetesClient admin;
    private final List<KubernetesClient> clients = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private final Queue<Sent> sent = new ConcurrentLinkedQueue<>();

    MockApi() {
        server = MockServers.crud(dispatcher);
        server.init(InetAddress.getLoopbackAddress(), 0);
        admin = client("admin");
    }

    /** A new client whose requests carry {@code agent} as their User-Agent. */
    KubernetesClient client(String agent) {
        KubernetesClient client = server.createClient(
                recorded(agent, b -> b.editOrNewConfig().withUserAgent(agent).endConfig()));
        clients.add(client);
        return client;
    }

    /**
     * A client, as {@link #client}, that reaches the mock only through {@code plug}: pulling the
     * plug cuts it off as a killed process's sockets would be. The caller closes it.
     */
    KubernetesClient pluggedClient(String agent, Plug plug) {
        return server.createClient(recorded(
                agent,
                b -> b.editOrNewConfig()
                        .withUserAgent(agent)
                        .withMasterUrl(
                                "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + plug.port())
                        .endConfig()));
    }

    /** The mock's port, for a {@link Plug} in front of it. */
    int port() {
        return server.getPort();
    }

    private Consumer<KubernetesClientBuilder> recorded(String agent, Consumer<KubernetesClientBuilder> config) {
        Interceptor recorder = new Interceptor() {
            @Override
            public void after(
                    HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
                sent.add(new Sent(agent, kind(request), response.code(), System.nanoTime()));
            }
        };
        return b -> {
            config.accept(b);
            b.withHttpClientBuilderConsumer(h -> h.addOrReplaceInterceptor("bench-sent", recorder));
        };
    }

    /**
     * What a request was, for counting by kind: replica-lock's JSON Patches are told apart by their
     * operations (a lock write sets {@code /spec/replicas}, 1 to acquire or renew, 0 to release; a
     * queue write sets only the queue's annotations, the order or a waiter's renewal), everything
     * else by method and path.
     */
    static String kind(HttpRequest request) {
        String path = request.uri().getRawPath();
        String query = request.uri().getRawQuery();
        String method = request.method();
        if (query != null && query.contains("watch=true")) {
            return "watch stream";
        }
        if (method.equals("GET") && query != null && query.contains("resourceVersion=0")) {
            return "informer list";
        }
        if (method.equals("POST") && path.endsWith("/events")) {
            return "event";
        }
        if (method.equals("PATCH") && path.contains("/deployments/")) {
            String body = request.bodyString();
            if (body == null) {
                return "PATCH deployment";
            }
            if (body.contains("{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":1}")) {
                return "lock write: acquire";
            }
            if (body.contains("{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":0}")) {
                return "lock write: release";
            }
            return body.contains("replicalock.io~1queue") || body.contains("replicalock.io~1waiter-")
                    ? "queue write"
                    : "PATCH deployment";
        }
        if (method.equals("GET") && path.contains("/deployments/")) {
            return "GET deployment";
        }
        return method + " " + (path.contains("/pods") ? "pods" : path);
    }

    /** replica-lock's backend with its default settings, on a client of its own. */
    KubernetesReplicaBackend backend(String agent) {
        KubernetesReplicaBackend backend =
                KubernetesReplicaBackend.builder(client(agent)).build();
        closeables.add(backend);
        return backend;
    }

    /** Takes every request whose answer a client of this mock saw since the last call. */
    List<Sent> takeSent() {
        List<Sent> taken = new ArrayList<>();
        Sent s;
        while ((s = sent.poll()) != null) {
            taken.add(s);
        }
        return taken;
    }

    /** A builder Deployment: replicas 0, selector {@code app=<name>}, no annotations. */
    LockTarget createBuilder(String namespace, String name) {
        Deployment deployment = MockServers.builder(namespace, name);
        admin.apps().deployments().inNamespace(namespace).resource(deployment).create();
        return LockTarget.of(namespace, name);
    }

    /** Takes every request the mock recorded since the last call. */
    List<Request> takeRequests() throws InterruptedException {
        List<Request> taken = new ArrayList<>();
        RecordedRequest r;
        while ((r = server.takeRequest(0, TimeUnit.MILLISECONDS)) != null) {
            String agent = r.getHeader("User-Agent");
            taken.add(new Request(r.getMethod(), r.getPath(), agent == null ? "" : agent));
        }
        return taken;
    }

    /** Takes the recorded requests once no new one has come for {@code quietMillis}. */
    List<Request> takeRequestsWhenQuiet(long quietMillis) throws InterruptedException {
        List<Request> taken = new ArrayList<>();
        while (true) {
            Thread.sleep(quietMillis);
            List<Request> more = takeRequests();
            if (more.isEmpty()) {
                return taken;
            }
            taken.addAll(more);
        }
    }

    /** Deletions the mock would have kept from a watch without {@link Rfc6902CrudDispatcher}'s replay. */
    long replayedDeletions() {
        return dispatcher.replayedDeletions();
    }

    void closeLater(AutoCloseable closeable) {
        closeables.add(closeable);
    }

    @Override
    public void close() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                Progress.log("  (closing " + c + ": " + e + ")");
            }
        }
        clients.forEach(KubernetesClient::close);
        server.destroy();
    }
}
