package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import java.time.Instant;
import java.util.Objects;

/**
 * A Kubernetes Event a backend recorded on a Deployment, as {@code kubectl describe deployment}
 * would list it; see {@link FakeCluster#events(String, String)}.
 *
 * <pre>{@code
 * assertThat(cluster.events("ci", "builder")).extracting(ClusterEvent::reason)
 *         .containsExactly("Acquired", "Released");
 * }</pre>
 *
 * @param time the cluster clock's wall time when it was recorded
 * @param target the Deployment it is about
 * @param client the {@link FakeBackend#name()} that recorded it
 * @param reason a short CamelCase reason such as {@code Acquired}
 * @param message the human-readable message
 */
public record ClusterEvent(Instant time, LockTarget target, String client, String reason, String message) {
    public ClusterEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
    }
}
