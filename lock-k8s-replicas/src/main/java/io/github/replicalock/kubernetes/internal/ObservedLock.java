package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.LockFields;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The lock fields of one Deployment exactly as stored: whether {@code spec.replicas} and each
 * annotation are present, and their raw text. The conditional write needs this to test what is
 * really there (JSON Patch cannot test that a member is absent, see {@link LockPatch}).
 *
 * @param replicas {@code spec.replicas}; null when the member is absent (the API server defaults it
 *     to 1, so only hand-made objects lack it)
 * @param annotations {@code metadata.annotations}; null when the member is absent
 * @param resourceVersion {@code metadata.resourceVersion}
 * @param uid {@code metadata.uid}, for events
 */
public record ObservedLock(
        @Nullable Integer replicas,
        @Nullable Map<String, String> annotations,
        @Nullable String resourceVersion,
        @Nullable String uid) {

    public ObservedLock {
        annotations = annotations == null ? null : Map.copyOf(new TreeMap<>(annotations));
    }

    /** Reads the stored lock fields of {@code deployment}. */
    public static ObservedLock of(Deployment deployment) {
        ObjectMeta meta = deployment.getMetadata();
        DeploymentSpec spec = deployment.getSpec();
        Map<String, String> annotations = meta == null ? null : meta.getAnnotations();
        // fabric8 deserialises an absent map as an empty one; both mean "no lock annotation yet",
        // but only a present (possibly empty) map can be tested with JSON Patch. A null or empty
        // map is therefore guarded as absent (see LockPatch), which is the conservative choice.
        return new ObservedLock(
                spec == null ? null : spec.getReplicas(),
                annotations == null || annotations.isEmpty() ? null : annotations,
                meta == null ? null : meta.getResourceVersion(),
                meta == null ? null : meta.getUid());
    }

    /** The raw value of one annotation, null when absent. */
    public @Nullable String annotation(String key) {
        return annotations == null ? null : annotations.get(key);
    }

    /**
     * Parses the lock fields.
     *
     * @throws LockTargetInvalidException naming the annotation and its value if one does not parse
     */
    public LockFields fields(LockTarget target) {
        return new LockFields(
                replicas == null ? 1 : replicas,
                annotation(LockFields.HOLDER_ANNOTATION),
                token(target),
                instant(target, LockFields.ACQUIRED_ANNOTATION),
                instant(target, LockFields.RENEWED_ANNOTATION),
                lease(target));
    }

    private long token(LockTarget target) {
        String raw = annotation(LockFields.TOKEN_ANNOTATION);
        if (raw == null || raw.isEmpty()) {
            return 0;
        }
        try {
            long token = Long.parseLong(raw.trim());
            if (token < 0) {
                throw invalid(target, LockFields.TOKEN_ANNOTATION, raw, "a non-negative decimal long");
            }
            return token;
        } catch (NumberFormatException e) {
            throw invalid(target, LockFields.TOKEN_ANNOTATION, raw, "a non-negative decimal long");
        }
    }

    private @Nullable Instant instant(LockTarget target, String key) {
        String raw = annotation(key);
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(raw.trim()).toInstant();
        } catch (DateTimeException e) {
            throw invalid(target, key, raw, "an RFC 3339 instant such as 2026-01-31T12:00:00Z");
        }
    }

    private @Nullable Duration lease(LockTarget target) {
        String raw = annotation(LockFields.LEASE_ANNOTATION);
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        try {
            long seconds = Long.parseLong(raw.trim());
            if (seconds <= 0) {
                throw invalid(target, LockFields.LEASE_ANNOTATION, raw, "a positive number of seconds");
            }
            return Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
            throw invalid(target, LockFields.LEASE_ANNOTATION, raw, "a positive number of seconds");
        }
    }

    private static LockTargetInvalidException invalid(LockTarget target, String key, String raw, String expected) {
        return new LockTargetInvalidException(
                target, "annotation " + key + " has value '" + raw + "', expected " + expected);
    }
}
