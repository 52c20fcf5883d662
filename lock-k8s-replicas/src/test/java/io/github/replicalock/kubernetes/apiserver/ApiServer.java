package io.github.replicalock.kubernetes.apiserver;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The real API server the {@code *ApiServerTest} classes run against: the cluster {@value
 * #KUBECONFIG_ENV} names (written by {@code scripts/control-plane start}, or a cluster of your own
 * with administrator rights), a throw-away namespace per test class, the builder template, and the
 * real {@code kubectl}.
 *
 * <pre>{@code
 * eval "$(scripts/control-plane env)"
 * KubernetesClient admin = ApiServer.adminClient();
 * String namespace = ApiServer.createNamespace(admin, "contract");
 * }</pre>
 */
public final class ApiServer {
    /** Kubeconfig of an administrator of the cluster under test (required). */
    public static final String KUBECONFIG_ENV = "REPLICA_LOCK_APISERVER_KUBECONFIG";

    /** Kubeconfig of a user without any binding (optional: a ServiceAccount without bindings otherwise). */
    public static final String UNPRIVILEGED_KUBECONFIG_ENV = "REPLICA_LOCK_APISERVER_UNPRIVILEGED_KUBECONFIG";

    /** A command that restarts the API server and returns once it is ready (optional). */
    public static final String RESTART_ENV = "REPLICA_LOCK_APISERVER_RESTART";

    /** The kubectl to run (default {@code kubectl} on the PATH). */
    public static final String KUBECTL_ENV = "REPLICA_LOCK_KUBECTL";

    /** Every namespace the tests create carries this label, so leftovers are easy to find. */
    public static final String TEST_LABEL = "replicalock.io/apiserver-test";

    private ApiServer() {}

