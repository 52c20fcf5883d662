package io.github.replicalock.kubernetes.internal;

import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.QueueChange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON Patch (RFC 6902) that makes a lock write conditional on the server.
 *
 * <p><b>Conditions.</b> {@code test} operations on {@code /spec/replicas} and the holder and token
 * annotations, nothing else: the controller's status writes change {@code resourceVersion} but never
 * these, so they never make the write fail. The API server applies the whole patch atomically and
 * re-evaluates the tests if it retries internally; a failed test is HTTP 422.
 *
 * <p><b>Absent annotations.</b> {@code test} cannot assert that a member is absent (a test on a
 * missing path is an error in RFC 6902; Kubernetes' own JSON Patch library happens to accept
 * {@code "value": null} there, but we do not build on that quirk). So:
 *
 * <ul>
 *   <li>Every write of this backend writes both keys: the token always (the decimal value, also
 *       {@code 0}), the holder as the empty string when nobody holds the lock. After the first write,
 *       both are present for good, and the conditions are plain {@code test}s of their text.
 *   <li>When one of them is absent (a fresh Deployment, or one the shell pipeline scaled), the
 *       condition becomes a {@code test} of the whole {@code metadata.annotations} object, as read:
 *       any concurrent change of an annotation makes the write fail and be retried after a re-read.
 *   <li>When {@code metadata.annotations} itself (or {@code spec.replicas}) is absent there is no
 *       object to test, so the condition is a {@code test} of {@code metadata.resourceVersion}; the
 *       patch then adds the annotations object. This happens at most once per Deployment.
 * </ul>
 *
 * <p>When the writer has not seen the stored text (no earlier read), it assumes the canonical form
 * this backend writes ({@code holder ""}, token in decimal); if that guess is wrong the server
 * rejects the patch and the backend re-reads and builds the patch from what is really stored.
 *
 * <p><b>Writes.</b> The annotations' text is {@link LockAnnotations}'s, the form every backend
 * writes (the lease rounded up to whole seconds). {@code add} on an object member replaces it when
 * present (RFC 6902 4.1), so {@code add} sets replicas and the annotations whether present or not.
 * Optional annotations that the desired fields clear are removed with {@code add ""} then {@code
 * remove}, which succeeds whether the key was there or not.
 */
public final class LockPatch {
    private static final String ANNOTATIONS = "/metadata/annotations";

    private LockPatch() {}

    /**
     * The patch that writes {@code desired} if the stored lock fields are {@code expected}.
     *
     * @param stored what was last seen stored, when it parses to {@code expected}'s lock fields; null
     *     to assume the canonical form this backend writes
     */
    public static String build(LockFields expected, LockFields desired, @Nullable ObservedLock stored) {
        return build(expected, desired, stored, false);
    }

    /**
     * As {@link #build(LockFields, LockFields, ObservedLock)}, and with {@code renewalTested} (a
     * takeover) also conditional on the renewal annotation's text as {@code stored} shows it, which
     * must then be given.
     */
    public static String build(
            LockFields expected, LockFields desired, @Nullable ObservedLock stored, boolean renewalTested) {
        List<Object> ops = new ArrayList<>();
        boolean annotationsPresent = lockTests(ops, expected, stored, renewalTested);
        lockWrites(ops, desired, annotationsPresent);
        return Json.write(ops);
    }

    /** Adds the tests of the lock fields; false when the annotations object is absent. */
    private static boolean lockTests(
            List<Object> ops, LockFields expected, @Nullable ObservedLock stored, boolean renewalTested) {
        boolean annotationsPresent = true;
        if (stored == null) {
            if (renewalTested) {
                throw new IllegalArgumentException("a takeover's patch is built from a stored copy");
            }
            ops.add(test("/spec/replicas", expected.replicas()));
            ops.add(test(key(LockFields.HOLDER_ANNOTATION), LockAnnotations.holderText(expected.holder())));
            ops.add(test(key(LockFields.TOKEN_ANNOTATION), LockAnnotations.tokenText(expected.token())));
        } else {
            Map<String, String> annotations = stored.annotations();
            boolean guardWholeObject = stored.replicas() == null || annotations == null;
            if (stored.replicas() != null) {
                ops.add(test("/spec/replicas", stored.replicas()));
            }
            if (annotations != null) {
                String holder = annotations.get(LockFields.HOLDER_ANNOTATION);
                String token = annotations.get(LockFields.TOKEN_ANNOTATION);
                if (holder != null) {
                    ops.add(test(key(LockFields.HOLDER_ANNOTATION), holder));
                }
                if (token != null) {
                    ops.add(test(key(LockFields.TOKEN_ANNOTATION), token));
                }
                String renewed = renewalTested ? annotations.get(LockFields.RENEWED_ANNOTATION) : null;
                if (renewed != null) {
                    ops.add(test(key(LockFields.RENEWED_ANNOTATION), renewed));
                }
                if (holder == null || token == null || (renewalTested && renewed == null)) {
                    ops.add(test(ANNOTATIONS, new LinkedHashMap<>(annotations)));
                }
            } else {
                annotationsPresent = false;
            }
            if (guardWholeObject) {
                String rv = stored.resourceVersion();
                ops.add(test("/metadata/resourceVersion", rv == null ? "" : rv));
            }
        }
        return annotationsPresent;
    }

