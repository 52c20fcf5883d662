package io.github.replicalock;

import java.time.Duration;

/**
 * {@link ReplicaLocks#acquire} did not get the lock before its timeout. Nothing was left behind.
 *
 * <pre>{@code
 * catch (LockTimeoutException e) { log.warn("still held: {}", e.lastStatus()); }
 * }</pre>
 */
public final class LockTimeoutException extends LockException {
    private static final long serialVersionUID = 1L;

    private final Duration timeout;
    private final transient LockStatus lastStatus;

    public LockTimeoutException(LockTarget target, Duration timeout, LockStatus lastStatus) {
        super(
                target,
                "lock not acquired within " + timeout + "; last seen " + lastStatus.state() + " READY "
                        + lastStatus.ready()
                        + lastStatus.holder().map(h -> " held by '" + h + "'").orElse("")
                        + " token " + lastStatus.fencingToken());
        this.timeout = timeout;
        this.lastStatus = lastStatus;
    }

    public Duration timeout() {
        return timeout;
    }

    /** The last status observed before giving up. */
    public LockStatus lastStatus() {
        return lastStatus;
    }
}
