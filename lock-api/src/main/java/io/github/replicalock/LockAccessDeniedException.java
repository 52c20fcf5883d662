package io.github.replicalock;

import org.jspecify.annotations.Nullable;

/**
 * The API server refused a request (HTTP 403): the service account's Role lacks a verb.
 *
 * <pre>{@code
 * catch (LockAccessDeniedException e) { log.error("grant {} on {}", e.verb(), e.resource()); }
 * }</pre>
 */
public final class LockAccessDeniedException extends LockException {
    private static final long serialVersionUID = 1L;

    private final String verb;
    private final String resource;

    public LockAccessDeniedException(LockTarget target, String verb, String resource, @Nullable Throwable cause) {
        super(
                target,
                "forbidden: the Role lacks verb '" + verb + "' on resource '" + resource + "' in namespace '"
                        + target.namespace() + "'",
                cause);
        this.verb = verb;
        this.resource = resource;
    }

    /** The verb that was refused, such as {@code patch}. */
    public String verb() {
        return verb;
    }

    /** The resource it was refused on, such as {@code deployments}. */
    public String resource() {
        return resource;
    }
}
