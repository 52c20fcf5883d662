package io.github.replicalock;

import org.jspecify.annotations.Nullable;

/**
 * The Deployment (or its namespace) does not exist.
 *
 * <pre>{@code
 * catch (LockTargetNotFoundException e) { log.error("create the builder deployment first", e); }
 * }</pre>
 */
public final class LockTargetNotFoundException extends LockException {
    private static final long serialVersionUID = 1L;

    public LockTargetNotFoundException(LockTarget target, @Nullable Throwable cause) {
        super(target, "deployment '" + target.name() + "' not found in namespace '" + target.namespace() + "'", cause);
    }
}
