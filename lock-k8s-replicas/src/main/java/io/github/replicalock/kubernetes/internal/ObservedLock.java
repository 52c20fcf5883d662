package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockFields;
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

    /** The annotations as stored; empty when the member is absent. */
    public Map<String, String> annotationsOrEmpty() {
        return annotations == null ? Map.of() : annotations;
    }

    /** The raw value of one annotation, null when absent. */
    public @Nullable String annotation(String key) {
        return annotations == null ? null : annotations.get(key);
    }

    /**
     * Parses the lock fields, as every backend does ({@link LockAnnotations}); an absent {@code
     * spec.replicas} is 1, the API server's default.
     *
     * @throws LockTargetInvalidException naming the annotation and its value if one does not parse
     */
    public LockFields fields(LockTarget target) {
        return LockAnnotations.parse(target, replicas == null ? 1 : replicas, annotationsOrEmpty());
    }
}
