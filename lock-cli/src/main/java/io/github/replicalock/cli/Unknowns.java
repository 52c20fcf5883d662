package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockBackend;

/**
 * Why a status is {@link LockState#UNKNOWN}, as an exit code: {@code status()} never throws for a
 * cluster state, so one read through the backend tells a missing Deployment from one that is not a
 * lock.
 */
final class Unknowns {
    private Unknowns() {}

    /** {@link ExitCodes#NOT_FOUND} or {@link ExitCodes#NOT_A_LOCK}, with the one-line message. */
    static CliFailure failure(LockBackend backend, LockStatus status) throws InterruptedException {
        try {
            backend.read(status.target());
        } catch (LockTargetNotFoundException e) {
            return new CliFailure(ExitCodes.NOT_FOUND, String.valueOf(e.getMessage()), e);
        } catch (LockTargetInvalidException e) {
            return new CliFailure(ExitCodes.NOT_A_LOCK, String.valueOf(e.getMessage()), e);
        }
        return new CliFailure(
                ExitCodes.NOT_A_LOCK,
                status.target() + ": not a lock: " + status.reason().orElse(status.toString()));
    }
}
