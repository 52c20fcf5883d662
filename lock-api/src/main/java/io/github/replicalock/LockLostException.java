package io.github.replicalock;

/**
 * The lock was held and then lost: someone scaled the Deployment to 0, took the lock over after
 * the lease, or this process could not renew within its lease. A build that ran under a lost lock
 * must not end green: {@link ReplicaLock#close()} throws this.
 *
 * <pre>{@code
 * lock.onLost(e -> build.cancel(e.getMessage()));
 * }</pre>
 */
public final class LockLostException extends LockException {
    private static final long serialVersionUID = 1L;

    private final long fencingToken;

    public LockLostException(LockTarget target, String holder, long fencingToken, String why) {
        super(target, "lock held by '" + holder + "' with token " + fencingToken + " was lost: " + why);
        this.fencingToken = fencingToken;
    }

    /** The token the lost lock had. */
    public long fencingToken() {
        return fencingToken;
    }
}
