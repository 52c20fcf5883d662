package io.github.replicalock.cli;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.PodNotReadyException;

/**
 * The exit codes of {@code replica-lock}, after sysexits.h where one fits. {@code run} exits with
 * its child's own code when the child ran to its end, so these are distinct from the codes builds
 * commonly use (0, 1, 2, 126, 127, 128 + signal).
 */
final class ExitCodes {
    static final int OK = 0;
    /** EX_USAGE: a bad option, argument or name. */
    static final int USAGE = 64;
    /** EX_DATAERR: the Deployment exists but is not a lock (replicas above 1, no selector, bad annotations). */
    static final int NOT_A_LOCK = 65;
    /** EX_NOINPUT: the Deployment or its namespace does not exist. */
    static final int NOT_FOUND = 66;
    /** EX_UNAVAILABLE: the API server could not be reached, after retries. */
    static final int UNAVAILABLE = 69;
    /** EX_SOFTWARE: a bug in replica-lock. */
    static final int INTERNAL = 70;
    /** The builder pod did not become Ready within the ready timeout; the lock was released again. */
    static final int POD_NOT_READY = 71;
    /** EX_TEMPFAIL: the lock is busy ({@code --no-wait}) or the wait timed out; {@code --busy-exit-code}. */
    static final int BUSY = 75;
    /** The lock was lost while the child ran (scaled to 0 under it, taken over): the build is not green. */
    static final int LOST = 76;
    /** EX_NOPERM: the API server refused a verb (the message names it and the resource). */
    static final int ACCESS_DENIED = 77;
    /** The child command could not be executed (the shell's code). */
    static final int COMMAND_NOT_EXECUTABLE = 126;
    /** The child command was not found (the shell's code). */
    static final int COMMAND_NOT_FOUND = 127;

    /** The lines of {@code --help}'s exit code section, {@code code:meaning}. */
    static final String[] HELP = {
        "0:success (run: the command exited 0)",
        "1-255:run: the command's own exit code, when it ran",
        USAGE + ":bad arguments",
        NOT_A_LOCK + ":the deployment is not a lock (replicas above 1, no selector)",
        NOT_FOUND + ":deployment or namespace not found",
        UNAVAILABLE + ":API server unreachable",
        INTERNAL + ":internal error",
        POD_NOT_READY + ":builder pod not Ready in time (lock released)",
        BUSY + ":lock busy or wait timed out (--busy-exit-code)",
        LOST + ":lock lost while the command ran",
        ACCESS_DENIED + ":access denied (the message names the verb)",
        COMMAND_NOT_EXECUTABLE + "/" + COMMAND_NOT_FOUND + ":run: command not executable / not found",
        "130/143:interrupted (SIGINT/SIGTERM) before the command ran",
    };

    private ExitCodes() {}

    /** The exit code for a failure of a command, {@code busyCode} for a wait that timed out. */
    static int forFailure(Throwable failure, int busyCode) {
        if (failure instanceof CliFailure f) {
            return f.exitCode();
        }
        if (failure instanceof LockTimeoutException) {
            return busyCode;
        }
        if (failure instanceof PodNotReadyException) {
            return POD_NOT_READY;
        }
        if (failure instanceof LockLostException) {
            return LOST;
        }
        if (failure instanceof LockAccessDeniedException) {
            return ACCESS_DENIED;
        }
        if (failure instanceof LockTargetNotFoundException) {
            return NOT_FOUND;
        }
        if (failure instanceof LockTargetInvalidException) {
            return NOT_A_LOCK;
        }
        if (failure instanceof LockBackendUnavailableException) {
            return UNAVAILABLE;
        }
        return INTERNAL;
    }

    /** What a shell reports for a process ended by {@code signal}. */
    static int forSignal(int signal) {
        return 128 + signal;
    }
}
