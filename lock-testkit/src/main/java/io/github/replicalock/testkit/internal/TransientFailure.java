package io.github.replicalock.testkit.internal;

/**
 * An injected transient failure of one attempt (a 503, or a response that never arrived): thrown
 * by the fake API server's request path, retried by the client's {@link RequestRetry}, and never
 * seen by the code under test, which gets {@code LockBackendUnavailableException} once the retries
 * run out.
 */
public final class TransientFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TransientFailure(String message) {
        super(message, null, false, false);
    }
}
