package io.github.replicalock;

import java.time.Duration;

/**
 * The lock was taken but no builder pod became Ready within the ready timeout. The lock has been
 * released again (rolled back) before this was thrown.
 *
 * <pre>{@code
 * catch (PodNotReadyException e) { log.error("builder did not start: {}", e.reason()); }
 * }</pre>
 */
public final class PodNotReadyException extends LockException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public PodNotReadyException(LockTarget target, Duration readyTimeout, String reason) {
        super(
                target,
                "no builder pod became Ready within " + readyTimeout + ": " + reason + "; the lock was released again");
        this.reason = reason;
    }

    /** Why the pods were not ready: phase, conditions and container waiting reasons, pod by pod. */
    public String reason() {
        return reason;
    }
}
