package io.github.replicalock.internal;

import io.github.replicalock.LockNotHeldException;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's force-release ({@code docs/lock-protocol.md} section 10.8): one conditional write
 * tested on the hold it saw, that hold's pods deleted, a Warning event. Never breaks a hold it did
 * not see: the write's condition is the holder and token read just before.
 */
final class ForceReleases {
    private static final Logger log = LoggerFactory.getLogger(ForceReleases.class);

    private ForceReleases() {}

    /**
     * Breaks the hold on {@code target}, only the one with {@code expectedToken} when it is present;
     * returns the status of the hold it broke, as read before.
     */
    static LockStatus forceRelease(LockSession session, LockTarget target, OptionalLong expectedToken, String reason)
            throws InterruptedException {
        try {
            ForceRelease.checkReason(reason);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(target + ": " + e.getMessage(), e);
        }
        // A cached copy could show a hold that has already ended; an operator acts on the store's.
        LockRecord seen = session.backend.readFresh(target);
        LockStates.requireLock(target, seen);
        LockStatus broken = LockStates.status(target, seen, session.clock.now());
        LockFields held = seen.fields();
        if (held.replicas() == 0) {
            throw new LockNotHeldException(
                    target,
                    "nothing to force-release: the lock is " + broken.state() + " (replicas 0, READY " + broken.ready()
                            + "); nothing was changed",
                    broken);
        }
        if (expectedToken.isPresent() && held.token() != expectedToken.getAsLong()) {
            throw new LockNotHeldException(
                    target,
                    "not force-released: the lock is held by '" + LockStates.displayedHolder(held) + "' with token "
                            + held.token() + ", not token " + expectedToken.getAsLong() + "; nothing was changed",
                    broken);
        }
        ForceRelease act = new ForceRelease(held.token(), held.holder(), session.clock.now(), session.holder, reason);
        if (!session.backend.compareAndSet(target, held, held.forceReleasedBy(act))) {
            LockRecord now = session.backend.readFresh(target);
            throw new LockNotHeldException(
                    target,
                    "the hold of '" + LockStates.displayedHolder(held) + "' with token " + held.token()
                            + " ended before the force-release landed (" + LockStates.whyChanged(now.fields())
                            + "); nothing was changed",
                    LockStates.status(target, now, session.clock.now()));
        }
        log.warn(
                "{}: {} broke the hold of '{}' with token {}: {}",
                target,
                session.holder,
                LockStates.displayedHolder(held),
                held.token(),
                reason);
        List<String> pods = seen.pods().stream().map(PodSnapshot::name).toList();
        if (!pods.isEmpty()) {
            try {
                // Scaled to 0 the controller would stop them too, but gracefully; a wedged builder goes now.
                session.backend.deletePods(target, pods);
            } catch (RuntimeException e) {
                // The hold is broken already: the controller removes the pods of replicas 0 on its own,
                // and the caller must hear that the hold was broken, whatever the deletion threw.
                log.warn("{}: force-released, but deleting its pods {} failed: {}", target, pods, e.toString());
            } catch (InterruptedException e) {
                // Broken already: say so and record it rather than let the caller think nothing happened.
                Thread.currentThread().interrupt();
                log.warn("{}: force-released, interrupted while deleting its pods {}", target, pods);
            }
        }
        session.backend.recordEvent(
                target,
                new LockEvent(
                        LockEvent.Kind.FORCE_RELEASED,
                        "hold of '" + LockStates.displayedHolder(held) + "' with token " + held.token() + " "
                                + act.describe()));
        return broken;
    }
}
