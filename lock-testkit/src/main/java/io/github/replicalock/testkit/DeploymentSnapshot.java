package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@code kubectl get deployment -o yaml} and {@code kubectl get pods} would show of one fake
 * Deployment at one moment; see {@link FakeCluster#deployment(String, String)}.
 *
 * <pre>{@code
 * DeploymentSnapshot builder = cluster.deployment("ci", "builder");
 * assertThat(builder.ready()).isEqualTo("1/0");             // released, pod still terminating
 * assertThat(builder.pods()).singleElement().satisfies(pod -> assertThat(pod.terminating()).isTrue());
 * assertThat(builder.annotations()).doesNotContainKey(LockFields.HOLDER_ANNOTATION);
 * }</pre>
 *
 * @param target namespace and name
 * @param replicas {@code spec.replicas}
 * @param readyReplicas {@code status.readyReplicas}: pods with the Ready condition, terminating ones
 *     included until they are gone
 * @param annotations {@code metadata.annotations}
 * @param selector {@code spec.selector} as a label selector such as {@code app=builder}; null if
 *     cleared
 * @param resourceVersion {@code metadata.resourceVersion}: changes with every write, the
 *     controller's included
 * @param pods the Deployment's pods, oldest first
 */
public record DeploymentSnapshot(
        LockTarget target,
        int replicas,
        int readyReplicas,
        Map<String, String> annotations,
        @Nullable String selector,
        String resourceVersion,
        List<Pod> pods) {

    public DeploymentSnapshot {
        Objects.requireNonNull(target, "target");
        annotations = Map.copyOf(annotations);
        Objects.requireNonNull(resourceVersion, "resourceVersion");
        pods = List.copyOf(pods);
    }

    /** kubectl's READY column, such as {@code 0/1}: ready replicas, then desired replicas. */
    public String ready() {
        return readyReplicas + "/" + replicas;
    }

    /**
     * One pod.
     *
     * @param name {@code <deployment>-<5 random lower case alphanumerics>}
     * @param phase {@code Pending} or {@code Running}
     * @param ready its Ready condition is True
     * @param terminating it has a deletion timestamp (kubectl shows {@code Terminating})
     * @param waitingReason why its container is waiting, such as {@code ContainerCreating} or {@code
     *     ImagePullBackOff}; null when it runs
     */
    public record Pod(
            String name,
            String phase,
            boolean ready,
            boolean terminating,
            @Nullable String waitingReason) {
        public Pod {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(phase, "phase");
        }
    }
}
