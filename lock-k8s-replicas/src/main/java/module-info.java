/**
 * The Kubernetes backend of replica-lock, on the fabric8 kubernetes-client: {@link
 * io.github.replicalock.kubernetes.KubernetesReplicaBackend}. Only that package is exported; the
 * fabric8 side ({@code io.github.replicalock.kubernetes.internal}) is not API.
 *
 * <pre>{@code
 * LockBackend backend = KubernetesReplicaBackend.fromDefaultConfig();
 * }</pre>
 */
module io.github.replicalock.kubernetes {
    requires transitive io.github.replicalock.api;
    // fabric8 8.0.0 ships neither module-info nor Automatic-Module-Name: these are the automatic
    // module names the JDK derives from its jar names. Transitive because the public factory methods
    // take a KubernetesClient.
    requires transitive kubernetes.client.api;
    requires kubernetes.model.core;
    requires kubernetes.model.apps;
    requires io.github.resilience4j.retry;
    requires io.github.resilience4j.core;
    requires org.slf4j;

    exports io.github.replicalock.kubernetes;
}