    private static void lockWrites(List<Object> ops, LockFields desired, boolean annotationsPresent) {
        if (!annotationsPresent) {
            ops.add(op("add", ANNOTATIONS, Map.of()));
        }
        ops.add(op("add", "/spec/replicas", desired.replicas()));
        LockAnnotations.write(desired, (annotation, value) -> set(ops, annotation, value));
    }

    /**
     * The patch that applies the queue write {@code change} if its tests hold, and, when {@code
     * expected} is not null, writes {@code desired} if the stored lock fields are {@code expected},
     * in one atomic patch. A tested annotation that must be absent (the queue's, before its first
     * write) is guarded as an absent lock key is: by a test of the whole annotations object, or of
     * the resource version when there is no annotations object. A removed annotation is removed
     * with {@code remove}, which fails the patch if it is absent: every removal is also tested.
     *
     * @param stored what was last seen stored, on which {@code change}'s tests hold
     */
    public static String buildQueue(
            @Nullable LockFields expected,
            @Nullable LockFields desired,
            QueueChange change,
            ObservedLock stored,
            boolean renewalTested) {
        List<Object> ops = new ArrayList<>();
        Map<String, String> annotations = stored.annotations();
        boolean annotationsPresent = annotations != null;
        if (expected != null && desired != null) {
            // Every test before any write: the lock's, then the queue's.
            annotationsPresent = lockTests(ops, expected, stored, renewalTested);
            queueTests(ops, change, stored);
            lockWrites(ops, desired, annotationsPresent);
        } else {
            queueTests(ops, change, stored);
            if (!annotationsPresent) {
                ops.add(op("add", ANNOTATIONS, Map.of()));
            }
        }
        change.writes().forEach((annotation, value) -> {
            if (value != null) {
                ops.add(op("add", key(annotation), value));
            } else {
                ops.add(remove(key(annotation)));
            }
        });
        return Json.write(ops);
    }

    private static void queueTests(List<Object> ops, QueueChange change, ObservedLock stored) {
        Map<String, String> annotations = stored.annotations();
        boolean absenceTested = false;
        for (Map.Entry<String, @Nullable String> test : change.tests().entrySet()) {
            if (test.getValue() != null) {
                ops.add(test(key(test.getKey()), test.getValue()));
            } else {
                absenceTested = true;
            }
        }
        if (absenceTested) {
            if (annotations != null) {
                ops.add(test(ANNOTATIONS, new LinkedHashMap<>(annotations)));
            } else {
                String rv = stored.resourceVersion();
                ops.add(test("/metadata/resourceVersion", rv == null ? "" : rv));
            }
        }
    }

    private static void set(List<Object> ops, String annotation, @Nullable String value) {
        if (value != null) {
            ops.add(op("add", key(annotation), value));
        } else {
            ops.add(op("add", key(annotation), ""));
            ops.add(remove(key(annotation)));
        }
    }

    /** The JSON Pointer (RFC 6901) of an annotation: {@code ~} is {@code ~0}, {@code /} is {@code ~1}. */
    static String key(String annotation) {
        return ANNOTATIONS + "/" + annotation.replace("~", "~0").replace("/", "~1");
    }

    private static Map<String, Object> remove(String path) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "remove");
        m.put("path", path);
        return m;
    }

    private static Map<String, Object> test(String path, Object value) {
        return op("test", path, value);
    }

    private static Map<String, Object> op(String op, String path, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        m.put("value", value);
        return m;
    }
}
