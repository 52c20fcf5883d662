package io.github.replicalock;

/**
 * {@link ReplicaLocks#forceRelease} found no hold to break: the lock was free or releasing
 * (replicas 0), or the hold it saw ended (released, taken over, lost) before its write landed.
 * Nothing was changed; {@link #status()} says what the lock was when it gave up, so an operator
 * can look again before breaking a hold that began since.
 *
 * <pre>{@code
 * try {
 *     locks.forceRelease(target, "builder wedged, INC-1234");
 * } catch (LockNotHeldException e) {
 *     log.info("nothing to break: {}", e.status());
 * }
 * }</pre>
 */
public final class LockNotHeldException extends LockException {
    private static final long serialVersionUID = 1L;

    private final transient LockStatus status;

    public LockNotHeldException(LockTarget target, String message, LockStatus status) {
        super(target, message);
        this.status = status;
    }

    /** The lock as last read, when the force-release gave up. */
    public LockStatus status() {
        return status;
    }
}
