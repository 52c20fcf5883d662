package io.github.replicalock;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Timings of the lock, immutable. Every setter rejects null and non-positive durations at once;
 * {@link Builder#build()} checks them against each other.
 *
 * <pre>{@code
 * LockOptions options = LockOptions.builder()
 *         .leaseDuration(Duration.ofSeconds(30))   // renewed every 10 s
 *         .readyTimeout(Duration.ofMinutes(2))     // as kubectl wait --timeout=120s
 *         .releaseTimeout(Duration.ofMinutes(1))
 *         .fairness(Fairness.FIFO)                 // the default: first come, first served
 *         .build();
 * }</pre>
 */
public final class LockOptions {
    private static final LockOptions DEFAULTS = new Builder().build();

    private final Duration leaseDuration;
    private final @Nullable Duration renewInterval;
    // Derived once: every acquisition asks for it, and Duration.dividedBy is not cheap.
    private final Duration effectiveRenewInterval;
    private final Duration readyTimeout;
    private final Duration releaseTimeout;
    private final Duration takeoverGrace;
    private final @Nullable Duration foreignLease;
    private final Duration fallbackPollInterval;
    private final Fairness fairness;

    private LockOptions(Builder b) {
        this.leaseDuration = b.leaseDuration;
        this.renewInterval = b.renewInterval;
        this.effectiveRenewInterval = b.renewInterval != null ? b.renewInterval : b.leaseDuration.dividedBy(3);
        this.readyTimeout = b.readyTimeout;
        this.releaseTimeout = b.releaseTimeout;
        this.takeoverGrace = b.takeoverGrace;
        this.foreignLease = b.foreignLease;
        this.fallbackPollInterval = b.fallbackPollInterval;
        this.fairness = b.fairness;
    }

    /**
     * Lease 30 s, renewal every 10 s, ready timeout 120 s, release timeout 60 s, grace 5 s, {@link
     * Fairness#FIFO}.
     */
    public static LockOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.leaseDuration = leaseDuration;
        b.renewInterval = renewInterval;
        b.readyTimeout = readyTimeout;
        b.releaseTimeout = releaseTimeout;
        b.takeoverGrace = takeoverGrace;
        b.foreignLease = foreignLease;
        b.fallbackPollInterval = fallbackPollInterval;
        b.fairness = fairness;
        return b;
    }

    /** How long the holder promises to go without renewing at most; contenders take over after it. */
    public Duration leaseDuration() {
        return leaseDuration;
    }

    /** How often a held lock is renewed: the configured interval, or a third of the lease. */
    public Duration renewInterval() {
        return effectiveRenewInterval;
    }

    /** How long an acquisition waits for a Ready builder pod before it rolls back. */
    public Duration readyTimeout() {
        return readyTimeout;
    }

    /** How long {@link ReplicaLock#close()} waits for the builder pods to be gone. */
    public Duration releaseTimeout() {
        return releaseTimeout;
    }

    /**
     * Added to a holder's lease before a contender considers it expired, to absorb request latency
     * and scheduling delays on the holder's side.
     */
    public Duration takeoverGrace() {
        return takeoverGrace;
    }

    /**
     * The lease assumed for holders that do not speak this protocol (replicas 1 and no holder
     * annotation, as the shell pipeline leaves it). Empty, the default: such locks never expire.
     */
    public Optional<Duration> foreignLease() {
        return Optional.ofNullable(foreignLease);
    }

    /** The cap of the jittered poll used only while the backend's watch is down. */
    public Duration fallbackPollInterval() {
        return fallbackPollInterval;
    }

    /** Who gets the lock when it comes free while several wait; see {@link Fairness}. */
    public Fairness fairness() {
        return fairness;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof LockOptions other
                && leaseDuration.equals(other.leaseDuration)
                && renewInterval().equals(other.renewInterval())
                && readyTimeout.equals(other.readyTimeout)
                && releaseTimeout.equals(other.releaseTimeout)
                && takeoverGrace.equals(other.takeoverGrace)
                && Objects.equals(foreignLease, other.foreignLease)
                && fallbackPollInterval.equals(other.fallbackPollInterval)
                && fairness == other.fairness;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                leaseDuration,
                renewInterval(),
                readyTimeout,
                releaseTimeout,
                takeoverGrace,
                foreignLease,
                fallbackPollInterval,
                fairness);
    }

    @Override
    public String toString() {
        return "LockOptions{lease=" + leaseDuration + ", renewInterval=" + renewInterval() + ", readyTimeout="
                + readyTimeout + ", releaseTimeout=" + releaseTimeout + ", takeoverGrace=" + takeoverGrace
                + ", foreignLease=" + (foreignLease == null ? "never" : foreignLease) + ", fallbackPoll="
                + fallbackPollInterval + ", fairness=" + fairness + "}";
    }

    /** Builds {@link LockOptions}; starts from the defaults. */
    public static final class Builder {
        private Duration leaseDuration = Duration.ofSeconds(30);
        private @Nullable Duration renewInterval;
        private Duration readyTimeout = Duration.ofMinutes(2);
        private Duration releaseTimeout = Duration.ofSeconds(60);
        private Duration takeoverGrace = Duration.ofSeconds(5);
        private @Nullable Duration foreignLease;
        private Duration fallbackPollInterval = Duration.ofSeconds(5);
        private Fairness fairness = Fairness.FIFO;

        private Builder() {}

        /** Default 30 s. */
        public Builder leaseDuration(Duration leaseDuration) {
            this.leaseDuration = positive("leaseDuration", leaseDuration);
            return this;
        }

        /** Default a third of the lease; must be shorter than the lease. */
        public Builder renewInterval(Duration renewInterval) {
            this.renewInterval = positive("renewInterval", renewInterval);
            return this;
        }

        /** Default 120 s. */
        public Builder readyTimeout(Duration readyTimeout) {
            this.readyTimeout = positive("readyTimeout", readyTimeout);
            return this;
        }

        /** Default 60 s. */
        public Builder releaseTimeout(Duration releaseTimeout) {
            this.releaseTimeout = positive("releaseTimeout", releaseTimeout);
            return this;
        }

        /** Default 5 s. */
        public Builder takeoverGrace(Duration takeoverGrace) {
            this.takeoverGrace = positive("takeoverGrace", takeoverGrace);
            return this;
        }

        /** Lets locks held outside this protocol expire after this lease; default: they never do. */
        public Builder foreignLease(Duration foreignLease) {
            this.foreignLease = positive("foreignLease", foreignLease);
            return this;
        }

        /** Default 5 s. */
        public Builder fallbackPollInterval(Duration fallbackPollInterval) {
            this.fallbackPollInterval = positive("fallbackPollInterval", fallbackPollInterval);
            return this;
        }

        /**
         * Default {@link Fairness#FIFO}: waiters queue on the Deployment and acquire in arrival
         * order. {@link Fairness#BARGING} is the behaviour before the queue: the first write after a
         * release wins.
         */
        public Builder fairness(Fairness fairness) {
            this.fairness = Objects.requireNonNull(fairness, "fairness must not be null");
            return this;
        }

        /**
         * Checks the settings against each other.
         *
         * @throws IllegalArgumentException if the renew interval is not shorter than the lease
         */
        public LockOptions build() {
            if (renewInterval != null && renewInterval.compareTo(leaseDuration) >= 0) {
                throw new IllegalArgumentException("renewInterval " + renewInterval
                        + " must be shorter than leaseDuration " + leaseDuration
                        + ", or the lease expires between two renewals");
            }
            return new LockOptions(this);
        }

        private static Duration positive(String field, @Nullable Duration value) {
            Objects.requireNonNull(value, () -> field + " must not be null");
            if (value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(field + " must be positive, got " + value);
            }
            return value;
        }
    }
}
