package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** Reads a {@link LockRecord} the way the protocol's state table does. */
final class LockStates {
    /** The holder shown for replicas 1 without a holder annotation: the shell pipeline took it. */
    static final String UNKNOWN_HOLDER = "unknown";

    private LockStates() {}

    /** Why the record is not a lock we understand, or null if it is one. */
    static @Nullable String problem(LockRecord record) {
        int replicas = record.fields().replicas();
        if (replicas != 0 && replicas != 1) {
            return "replicas is " + replicas + ", expected 0 (free) or 1 (held)";
        }
        if (record.selector() == null) {
            return "the deployment has no selector, so its builder pods cannot be found";
        }
        return null;
    }

    static LockState state(LockRecord record) {
        if (problem(record) != null) {
            return LockState.UNKNOWN;
        }
        if (record.fields().replicas() == 0) {
            return record.pods().isEmpty() ? LockState.IDLE : LockState.RELEASING;
        }
        return record.pods().stream().anyMatch(PodSnapshot::usable) ? LockState.ACTIVE : LockState.STARTING;
    }

    /** Throws the typed error acquisition gives for a Deployment that is not a lock. */
    static void requireLock(LockTarget target, LockRecord record) {
        String problem = problem(record);
        if (problem != null) {
            throw new LockTargetInvalidException(target, "not a replica lock: " + problem);
        }
    }

    static @Nullable String displayedHolder(LockFields fields) {
        if (fields.replicas() == 0) {
            return null;
        }
        return fields.holder() != null ? fields.holder() : UNKNOWN_HOLDER;
    }

    /** The status {@code record} shows; the waiters' waits are counted to {@code now}. */
    static LockStatus status(LockTarget target, LockRecord record, Instant now) {
        LockFields f = record.fields();
        String problem = problem(record);
        if (problem != null) {
            return LockStatus.unknown(target, problem, f.replicas(), record.readyReplicas(), f.holder(), f.token());
        }
        boolean held = f.replicas() == 1;
        return StatusAccess.factory()
                .of(
                        target,
                        state(record),
                        f.replicas(),
                        record.readyReplicas(),
                        displayedHolder(f),
                        f.token(),
                        held ? f.acquired() : null,
                        held ? f.renewed() : null,
                        held ? f.lease() : null,
                        waiters(record, now));
    }

    private static List<LockStatus.Waiter> waiters(LockRecord record, Instant now) {
        List<LockStatus.Waiter> waiters = new ArrayList<>(record.queue().size());
        for (QueueEntry entry : record.queue().entries()) {
            Duration waited = Duration.between(entry.enqueued(), now);
            waiters.add(new LockStatus.Waiter(
                    entry.waiter(), entry.enqueued(), waited.isNegative() ? Duration.ZERO : waited));
        }
        return waiters;
    }

    /** Pod by pod, why none is usable; for the not-ready error. */
    static String whyNotReady(LockRecord record, Set<String> excluded) {
        List<PodSnapshot> candidates =
                record.pods().stream().filter(p -> !excluded.contains(p.name())).toList();
        if (candidates.isEmpty()) {
            return "no builder pod was created for selector " + record.selector() + " (replicas "
                    + record.fields().replicas() + ")";
        }
        return candidates.stream().map(p -> p.name() + ": " + p.detail()).collect(Collectors.joining("; "));
    }

    /** Why a conditional write of our hold with {@code token} on {@code target} failed, from a fresh read. */
    static String whyLost(LockSession session, LockTarget target, long token) {
        try {
            return whyChanged(session.backend.read(target).fields(), session.holder, token);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "the lock fields changed";
        } catch (LockException e) {
            return "the lock fields changed (" + e.getMessage() + ")";
        }
    }

    /**
     * Why the hold of {@code holder} with {@code token} is no longer ours, from the fields the store
     * now shows: an operator's force-release of that very hold says who and why, whatever happened
     * since.
     */
    static String whyChanged(LockFields now, String holder, long token) {
        ForceRelease act = now.forceReleased();
        if (act != null && act.token() == token && holder.equals(act.holder())) {
            return act.describe();
        }
        return whyChanged(now);
    }

    /** Why the lock is no longer the one seen, from the fields the store now shows. */
    static String whyChanged(LockFields now) {
        if (now.replicas() == 0) {
            return "the deployment was scaled to 0 by someone else (a kubectl scale or shell cleanup step?)";
        }
        if (now.holder() == null) {
            return "replicas is " + now.replicas() + " but the holder annotation was removed";
        }
        return "taken over by '" + now.holder() + "' with token " + now.token();
    }

    static String podNames(List<PodSnapshot> pods) {
        return pods.stream().map(PodSnapshot::name).collect(Collectors.joining(", ", "[", "]"));
    }
}
