package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.HasMetadata;
import org.jspecify.annotations.Nullable;

/**
 * resourceVersions as numbers, to tell which of two copies of one object is newer. Kubernetes calls
 * them opaque; every API server in use (etcd's revision) and the fabric8 mock make them increasing
 * integers. Where one does not parse, the caller trusts neither copy and asks the server.
 */
public final class Versions {
    /** What {@link #of} answers for a version that is absent or not a number. */
    public static final long UNKNOWN = -1;

    private Versions() {}

    public static long of(@Nullable HasMetadata object) {
        return object == null || object.getMetadata() == null
                ? UNKNOWN
                : parse(object.getMetadata().getResourceVersion());
    }

    public static long parse(@Nullable String resourceVersion) {
        if (resourceVersion == null || resourceVersion.isEmpty() || resourceVersion.length() > 18) {
            return UNKNOWN;
        }
        long value = 0;
        for (int i = 0; i < resourceVersion.length(); i++) {
            char c = resourceVersion.charAt(i);
            if (c < '0' || c > '9') {
                return UNKNOWN;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
