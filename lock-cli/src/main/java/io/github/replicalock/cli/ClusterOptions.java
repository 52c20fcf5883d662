package io.github.replicalock.cli;

import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The options every command shares: which cluster (kubeconfig and context, else {@code KUBECONFIG},
 * {@code ~/.kube/config} or the in-cluster service account, as kubectl) and which namespace.
 */
final class ClusterOptions {
    static final String USER_AGENT = "replica-lock/" + Version.current();

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            description =
                    "The kubeconfig file; default: KUBECONFIG, ~/.kube/config, else the in-cluster service account.")
    @Nullable
    Path kubeconfig;

    @Option(
            names = "--context",
            paramLabel = "NAME",
            description = "The kubeconfig context; default: its current context.")
    @Nullable
    String context;

    @Option(
            names = {"-n", "--namespace"},
            paramLabel = "NAMESPACE",
            description = "The deployment's namespace; default: the context's namespace, else 'default'.")
    @Nullable
    String namespace;

    @Option(
            names = {"-q", "--quiet"},
            description = "Only errors on stderr: no progress, no acquired/released lines.")
    boolean quiet;

    @Option(
            names = {"-v", "--verbose"},
            description = "Log the lock library's decisions (INFO) on stderr.")
    boolean verbose;

    private @Nullable Config config;

    /**
     * The client configuration, read once. Reading it sends no request.
     *
     * @throws CliFailure (usage) if the kubeconfig file or the context does not exist
     */
    Config config(String deployment) {
        if (config != null) {
            return config;
        }
        Config read;
        try {
            if (kubeconfig != null) {
                if (!Files.isRegularFile(kubeconfig) || !Files.isReadable(kubeconfig)) {
                    throw CliFailure.usage(
                            where(deployment) + "--kubeconfig '" + kubeconfig + "' is not a readable file");
                }
                read = Config.fromKubeconfig(context, kubeconfig.toFile());
            } else {
                read = Config.autoConfigure(context);
            }
        } catch (CliFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw CliFailure.usage(where(deployment) + "cannot read the kubeconfig"
                    + (kubeconfig == null ? "" : " '" + kubeconfig + "'") + ": " + e.getMessage());
        }
        if (context != null) {
            NamedContext current = read.getCurrentContext();
            if (current == null || !context.equals(current.getName())) {
                throw CliFailure.usage(where(deployment) + "--context '" + context
                        + "' is not a context of the kubeconfig" + (kubeconfig == null ? "" : " '" + kubeconfig + "'"));
            }
        }
        config = new ConfigBuilder(read).withUserAgent(USER_AGENT).build();
        return config;
    }

    /** {@code -n}, else the context's namespace, else {@code default}. */
    String namespace(String deployment) {
        if (namespace != null) {
            return namespace;
        }
        String fromConfig = config(deployment).getNamespace();
        return fromConfig == null || fromConfig.isBlank() ? "default" : fromConfig;
    }

    /**
     * The lock target, validated.
     *
     * @throws CliFailure (usage) naming the invalid namespace or deployment name
     */
    LockTarget target(String deployment) {
        String ns = namespace(deployment);
        try {
            return LockTarget.of(ns, deployment);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(String.valueOf(e.getMessage()));
        }
    }

    /** A client on the configuration and a backend on it; closing it closes both. */
    Cluster connect(String deployment) {
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config(deployment)).build();
        try {
            return new Cluster(client, KubernetesReplicaBackend.create(client));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** {@code "namespace/deployment: "} as far as it is known, for messages about the options themselves. */
    String where(String deployment) {
        return (namespace != null ? namespace : "(namespace of the kubeconfig)") + "/" + deployment + ": ";
    }

    /** The client and the backend; the backend goes to {@code ReplicaLocks}, which closes it. */
    record Cluster(KubernetesClient client, KubernetesReplicaBackend backend) implements AutoCloseable {
        @Override
        public void close() {
            backend.close();
            client.close();
        }
    }
}
