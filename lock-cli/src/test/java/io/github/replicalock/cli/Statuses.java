package io.github.replicalock.cli;

import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockFields;
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
            String namespace = target.namespace();
            String name = target.name();
            cluster.createDeployment(namespace, name);
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
