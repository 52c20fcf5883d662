package io.github.replicalock;

import org.jspecify.annotations.Nullable;

/**
 * The API server could not be reached, or kept failing, after the backend's retries.
 *
 * <pre>{@code
 * catch (LockBackendUnavailableException e) { retryBuildLater(); }
 * }</pre>
 */
public final class LockBackendUnavailableException extends LockException {
    private static final long serialVersionUID = 1L;

    public LockBackendUnavailableException(LockTarget target, String what, @Nullable Throwable cause) {
        super(target, what, cause);
    }
}
