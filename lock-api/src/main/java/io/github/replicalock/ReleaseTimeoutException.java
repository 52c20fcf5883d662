package io.github.replicalock;

import java.time.Duration;

/**
 * The lock was released (replicas 0, holder cleared) but the builder pods were still there after
 * the release timeout, as the shell step's {@code kubectl wait --for=delete} would fail. The next
 * acquisition waits for them.
 *
 * <pre>{@code
 * catch (ReleaseTimeoutException e) { log.warn("builder pods slow to stop: {}", e.getMessage()); }
 * }</pre>
 */
public final class ReleaseTimeoutException extends LockException {
    private static final long serialVersionUID = 1L;

    public ReleaseTimeoutException(LockTarget target, Duration releaseTimeout, String pods) {
        super(target, "lock released, but pods still present after " + releaseTimeout + ": " + pods);
    }
}
