package io.github.replicalock.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The lock's part of a Deployment: {@code spec.replicas} and the {@code replicalock.io/}
 * annotations. Conditional writes compare {@link #replicas}, {@link #holder} and {@link #token}.
 * {@link LockAnnotations} is their text form, shared by every backend that stores on a Deployment.
 *
 * <pre>{@code
 * LockFields held = LockFields.free(7).heldBy("build-42", 8, now, Duration.ofSeconds(30));
 * }</pre>
 *
 * @param replicas {@code spec.replicas}
 * @param holder {@code replicalock.io/holder}; null when absent, empty or blank (nobody)
 * @param token {@code replicalock.io/token}; 0 when absent
 * @param acquired {@code replicalock.io/acquired}
 * @param renewed {@code replicalock.io/renewed}
 * @param lease {@code replicalock.io/lease-seconds}; a backend stores it rounded up to whole
 *     seconds ({@link LockAnnotations#stored})
 * @param forceReleased {@value ForceRelease#ANNOTATION}, the record of the last force-release
 *     (docs/lock-protocol.md section 10.8), not compared by conditional writes. Read: the record
 *     stored, null if none. Written: null leaves the stored record as it is (it is an audit trail
 *     that only the next force-release replaces), so every write but a force-release's gives null
 */
public record LockFields(
        int replicas,
        @Nullable String holder,
        long token,
        @Nullable Instant acquired,
        @Nullable Instant renewed,
        @Nullable Duration lease,
        @Nullable ForceRelease forceReleased) {

    /** The annotation keys, shared by every backend that stores on a Deployment. */
    public static final String HOLDER_ANNOTATION = "replicalock.io/holder";

    public static final String TOKEN_ANNOTATION = "replicalock.io/token";
    public static final String ACQUIRED_ANNOTATION = "replicalock.io/acquired";
    public static final String RENEWED_ANNOTATION = "replicalock.io/renewed";
    public static final String LEASE_ANNOTATION = "replicalock.io/lease-seconds";

    public LockFields {
        if (holder != null && holder.isBlank()) {
            holder = null;
        }
    }

    /** Lock fields that carry no force-release record: what every write but a force-release's gives. */
    public LockFields(
            int replicas,
            @Nullable String holder,
            long token,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease) {
        this(replicas, holder, token, acquired, renewed, lease, null);
    }

    /** Replicas 0, nobody holding, the last token kept. */
    public static LockFields free(long token) {
        return new LockFields(0, null, token, null, null, null);
    }

    /** Replicas 1 held by {@code holder} with {@code token}, acquired and renewed {@code now}. */
    public LockFields heldBy(String holder, long token, Instant now, Duration lease) {
        return new LockFields(1, holder, token, now, now, lease);
    }

    /** The same hold, renewed at {@code now}. */
    public LockFields renewedAt(Instant now) {
        return new LockFields(replicas, holder, token, acquired, now, lease);
    }

    /** Replicas 0, holder and times cleared, token kept. */
    public LockFields released() {
        return free(token);
    }

    /**
     * The write of an operator's force-release of this hold: {@link #released()}, with {@code act}
     * recorded in {@value ForceRelease#ANNOTATION}.
     *
     * <pre>{@code
     * LockFields seen = backend.readFresh(target).fields();
     * ForceRelease act = new ForceRelease(seen.token(), seen.holder(), now, "ops-alice", "builder wedged");
     * boolean broken = backend.compareAndSet(target, seen, seen.forceReleasedBy(act));
     * }</pre>
     */
    public LockFields forceReleasedBy(ForceRelease act) {
        return new LockFields(0, null, token, null, null, null, Objects.requireNonNull(act, "act"));
    }

    /** These fields with {@code record} as the force-release read beside them. */
    public LockFields withForceReleased(@Nullable ForceRelease record) {
        return new LockFields(replicas, holder, token, acquired, renewed, lease, record);
    }

    /** True when replicas, holder and token are equal: what a conditional write compares. */
    public boolean sameLockAs(LockFields other) {
        return replicas == other.replicas && token == other.token && Objects.equals(holder, other.holder);
    }
}
