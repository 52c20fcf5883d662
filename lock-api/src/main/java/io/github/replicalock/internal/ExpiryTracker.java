package io.github.replicalock.internal;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Judges expiry on this process's monotonic clock, never on the holder's wall clock: a hold
 * expires when its (holder, token, renewed) has not changed for longer than its lease plus the
 * grace, counted from when this process first saw it.
 */
final class ExpiryTracker {
    /** A deadline that never comes. */
    static final long NEVER = Long.MAX_VALUE;

    private record Sighting(
            @Nullable String holder, long token, @Nullable Instant renewed, long firstSeenNanos) {
        boolean sameHold(LockFields fields) {
            return token == fields.token()
                    && Objects.equals(holder, fields.holder())
                    && Objects.equals(renewed, fields.renewed());
        }
    }

    private final ConcurrentMap<LockTarget, Sighting> sightings = new ConcurrentHashMap<>();
    private final LockOptions options;

    ExpiryTracker(LockOptions options) {
        this.options = options;
    }

    /**
     * Notes what was read at {@code nowNanos} and returns the monotonic instant at which this hold
     * expires if nothing changes, or {@link #NEVER}.
     */
    long observe(LockTarget target, LockFields fields, long nowNanos) {
        if (fields.replicas() != 1) {
            sightings.remove(target);
            return NEVER;
        }
        Sighting sighting = sightings.compute(
                target,
                (t, previous) -> previous != null && previous.sameHold(fields)
                        ? previous
                        : new Sighting(fields.holder(), fields.token(), fields.renewed(), nowNanos));
        Duration lease = leaseOf(fields);
        if (lease == null) {
            return NEVER;
        }
        return saturatedAdd(
                sighting.firstSeenNanos(), lease.plus(options.takeoverGrace()).toNanos());
    }

    private @Nullable Duration leaseOf(LockFields fields) {
        if (fields.holder() == null) {
            // Held by something that does not speak the protocol: only a configured foreign lease ends it.
            return options.foreignLease().orElse(null);
        }
        return fields.lease() != null ? fields.lease() : options.foreignLease().orElse(null);
    }

    void forget(LockTarget target) {
        sightings.remove(target);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? NEVER : sum;
    }
}
