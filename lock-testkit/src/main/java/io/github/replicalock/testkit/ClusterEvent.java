package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockEvent;
import java.time.Instant;
import java.util.Objects;

/**
 * A Kubernetes Event a backend recorded on a Deployment, as {@code kubectl describe deployment}
 * would list it; see {@link FakeCluster#events(LockTarget)}.
 *
 * <pre>{@code
 * assertThat(cluster.events(target)).extracting(ClusterEvent::reason)
 *         .containsExactly("Acquired", "Released");
 * assertThat(cluster.events(target)).filteredOn(e -> e.severity() == LockEvent.Severity.WARNING)
 *         .extracting(ClusterEvent::reason).containsExactly("Lost");
 * }</pre>
 *
 * @param time the cluster clock's wall time when it was recorded
 * @param target the Deployment it is about
 * @param client the {@link FakeBackend#name()} that recorded it
 * @param kind what the engine reported
 * @param message the human-readable message
 */
public record ClusterEvent(Instant time, LockTarget target, String client, LockEvent.Kind kind, String message) {
    public ClusterEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }

    /** The short CamelCase reason, such as {@code Acquired}, as Kubernetes would show it. */
    public String reason() {
        return kind.reason();
    }

    /** The event's severity: its type, {@code Normal} or {@code Warning}, on a real cluster. */
    public LockEvent.Severity severity() {
        return kind.severity();
    }
}
