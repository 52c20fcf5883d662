package io.github.replicalock;

import io.github.replicalock.internal.StatusAccess;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What one look at the Deployment showed: the state, the READY column's numbers, and the lock's
 * annotations.
 *
 * <pre>{@code
 * LockStatus status = locks.status(target);
 * System.out.println(status.readyReplicas() + "/" + status.desiredReplicas() + " " + status.state()
 *         + " held by " + status.holder().orElse("nobody") + " token " + status.fencingToken());
 * for (LockStatus.Waiter waiter : status.waiters()) {
 *     System.out.println("  waiting: " + waiter.identity() + " for " + waiter.waited().toSeconds() + " s");
 * }
 * }</pre>
 */
public final class LockStatus {
    /**
     * One waiter of the fair queue (docs/lock-protocol.md section 10), head first in {@link
     * #waiters()}.
     *
     * @param identity the waiter's holder identity
     * @param enqueued when it joined the queue, by its own wall clock
     * @param waited how long it has waited, by the reader's wall clock; zero if that clock is behind
     */
    public record Waiter(String identity, Instant enqueued, Duration waited) {
        public Waiter {
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(enqueued, "enqueued");
            Objects.requireNonNull(waited, "waited");
        }
    }

    private final LockTarget target;
    private final LockState state;
    private final int desiredReplicas;
    private final int readyReplicas;
    private final @Nullable String holder;
    private final long fencingToken;
    private final @Nullable Instant acquired;
    private final @Nullable Instant renewed;
    private final @Nullable Duration lease;
    private final @Nullable String reason;
    private final List<Waiter> waiters;

    private LockStatus(
            LockTarget target,
            LockState state,
            int desiredReplicas,
            int readyReplicas,
            @Nullable String holder,
            long fencingToken,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease,
            @Nullable String reason,
            List<Waiter> waiters) {
        this.target = Objects.requireNonNull(target, "target");
        this.state = Objects.requireNonNull(state, "state");
        this.desiredReplicas = desiredReplicas;
        this.readyReplicas = readyReplicas;
        this.holder = holder;
        this.fencingToken = fencingToken;
        this.acquired = acquired;
        this.renewed = renewed;
        this.lease = lease;
        this.reason = reason;
        this.waiters = List.copyOf(waiters);
    }

    static {
        // The engine builds statuses of locks it understands; that factory is not API.
        StatusAccess.register(LockStatus::understood);
    }

    private static LockStatus understood(
            LockTarget target,
            LockState state,
            int desiredReplicas,
            int readyReplicas,
            @Nullable String holder,
            long fencingToken,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease,
            List<Waiter> waiters) {
        return new LockStatus(
                target,
                state,
                desiredReplicas,
                readyReplicas,
                holder,
                fencingToken,
                acquired,
                renewed,
                lease,
                null,
                waiters);
    }

    /** An {@link LockState#UNKNOWN} status with the reason, and whatever numbers were seen. */
    public static LockStatus unknown(
            LockTarget target,
            String reason,
            int desiredReplicas,
            int readyReplicas,
            @Nullable String holder,
            long token) {
        return new LockStatus(
                target,
                LockState.UNKNOWN,
                desiredReplicas,
                readyReplicas,
                holder,
                token,
                null,
                null,
                null,
                Objects.requireNonNull(reason, "reason"),
                List.of());
    }

    public LockTarget target() {
        return target;
    }

    public LockState state() {
        return state;
    }

    /** {@code spec.replicas}: 0 free, 1 held; anything else makes the state {@code UNKNOWN}. */
    public int desiredReplicas() {
        return desiredReplicas;
    }

    /** {@code status.readyReplicas}, the left number of kubectl's READY column. */
    public int readyReplicas() {
        return readyReplicas;
    }

    /**
     * Who holds the lock: the holder annotation, {@code "unknown"} for replicas 1 without one (the
     * shell pipeline took it), empty when free.
     */
    public Optional<String> holder() {
        return Optional.ofNullable(holder);
    }

    /** The last fencing token handed out; kept after release, 0 if none ever was. */
    public long fencingToken() {
        return fencingToken;
    }

    public Optional<Instant> acquired() {
        return Optional.ofNullable(acquired);
    }

    /** When the holder last renewed, by the holder's wall clock (informational only). */
    public Optional<Instant> renewed() {
        return Optional.ofNullable(renewed);
    }

    /** The lease the holder promised; empty for free locks and for holders that do not speak the protocol. */
    public Optional<Duration> lease() {
        return Optional.ofNullable(lease);
    }

    /** Why the state is {@code UNKNOWN}; empty otherwise. */
    public Optional<String> reason() {
        return Optional.ofNullable(reason);
    }

    /**
     * The queue of waiters, head first: who waits for the lock under {@code Fairness.FIFO}, and for
     * how long. Empty when nobody is queued (and for {@code UNKNOWN} states).
     */
    public List<Waiter> waiters() {
        return waiters;
    }

    /** kubectl's READY column, such as {@code 0/1}. */
    public String ready() {
        return readyReplicas + "/" + desiredReplicas;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof LockStatus s
                && target.equals(s.target)
                && state == s.state
                && desiredReplicas == s.desiredReplicas
                && readyReplicas == s.readyReplicas
                && Objects.equals(holder, s.holder)
                && fencingToken == s.fencingToken
                && Objects.equals(acquired, s.acquired)
                && Objects.equals(renewed, s.renewed)
                && Objects.equals(lease, s.lease)
                && Objects.equals(reason, s.reason)
                && waiters.equals(s.waiters);
    }

    @Override
    public int hashCode() {
        return Objects.hash(target, state, desiredReplicas, readyReplicas, holder, fencingToken, reason);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder()
                .append(target)
                .append(' ')
                .append(state)
                .append(" READY ")
                .append(ready());
        if (holder != null) {
            s.append(" holder=").append(holder);
        }
        s.append(" token=").append(fencingToken);
        if (!waiters.isEmpty()) {
            s.append(" waiters=").append(waiters.size());
        }
        if (reason != null) {
            s.append(" (").append(reason).append(')');
        }
        return s.toString();
    }
}
