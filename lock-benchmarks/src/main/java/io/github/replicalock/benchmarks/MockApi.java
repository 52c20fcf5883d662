package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.kubernetes.mock.MockServers;
import io.github.replicalock.kubernetes.mock.Rfc6902CrudDispatcher;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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

    private final Rfc6902CrudDispatcher dispatcher = new Rfc6902CrudDispatcher();
    private final KubernetesMockServer server;
    private final KubernetesClient admin;
    private final List<KubernetesClient> clients = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

    MockApi() {
        server = MockServers.crud(dispatcher);
        server.init(InetAddress.getLoopbackAddress(), 0);
        admin = client("admin");
    }

    /** A new client whose requests carry {@code agent} as their User-Agent. */
    KubernetesClient client(String agent) {
        KubernetesClient client = server.createClient(
                b -> b.editOrNewConfig().withUserAgent(agent).endConfig());
        clients.add(client);
        return client;
    }

    /** replica-lock's backend with its default settings, on a client of its own. */
    KubernetesReplicaBackend backend(String agent) {
        KubernetesReplicaBackend backend =
                KubernetesReplicaBackend.builder(client(agent)).build();
        closeables.add(backend);
        return backend;
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
