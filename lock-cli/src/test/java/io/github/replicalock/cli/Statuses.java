package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Statuses for the unit tests of formatting and exit codes. The only place these tests build a
 * {@link LockStatus} themselves, so that a change of its factories is mended here alone.
 */
final class Statuses {
    private Statuses() {}

    static LockStatus held(
            LockTarget target,
            String holder,
            long token,
            @Nullable Instant acquired,
            @Nullable Instant renewed,
            @Nullable Duration lease) {
        return LockStatus.of(target, LockState.ACTIVE, 1, 1, holder, token, acquired, renewed, lease);
    }

    static LockStatus idle(LockTarget target, long token) {
        return LockStatus.of(target, LockState.IDLE, 0, 0, null, token, null, null, null);
    }

    static LockStatus unknown(LockTarget target, String reason, int replicas, @Nullable String holder, long token) {
        return LockStatus.unknown(target, reason, replicas, 0, holder, token);
    }
}
