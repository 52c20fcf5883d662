package io.github.replicalock;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The Deployment whose replica count is the lock.
 *
 * <pre>{@code
 * LockTarget target = LockTarget.of("apps--droneio--prd", "buildah-external");
 * }</pre>
 *
 * @param namespace a DNS-1123 label (lower case alphanumerics and '-', at most 63 characters)
 * @param name a DNS-1123 subdomain (labels joined by '.', at most 253 characters)
 */
public record LockTarget(String namespace, String name) {
    private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final int MAX_LABEL_LENGTH = 63;
    private static final int MAX_SUBDOMAIN_LENGTH = 253;

    /**
     * Validates both names.
     *
     * @throws NullPointerException if either is null
     * @throws IllegalArgumentException if either is not a valid Kubernetes name, naming the value
     */
    public LockTarget {
        Objects.requireNonNull(namespace, "namespace must not be null");
        Objects.requireNonNull(name, "deployment name must not be null (namespace '" + namespace + "')");
        if (namespace.length() > MAX_LABEL_LENGTH
                || !DNS_1123_LABEL.matcher(namespace).matches()) {
            throw new IllegalArgumentException("namespace '" + namespace
                    + "' is not a DNS-1123 label: expected lower case alphanumerics or '-', starting and ending"
                    + " with an alphanumeric, at most " + MAX_LABEL_LENGTH + " characters (got "
                    + namespace.length() + ")");
        }
        if (name.length() > MAX_SUBDOMAIN_LENGTH
                || !DNS_1123_SUBDOMAIN.matcher(name).matches()) {
            throw new IllegalArgumentException("deployment name '" + name + "' in namespace '" + namespace
                    + "' is not a DNS-1123 subdomain: expected lower case alphanumerics, '-' or '.', starting"
                    + " and ending with an alphanumeric, at most " + MAX_SUBDOMAIN_LENGTH + " characters (got "
                    + name.length() + ")");
        }
    }

    /** Same as the constructor; reads better at call sites. */
    public static LockTarget of(String namespace, String name) {
        return new LockTarget(namespace, name);
    }

    /** {@code namespace/name}, as kubectl prints it. */
    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