    /** The administrator's kubeconfig, or a failure that says how to get one. */
    public static Path kubeconfig() {
        String value = System.getenv(KUBECONFIG_ENV);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("the apiserver tests need a real API server: run `scripts/control-plane"
                    + " start` and `eval \"$(scripts/control-plane env)\"`, or set " + KUBECONFIG_ENV
                    + " to the kubeconfig of an administrator of your own cluster (see docs/kubernetes.md)");
        }
        Path path = Path.of(value);
        if (!Files.isReadable(path)) {
            throw new IllegalStateException(KUBECONFIG_ENV + "=" + value + ": no readable kubeconfig there");
        }
        return path;
    }

    /** The unprivileged user's kubeconfig, when the environment names one. */
    public static Optional<Path> unprivilegedKubeconfig() {
        return Optional.ofNullable(System.getenv(UNPRIVILEGED_KUBECONFIG_ENV))
                .filter(v -> !v.isBlank())
                .map(Path::of);
    }

    /** The command that restarts the API server, when the environment names one. */
    public static Optional<String> restartCommand() {
        return Optional.ofNullable(System.getenv(RESTART_ENV)).filter(v -> !v.isBlank());
    }

    /** A client with the administrator's credentials. */
    public static KubernetesClient adminClient() {
        return client(Config.fromKubeconfig(kubeconfig().toFile()));
    }

    /** A client from {@code config}, with the settings every test client shares. */
    public static KubernetesClient client(Config config) {
        return new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(config)
                        .withRequestTimeout(30_000)
                        .withConnectionTimeout(10_000)
                        .build())
                .build();
    }

    /**
     * A client that authenticates with {@code token} at the administrator's server, every answer
     * recorded in {@code requests}.
     */
    public static KubernetesClient tokenClient(String token, RecordedRequests requests) {
        Config admin = Config.fromKubeconfig(kubeconfig().toFile());
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(admin.getMasterUrl())
                .withTrustCerts(admin.isTrustCerts())
                .withCaCertData(admin.getCaCertData())
                .withCaCertFile(admin.getCaCertFile())
                .withOauthToken(token)
                .withRequestTimeout(30_000)
                .withConnectionTimeout(10_000)
                .build();
        return new KubernetesClientBuilder()
                .withConfig(config)
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("replica-lock-recorder", requests))
                .build();
    }

    /** Every answer a client got: method, path and code; the refused ones (401, 403) apart. */
    public static final class RecordedRequests implements Interceptor {
        private final List<String> all = new CopyOnWriteArrayList<>();
        private final List<String> refused = new CopyOnWriteArrayList<>();

        @Override
        public void after(
                HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
            record(request, response.code());
        }

        @Override
        public CompletableFuture<Boolean> afterFailure(
                BasicBuilder builder, HttpResponse<?> response, RequestTags tags) {
            record(response.request(), response.code());
            return CompletableFuture.completedFuture(false);
        }

        private void record(HttpRequest request, int code) {
            String query = request.uri().getRawQuery();
            String line = request.method() + " " + request.uri().getRawPath() + (query == null ? "" : "?" + query) + " "
                    + code;
            all.add(line);
            if (code == 401 || code == 403) {
                refused.add(line);
            }
        }

        /** How many answers were recorded. */
        public int count() {
            return all.size();
        }

        /** The refused requests, as {@code METHOD path code}. */
        public List<String> refused() {
            return List.copyOf(refused);
        }
    }

    /** Creates a namespace {@code rl-<purpose>-<random>} labelled {@value #TEST_LABEL}. */
    public static String createNamespace(KubernetesClient client, String purpose) {
        String name = ("rl-" + purpose.toLowerCase(Locale.ROOT) + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 40), 36));
        client.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .addToLabels(TEST_LABEL, "true")
                        .endMetadata()
                        .build())
                .create();
        // The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
        await("default ServiceAccount in " + name)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> client.serviceAccounts()
                                .inNamespace(name)
                                .withName("default")
                                .get()
                        != null);
        return name;
    }

    /** Deletes the namespace without waiting (the namespace controller finishes it). */
    public static void deleteNamespace(KubernetesClient client, String namespace) {
        client.namespaces().withName(namespace).delete();
    }

    /**
     * The builder template ({@code apiserver/builder-deployment.yaml}) named {@code name} in {@code
     * namespace}: replicas 0, Recreate, a selector on {@value NodeStandIn#APP_LABEL}, scheduled by
     * nobody but the {@link NodeStandIn}.
     */
    public static Deployment builderDeployment(KubernetesClient client, String namespace, String name) {
        String yaml;
        try (InputStream in = Objects.requireNonNull(
                ApiServer.class.getResourceAsStream("/apiserver/builder-deployment.yaml"),
                "apiserver/builder-deployment.yaml on the test class path")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String filled = yaml.replace("${NAME}", name).replace("${SCHEDULER}", NodeStandIn.SCHEDULER_NAME);
        Deployment deployment = client.apps()
                .deployments()
                .load(new ByteArrayInputStream(filled.getBytes(StandardCharsets.UTF_8)))
                .item();
        deployment.getMetadata().setNamespace(namespace);
        return deployment;
    }

    /** Creates the builder Deployment {@code name} in {@code namespace}. */
    public static Deployment createBuilder(KubernetesClient client, String namespace, String name) {
        return client.apps()
                .deployments()
                .inNamespace(namespace)
                .resource(builderDeployment(client, namespace, name))
                .create();
    }

    /** What a kubectl run printed and returned. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** The output, for assertion messages. */
        @Override
        public String toString() {
            return "exit " + exitCode + "; stdout: " + stdout.strip() + "; stderr: " + stderr.strip();
        }
    }

    /** Runs the real kubectl with {@code kubeconfig}, waiting at most {@code limit}. */
    public static Result kubectl(Path kubeconfig, Duration limit, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Optional.ofNullable(System.getenv(KUBECTL_ENV)).orElse("kubectl"));
        command.add("--kubeconfig=" + kubeconfig);
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("kubectl", ".out");
            Path err = Files.createTempFile("kubectl", ".err");
            try {
                Process process = new ProcessBuilder(command)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
                if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(String.join(" ", command) + " did not finish within " + limit);
                }
                return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }

    /** Runs the real kubectl as the administrator. */
    public static Result kubectl(Duration limit, String... args) {
        return kubectl(kubeconfig(), limit, args);
    }
}
