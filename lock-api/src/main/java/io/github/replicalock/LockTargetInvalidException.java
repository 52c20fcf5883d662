package io.github.replicalock;

/**
 * The Deployment exists but is not a lock this library understands: replicas outside {0, 1}, no
 * selector, or lock annotations that do not parse. Acquisition refuses it rather than guess.
 *
 * <pre>{@code
 * catch (LockTargetInvalidException e) { log.error("fix the deployment: {}", e.getMessage()); }
 * }</pre>
 */
public final class LockTargetInvalidException extends LockException {
    private static final long serialVersionUID = 1L;

    public LockTargetInvalidException(LockTarget target, String whatWasObserved) {
        super(target, whatWasObserved);
    }
}
