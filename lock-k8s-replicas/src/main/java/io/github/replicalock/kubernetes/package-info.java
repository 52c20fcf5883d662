/**
 * The Kubernetes backend of replica-lock: {@link
 * io.github.replicalock.kubernetes.KubernetesReplicaBackend}, on the fabric8 kubernetes-client.
 *
 * <pre>{@code
 * try (KubernetesClient client = new KubernetesClientBuilder().build();
 *      LockBackend backend = KubernetesReplicaBackend.create(client)) {
 *     ...
 * }
 * }</pre>
 *
 * <p><b>Dependencies.</b> This module depends on {@code io.fabric8:kubernetes-client-api} only (the
 * interfaces and the model). The application brings the implementation and an HTTP transport, as
 * fabric8 intends: {@code io.fabric8:kubernetes-client} with its default Vert.x transport, or
 * without it ({@code kubernetes-httpclient-vertx-5} excluded) plus {@code
 * io.fabric8:kubernetes-httpclient-jdk} (the JDK's {@code java.net.http}, no extra libraries; what
 * this module's tests use), {@code -okhttp} or {@code -jetty}.
 *
 * <p><b>RBAC.</b> A namespaced Role with {@code deployments}: get, list, watch, patch; {@code
 * pods}: list, watch, delete; {@code events}: create. {@code examples/k8s/rbac.yaml} has it, and
 * {@code docs/kubernetes.md} says why each verb (and why not update, the scale subresource or a
 * pod get).
 */
@NullMarked
package io.github.replicalock.kubernetes;

import org.jspecify.annotations.NullMarked;
