package io.github.replicalock.spi;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one text form of the lock on a Deployment: how every backend that stores {@link LockFields}
 * as {@code replicalock.io/} annotations parses, validates and writes them. The Kubernetes backend
 * and the testkit's fake cluster both go through this class, so that the fake cannot judge a lock
 * differently from a real cluster.
 *
 * <pre>{@code
 * // reading what is stored
 * LockFields fields = LockAnnotations.parse(target, spec.replicas, metadata.annotations);
 *
 * // writing: every key, in a fixed order; a null value means "remove the key"
 * LockAnnotations.write(desired, (key, value) -> {
 *     if (value == null) annotations.remove(key); else annotations.put(key, value);
 * });
 * }</pre>
 *
 * <p><b>Writing.</b>
 *
 * <ul>
 *   <li>{@link LockFields#HOLDER_ANNOTATION holder}: the identity as given; the empty string when
 *       nobody holds the lock. The key is never removed: a JSON Patch cannot test that a key is
 *       absent, so a conditional write tests the holder's text, which must therefore exist.
 *   <li>{@link LockFields#TOKEN_ANNOTATION token}: always written, in decimal, {@code 0} included.
 *   <li>{@link LockFields#ACQUIRED_ANNOTATION acquired}, {@link LockFields#RENEWED_ANNOTATION
 *       renewed}: {@link Instant#toString()}'s RFC 3339 text in UTC; removed when null.
 *   <li>{@link LockFields#LEASE_ANNOTATION lease-seconds}: whole seconds, <b>rounded up</b>; removed
 *       when null. The holder trusts its own unrounded lease; a contender waits for the stored one.
 *       Rounded down, a 2.5 s lease would read as 2 s and a contender could take over half a second
 *       before the holder thinks its lease ran out. Rounded up, it waits at most a second longer than
 *       needed. Writing milliseconds would also be exact, but would change what the key means for
 *       every reader already deployed (and for people reading {@code kubectl describe}).
 *   <li>{@link ForceRelease#ANNOTATION force-released}: {@link ForceRelease#text()}, written only
 *       when {@link LockFields#forceReleased()} is set (a force-release); never removed.
 * </ul>
 *
 * <p><b>Reading.</b> Absent, empty and whitespace-only values all mean "not set": no holder, token
 * 0, no instant, no lease. The holder is compared as written and never trimmed; the other values
 * are trimmed before they are parsed. Anything else that does not parse is a {@link
 * LockTargetInvalidException} naming the annotation, its value and what was expected:
 *
 * <ul>
 *   <li>token: a non-negative decimal integer of at most 19 digits ({@code -5}, {@code +5},
 *       {@code 7.0}, {@code seven} are malformed);
 *   <li>lease: a positive whole number of seconds ({@code 0}, {@code -30}, {@code 2.5}, {@code 30s}
 *       are malformed);
 *   <li>acquired, renewed: an ISO 8601 / RFC 3339 date-time with an offset, such as {@code
 *       2026-01-31T12:00:00Z} or {@code 2026-01-31T14:00:00+02:00};
 *   <li>force-released: as {@link ForceRelease#parse} reads it.
 * </ul>
 *
 * <p>Writing rejects what reading would reject (a negative token, a lease that is not positive)
 * with an {@link IllegalArgumentException}, so a lock can never be written in a form that would
 * make every later read fail. {@code parse(write(fields))} is {@link #stored(LockFields)}.
 */
public final class LockAnnotations {
    private static final String TOKEN_EXPECTED = "a non-negative decimal integer such as 7";
    private static final String LEASE_EXPECTED = "a positive whole number of seconds such as 30";
    private static final String INSTANT_EXPECTED = "an RFC 3339 instant such as 2026-01-31T12:00:00Z";
    private static final int MAX_LONG_DIGITS = 19;
    /** The longest holder or waiter identity, as {@code ReplicaLocks.Builder.holder} allows. */
    static final int MAX_IDENTITY_LENGTH = 253;

    private LockAnnotations() {}

    /** Receives the annotations of one write, one key at a time; see {@link #write}. */
    @FunctionalInterface
    public interface Writer {
        /**
         * @param key one of {@link LockFields}' annotation keys
         * @param value the text to store, or null to remove the key
         */
        void put(String key, @Nullable String value);
    }

    /**
     * The lock fields stored as {@code annotations} on a Deployment with {@code replicas}.
     *
     * @param annotations the Deployment's annotations, other keys included (they are ignored)
     * @throws LockTargetInvalidException naming the annotation, its value and what was expected, if a
     *     lock annotation does not parse
     */
    public static LockFields parse(LockTarget target, int replicas, Map<String, String> annotations) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(annotations, "annotations");
        return new LockFields(
                replicas,
                annotations.get(LockFields.HOLDER_ANNOTATION),
                token(target, annotations.get(LockFields.TOKEN_ANNOTATION)),
                instant(target, LockFields.ACQUIRED_ANNOTATION, annotations.get(LockFields.ACQUIRED_ANNOTATION)),
                instant(target, LockFields.RENEWED_ANNOTATION, annotations.get(LockFields.RENEWED_ANNOTATION)),
                lease(target, annotations.get(LockFields.LEASE_ANNOTATION)),
                ForceRelease.parse(target, annotations.get(ForceRelease.ANNOTATION)));
    }

    /**
     * Gives {@code out} the text of every lock annotation of {@code fields}, in the order holder,
     * token, acquired, renewed, lease, then the force-release record when there is one; {@code
     * null} for a key to remove. {@code spec.replicas} is not
     * an annotation: the caller writes it.
     *
     * @throws IllegalArgumentException if the token is negative or the lease is not positive
     */
    public static void write(LockFields fields, Writer out) {
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(out, "out");
        out.put(LockFields.HOLDER_ANNOTATION, holderText(fields.holder()));
        out.put(LockFields.TOKEN_ANNOTATION, tokenText(fields.token()));
        Instant acquired = fields.acquired();
        Instant renewed = fields.renewed();
        String acquiredText = acquired == null ? null : instantText(acquired);
        // An acquisition writes the same instant twice: format it once.
        String renewedText = renewed == null ? null : renewed.equals(acquired) ? acquiredText : instantText(renewed);
        out.put(LockFields.ACQUIRED_ANNOTATION, acquiredText);
        out.put(LockFields.RENEWED_ANNOTATION, renewedText);
        Duration lease = fields.lease();
        out.put(LockFields.LEASE_ANNOTATION, lease == null ? null : leaseText(lease));
        ForceRelease act = fields.forceReleased();
        if (act != null) {
            // Only a force-release writes the record; no write removes it (the audit trail).
            out.put(ForceRelease.ANNOTATION, act.text());
        }
    }

    /**
     * The fields as a read returns them after {@link #write}: the lease rounded up to whole seconds,
     * everything else unchanged. A backend that keeps parsed fields beside the text caches this.
     *
     * @throws IllegalArgumentException as {@link #write}
     */
    public static LockFields stored(LockFields fields) {
        Duration lease = fields.lease();
        checkToken(fields.token());
        Duration storedLease = lease == null ? null : storedLease(lease);
        if (Objects.equals(storedLease, lease)) {
            return fields;
        }
        return new LockFields(
                fields.replicas(),
                fields.holder(),
                fields.token(),
                fields.acquired(),
                fields.renewed(),
                storedLease,
                fields.forceReleased());
    }

    /** The holder annotation's text: the identity, or the empty string for nobody. */
    public static String holderText(@Nullable String holder) {
        return holder == null ? "" : holder;
    }

    /**
     * The token annotation's text, in decimal.
     *
     * @throws IllegalArgumentException if {@code token} is negative
     */
    public static String tokenText(long token) {
        return Long.toString(checkToken(token));
    }

    /** An instant annotation's text: {@link Instant#toString()}, RFC 3339 in UTC. */
    public static String instantText(Instant instant) {
        return Rfc3339.format(Objects.requireNonNull(instant, "instant"));
    }

    /**
     * The lease annotation's text: whole seconds, rounded up.
     *
     * @throws IllegalArgumentException if {@code lease} is zero or negative
     */
    public static String leaseText(Duration lease) {
        return Long.toString(storedLease(lease).getSeconds());
    }

    /** The lease a read returns after {@code lease} was written: rounded up to whole seconds. */
    private static Duration storedLease(Duration lease) {
        Objects.requireNonNull(lease, "lease");
        if (lease.isZero() || lease.isNegative()) {
            throw new IllegalArgumentException(
                    "lease must be positive to be stored in " + LockFields.LEASE_ANNOTATION + ", got " + lease);
        }
        if (lease.getNano() == 0) {
            return lease;
        }
        // Saturates instead of overflowing for a lease of Long.MAX_VALUE seconds and a fraction.
        long seconds = lease.getSeconds() == Long.MAX_VALUE ? Long.MAX_VALUE : lease.getSeconds() + 1;
        return Duration.ofSeconds(seconds);
    }

    private static long checkToken(long token) {
        if (token < 0) {
            throw new IllegalArgumentException(
                    "token must not be negative to be stored in " + LockFields.TOKEN_ANNOTATION + ", got " + token);
        }
        return token;
    }

    private static long token(LockTarget target, @Nullable String raw) {
        if (raw == null || raw.isBlank()) {
            return 0;
        }
        String text = raw.strip();
        Long value = digits(text);
        if (value == null) {
            throw invalid(target, LockFields.TOKEN_ANNOTATION, raw, TOKEN_EXPECTED);
        }
        return value;
    }

    private static @Nullable Duration lease(LockTarget target, @Nullable String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        Long seconds = digits(raw.strip());
        if (seconds == null || seconds == 0) {
            throw invalid(target, LockFields.LEASE_ANNOTATION, raw, LEASE_EXPECTED);
        }
        return Duration.ofSeconds(seconds);
    }

    /**
     * A non-negative decimal long of ASCII digits only (no sign, no fraction), or null. Shared with
     * {@link LockQueue} and {@link ForceRelease}, so that every number on a Deployment is judged alike.
     */
    static @Nullable Long digits(String text) {
        if (text.isEmpty() || text.length() > MAX_LONG_DIGITS) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return null; // 19 digits above Long.MAX_VALUE
        }
    }

    private static @Nullable Instant instant(LockTarget target, String key, @Nullable String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        Instant parsed = instantOrNull(raw.strip());
        if (parsed == null) {
            throw invalid(target, key, raw, INSTANT_EXPECTED);
        }
        return parsed;
    }

    /** An RFC 3339 date-time with an offset, or null; shared with the queue and force-release codecs. */
    static @Nullable Instant instantOrNull(String text) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                    .toInstant();
        } catch (DateTimeException e) {
            return null;
        }
    }

    /**
     * Whether {@code identity} may be written as a holder or waiter: 1 to {@value #MAX_IDENTITY_LENGTH}
     * characters, not blank, no control character (so never a line break, which the queue and
     * force-release texts use as separator).
     */
    static boolean isIdentity(String identity) {
        return !identity.isBlank()
                && identity.length() <= MAX_IDENTITY_LENGTH
                && identity.chars().noneMatch(Character::isISOControl);
    }

    static LockTargetInvalidException invalid(LockTarget target, String key, String raw, String expected) {
        return new LockTargetInvalidException(
                target, "annotation " + key + " has value '" + raw + "', expected " + expected);
    }
}
