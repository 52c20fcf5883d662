package io.github.replicalock.cli;

import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.testkit.FakeCluster;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Statuses for the unit tests of formatting and exit codes. A status of a lock the library
 * understands has no public factory, so these are read the way the CLI reads them: from a
 * Deployment (on the testkit's fake cluster) carrying the annotations and replicas asked for.
 */
final class Statuses {
    private Statuses() {}

    static LockStatus held(
            LockTarget target,
            String holder,
            long token,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease) {
        return read(target, 1, holder, token, acquired, renewed, lease);
    }

    /** A held lock with {@code queue} as the text of the waiter queue annotation. */
    static LockStatus heldWithQueue(LockTarget target, String holder, long token, Instant renewed, String queue) {
        try (FakeCluster cluster = FakeCluster.create()) {
            cluster.createDeployment(target.namespace(), target.name());
            cluster.annotate(target.namespace(), target.name(), LockQueue.ANNOTATION, queue);
            return read(cluster, target, 1, holder, token, renewed, renewed, Duration.ofSeconds(30));
        }
    }

    static LockStatus idle(LockTarget target, long token) {
        return read(target, 0, "", token, null, null, null);
    }

    static LockStatus unknown(LockTarget target, String reason, int replicas, @Nullable String holder, long token) {
        return LockStatus.unknown(target, reason, replicas, 0, holder, token);
    }

    private static LockStatus read(
            LockTarget target,
            int replicas,
            String holder,
            long token,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease) {
        try (FakeCluster cluster = FakeCluster.create()) {
            cluster.createDeployment(target.namespace(), target.name());
            return read(cluster, target, replicas, holder, token, acquired, renewed, lease);
        }
    }

    private static LockStatus read(
            FakeCluster cluster,
            LockTarget target,
            int replicas,
            String holder,
            long token,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease) {
        {
            String namespace = target.namespace();
            String name = target.name();
            cluster.annotate(namespace, name, LockFields.HOLDER_ANNOTATION, holder);
            cluster.annotate(namespace, name, LockFields.TOKEN_ANNOTATION, Long.toString(token));
            cluster.annotate(namespace, name, LockFields.ACQUIRED_ANNOTATION, text(acquired));
            cluster.annotate(namespace, name, LockFields.RENEWED_ANNOTATION, text(renewed));
            cluster.annotate(
                    namespace,
                    name,
                    LockFields.LEASE_ANNOTATION,
                    lease == null ? null : Long.toString(lease.toSeconds()));
            cluster.scale(target, replicas);
            try (ReplicaLocks locks = cluster.locks("statuses-reader").build()) {
                return locks.status(target);
            }
        }
    }

    private static @Nullable String text(@Nullable Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
