package io.github.replicalock.internal;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockClock;
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
 *
 * <p>Answers are durations from now, never monotonic instants: {@link LockClock#nanoTime()} has an
 * arbitrary origin, so an instant may be negative or wrap, and "never" must not be an instant that
 * some clock reaches.
 */
final class ExpiryTracker {
    /** The time left of a hold that never expires: longer than any wait anyone asks for. */
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
     * Notes what a read that started at {@code readStartNanos} and returned at {@code readEndNanos}
     * showed, and returns the nanoseconds from {@code readStartNanos} until this hold expires if
     * nothing changes: zero or less once it has expired, {@link #NEVER} if it never does.
     *
     * <p>Both ends count against a takeover. A hold first seen is dated at the read's end (the
     * holder may have renewed just before the server answered); a hold seen again is judged at the
     * read's start (a pause after the read, before this call, proves nothing about the holder: it
     * may have renewed all along).
     */
    long remainingNanos(LockTarget target, LockFields fields, long readStartNanos, long readEndNanos) {
        if (fields.replicas() != 1) {
            sightings.remove(target);
            return NEVER;
        }
        Sighting sighting = sightings.compute(
                target,
                (t, previous) -> previous != null && previous.sameHold(fields)
                        ? previous
                        : new Sighting(fields.holder(), fields.token(), fields.renewed(), readEndNanos));
        Duration lease = leaseOf(fields);
        if (lease == null) {
            return NEVER;
        }
        long leaseNanos = Durations.saturatedNanos(lease);
        long graceNanos = Durations.saturatedNanos(options.takeoverGrace());
        if (leaseNanos == NEVER || graceNanos == NEVER || leaseNanos > NEVER - graceNanos) {
            return NEVER; // longer than 292 years: never, in practice
        }
        long allowed = leaseNanos + graceNanos;
        // A difference of two readings of one monotonic clock is right whatever its origin.
        long elapsed = readStartNanos - sighting.firstSeenNanos();
        return allowed - elapsed;
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
}
