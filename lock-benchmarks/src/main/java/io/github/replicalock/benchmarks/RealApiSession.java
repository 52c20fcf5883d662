package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.benchmarks.MockApi.Request;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.kubernetes.apiserver.ApiServer;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.function.Predicate;

/**
 * Scenario 7's hold on the real API server: a throw-away namespace with the {@link NodeStandIn} as
 * its node, clients whose requests it records by User-Agent (the real server keeps no request log),
 * builder Deployments, and closing all of it, newest first.
 */
final class RealApiSession implements AutoCloseable {
    private final KubernetesClient admin;
    private final String namespace;
    private final NodeStandIn node;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Request> lost = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

    RealApiSession() {
        admin = ApiServer.adminClient();
        namespace = ApiServer.createNamespace(admin, "bench");
        node = NodeStandIn.builder(admin, namespace)
                .readyAfter(Duration.ZERO)
                .terminateAfter(Duration.ZERO)
                .start();
    }

    String namespace() {
        return namespace;
    }

    /** The server's {@code gitVersion}, e.g. {@code v1.34.1}. */
    String kubernetesVersion() {
        return admin.getKubernetesVersion().getGitVersion();
    }

    /** A client of the admin's server and credentials whose requests are recorded under {@code agent}. */
    KubernetesClient client(String agent) {
        Config config =
                new ConfigBuilder(admin.getConfiguration()).withUserAgent(agent).build();
        KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(config)
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("bench-recorder", new Interceptor() {
                    @Override
                    public void after(
                            HttpRequest request,
                            HttpResponse<?> response,
                            AsyncBody.Consumer<List<ByteBuffer>> consumer) {
                        String query = request.uri().getRawQuery();
                        Request recorded = new Request(
                                request.method(),
                                request.uri().getRawPath() + (query == null ? "" : "?" + query),
                                agent);
                        requests.add(recorded);
                        if (response.code() == 422 || response.code() == 409) {
                            lost.add(recorded);
                        }
                    }
                }))
                .build();
        closeables.add(client);
        return client;
    }

    /** replica-lock on a backend and {@link #client client} of its own, holder {@code agent}. */
    ReplicaLocks locks(String agent, LockOptions options) {
        ReplicaLocks locks = ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.builder(client(agent)).build())
                .holder(agent)
                .options(options)
                .shutdownHook(false)
                .build();
        closeables.add(locks);
        return locks;
    }

    /** The requests of {@code agent} so far, watches aside. */
    long count(String agent) {
        return count(r -> r.agent().equals(agent) && !r.isWatchSetup());
    }

    /** The recorded requests so far that {@code which} accepts. */
    long count(Predicate<Request> which) {
        return requests.stream().filter(which).count();
    }

    /** The recorded requests answered 422 or 409 (a conditional write that lost) that {@code which} accepts. */
    long countLost(Predicate<Request> which) {
        return lost.stream().filter(which).count();
    }

    /** How many agents {@code which} accepts have sent at least one request it accepts. */
    long agents(Predicate<Request> which) {
        return requests.stream().filter(which).map(Request::agent).distinct().count();
    }

    /** A new builder Deployment in the namespace, as the lock's target. */
    LockTarget builder(String name) {
        ApiServer.createBuilder(admin, namespace, name);
        return LockTarget.of(namespace, name);
    }

    /** Daemon threads, so that a contender stuck on the server cannot keep the run from ending. */
    static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                Progress.log("closing: " + e);
            }
        }
        node.close();
        ApiServer.deleteNamespace(admin, namespace);
        admin.close();
    }
}
