package io.github.replicalock;

/**
 * A lock was requested from a {@link ReplicaLocks} that was already closed.
 *
 * <pre>{@code
 * locks.close();
 * locks.tryAcquire(target); // throws LocksClosedException naming the target
 * }</pre>
 */
public final class LocksClosedException extends LockException {
    private static final long serialVersionUID = 1L;

    public LocksClosedException(LockTarget target, String holder) {
        super(target, "ReplicaLocks of holder '" + holder + "' is closed; build a new one");
    }
}
