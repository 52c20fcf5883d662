package io.github.replicalock.spi;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The record an operator's force-release leaves on the Deployment, in the annotation {@value
 * #ANNOTATION}, and its one text form (see {@code docs/lock-protocol.md} section 10.8). It is the
 * audit trail of the last force-release, and tells the broken holder why its lock was lost.
 *
 * <pre>{@code
 * ForceRelease act = new ForceRelease(7, "drone-build-41", now, "ops-alice", "builder wedged, INC-1234");
 * annotations.put(ForceRelease.ANNOTATION, act.text());
 *
 * // the holder with token 7, finding its lock gone:
 * ForceRelease seen = ForceRelease.parse(target, annotations.get(ForceRelease.ANNOTATION));
 * if (seen != null && seen.token() == myToken) { lost(seen.describe()); }
 * }</pre>
 *
 * <p><b>Text.</b> One {@code key: value} per line, in the order {@code token}, {@code holder},
 * {@code at}, {@code by}, {@code reason}, separated by {@code \n}:
 *
 * <pre>
 * token: 7
 * holder: drone-build-41
 * at: 2026-12-03T09:12:00Z
 * by: ops-alice
 * reason: builder wedged on a stuck mount, INC-1234
 * </pre>
 *
 * <p><b>Reading.</b> Absent, empty and blank texts mean "never force-released". Each of the five
 * keys must appear once; lines with other keys are ignored (a later version may add some), as are
 * lines without a colon. Token and instant are trimmed; identities and the reason are taken as
 * written after {@code ": "} (or after a bare {@code ":"}). Anything else is a {@link LockTargetInvalidException} naming the annotation, its
 * value and what was expected.
 *
 * @param token the fencing token of the hold that was broken
 * @param holder the identity of the holder that was broken; null for a hold without a holder (the
 *     shell pipeline's)
 * @param at the operator's wall-clock instant of the act
 * @param by the operator's identity (its {@code ReplicaLocks} holder identity)
 * @param reason why, as the operator gave it: 1 to {@value #MAX_REASON_LENGTH} characters, not
 *     blank, no control character
 */
public record ForceRelease(long token, @Nullable String holder, Instant at, String by, String reason) {
    /** The annotation holding the last force-release. */
    public static final String ANNOTATION = "replicalock.io/force-released";

    /** The longest reason accepted: enough for a sentence and a ticket link, short in an Event. */
    public static final int MAX_REASON_LENGTH = 1024;

    private static final String[] KEYS = {"token", "holder", "at", "by", "reason"};
    private static final String EXPECTED = "the lines 'token: <token>', 'holder: <holder>', 'at: <RFC 3339 instant>',"
            + " 'by: <operator>', 'reason: <text>'";

    /**
     * Validates the record.
     *
     * @throws IllegalArgumentException if the token is negative, an identity is not valid, or the
     *     reason is blank, too long or holds a control character, naming the value
     */
    public ForceRelease {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(by, "by");
        Objects.requireNonNull(reason, "reason");
        if (token < 0) {
            throw new IllegalArgumentException("token must not be negative, got " + token);
        }
        if (holder != null && holder.isEmpty()) {
            holder = null;
        }
        if (holder != null && !LockAnnotations.isIdentity(holder)) {
            throw new IllegalArgumentException("holder '" + holder + "' is not a valid identity");
        }
        if (!LockAnnotations.isIdentity(by)) {
            throw new IllegalArgumentException("by '" + by + "' must be 1 to " + LockAnnotations.MAX_IDENTITY_LENGTH
                    + " characters, not blank, without control characters");
        }
        checkReason(reason);
    }

    /**
     * Returns {@code reason} if an operator may give it.
     *
     * @throws NullPointerException if {@code reason} is null
     * @throws IllegalArgumentException if it is blank, longer than {@value #MAX_REASON_LENGTH}
     *     characters or holds a control character (a line break included), naming the value
     */
    public static String checkReason(String reason) {
        Objects.requireNonNull(reason, "reason must not be null");
        if (reason.isBlank()
                || reason.length() > MAX_REASON_LENGTH
                || reason.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("force-release reason '" + reason + "' must be 1 to "
                    + MAX_REASON_LENGTH + " characters, not blank, on one line without control characters (got "
                    + reason.length() + " characters)");
        }
        return reason;
    }

    /**
     * The force-release stored as {@code text}, the value of the annotation {@value #ANNOTATION}.
     *
     * @param text the annotation's value; null when the annotation is absent
     * @return null when the lock was never force-released
     * @throws LockTargetInvalidException naming the annotation, its value and what was expected
     */
    public static @Nullable ForceRelease parse(LockTarget target, @Nullable String text) {
        Objects.requireNonNull(target, "target");
        if (text == null || text.isBlank()) {
            return null;
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            String content = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            int colon = content.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = content.substring(0, colon);
            // "by:" with nothing after it (an editor dropped the trailing space) is an empty value.
            String value =
                    content.startsWith(" ", colon + 1) ? content.substring(colon + 2) : content.substring(colon + 1);
            if (isKey(key) && values.put(key, value) != null) {
                throw invalid(target, text, "'" + key + "' appears twice");
            }
        }
        String tokenText = required(target, text, values, "token");
        String holder = required(target, text, values, "holder");
        String atText = required(target, text, values, "at");
        String by = required(target, text, values, "by");
        String reason = required(target, text, values, "reason");
        Long token = LockAnnotations.digits(tokenText.strip());
        if (token == null) {
            throw invalid(target, text, "token '" + tokenText + "' is not a non-negative decimal integer");
        }
        Instant at = LockAnnotations.instantOrNull(atText.strip());
        if (at == null) {
            throw invalid(target, text, "at '" + atText + "' is not an RFC 3339 instant");
        }
        try {
            return new ForceRelease(token, holder, at, by, reason);
        } catch (IllegalArgumentException e) {
            throw invalid(target, text, e.getMessage());
        }
    }

    private static String required(LockTarget target, String text, Map<String, String> values, String key) {
        String value = values.get(key);
        if (value == null) {
            throw invalid(target, text, "'" + key + ": ' is missing");
        }
        return value;
    }

    /** The annotation's text: five {@code key: value} lines, no trailing newline. */
    public String text() {
        return "token: " + token + "\nholder: " + LockAnnotations.holderText(holder) + "\nat: "
                + LockAnnotations.instantText(at) + "\nby: " + by + "\nreason: " + reason;
    }

    /**
     * One sentence for a {@code LockLostException}, an Event or a log: {@code force-released by
     * ops-alice at 2026-12-03T09:12:00Z: builder wedged, INC-1234}.
     */
    public String describe() {
        return "force-released by " + by + " at " + LockAnnotations.instantText(at) + ": " + reason;
    }

    private static boolean isKey(String key) {
        for (String known : KEYS) {
            if (known.equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static LockTargetInvalidException invalid(LockTarget target, String text, @Nullable String problem) {
        return LockAnnotations.invalid(target, ANNOTATION, text, EXPECTED + " (" + problem + ")");
    }
}
