package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock this process holds, from the write that took it to its release: waits for its builder
 * pod ({@link #start}), renews it ({@link Renewal}), notices when it is lost, and releases it
 * conditionally, once, on one path whoever asks (the build, {@code ReplicaLocks.close()}, a failed
 * start, the shutdown hook).
 *
 * <p>{@link State} is the whole life: HELD, then RELEASING while one thread writes the release,
 * then RELEASED, or LOST from HELD or RELEASING when the store shows someone else's lock.
 */
final class HeldReplicaLock implements ReplicaLock {
    private static final Logger log = LoggerFactory.getLogger(HeldReplicaLock.class);

    enum State {
        HELD,
        RELEASING,
        RELEASED,
        LOST
    }

    /** Who asks for the release, which decides what it waits for and what it reports. */
    private enum Release {
        /** The build's own close(): waits for the pods, reports a loss once. */
        OWNER,
        /** ReplicaLocks.close(): waits for the pods; what it finds is the owner's to hear. */
        ENGINE,
        /** A start that failed: the original failure is what the caller sees. */
        ROLLBACK,
        /** The JVM is going down: writes, waits for nothing, logs what failed. */
        SHUTDOWN
    }

    private final LockSession session;
    private final LockTarget target;
    private final long token;
    /** When the write that took the lock was sent; listeners time the hold from it. */
    private final long acquiredAtNanos;
    /** Set once the start returned the lock to its caller. */
    private volatile boolean started;

    private final Duration lease;
    private final Renewal renewal;
    private final Consumer<HeldReplicaLock> onEnded;
    private final LossReport loss;

    // Guarded by this.
    private State state = State.HELD;
    private LockFields fields;
    private long lastConfirmedNanos;
    // The thread writing the release while RELEASING (and LOST, if the release found it lost).
    private @Nullable Thread releaseThread;
    // Whether the owner's close() has been told how the release ended (or made it itself).
    private boolean ownerTold;
    private volatile List<String> pods = List.of();

    /**
     * @param fields what the acquiring write stored
     * @param confirmedNanos when that write was sent: the lease counts from there
     * @param onEnded told once the lock is released or lost, so that the engine forgets it
     */
    HeldReplicaLock(
            LockSession session,
            LockTarget target,
            LockFields fields,
            long confirmedNanos,
            Consumer<HeldReplicaLock> onEnded) {
        this.session = session;
        this.target = target;
        this.fields = fields;
        this.lastConfirmedNanos = confirmedNanos;
        this.acquiredAtNanos = confirmedNanos;
        this.lease = Objects.requireNonNull(fields.lease(), "lease");
        this.token = fields.token();
        this.onEnded = onEnded;
        this.renewal = new Renewal(this, session);
        this.loss = new LossReport(target);
    }

    @Override
    public LockTarget target() {
        return target;
    }

    @Override
    public String holder() {
        return session.holder;
    }

    @Override
    public long fencingToken() {
        return token;
    }

    @Override
    public boolean isHeld() {
        synchronized (this) {
            // Once a release has begun it decides what happened; asking must not declare a loss.
            if (state != State.HELD) {
                return false;
            }
        }
        return !leaseRanOut();
    }

    @Override
    public List<String> pods() {
        return pods;
    }

    @Override
    public void onLost(Consumer<LockLostException> listener) {
        loss.listen(Objects.requireNonNull(listener, "listener must not be null"));
    }

    // ---- start ---------------------------------------------------------------------------------

    /**
     * Starts renewing, replaces {@code oldPods} (a takeover's) and waits for a usable builder pod on
     * {@code observer}; on any failure gives the lock back before throwing.
     */
    HeldReplicaLock start(TargetObserver observer, Set<String> oldPods) throws InterruptedException {
        renewal.start();
        try {
            pods = BuilderPods.awaitReady(session, observer, fields(), oldPods, this::ensureWanted, now -> {
                markLost(LockStates.whyChanged(now, session.holder, token));
                throwIfLost();
            });
            started = true;
            return this;
        } catch (InterruptedException | RuntimeException e) {
            release(Release.ROLLBACK, e);
            throw e;
        }
    }

    /** Throws if the start should not go on: the lock was lost, or its ReplicaLocks closed. */
    private void ensureWanted() {
        throwIfLost();
        session.ensureOpen(target);
    }

    // ---- what Renewal asks and tells -----------------------------------------------------------

    /** The fields to renew, or null once the lock is no longer held (released, releasing, lost). */
    synchronized @Nullable LockFields fieldsWhileHeld() {
        return state == State.HELD ? fields : null;
    }

    synchronized LockFields fields() {
        return fields;
    }

    /** The store took {@code renewed} in place of {@code sent}, written at {@code sentAtNanos}. */
    synchronized void confirmed(LockFields sent, LockFields renewed, long sentAtNanos) {
        if (fields.equals(sent)) {
            fields = renewed;
            lastConfirmedNanos = sentAtNanos;
        }
    }

    /**
     * A holder that could not confirm its hold for a whole lease must assume that someone else has
     * taken it: contenders count the same lease from their side. Marks the lock lost if so.
     */
    boolean leaseRanOut() {
        if (leaseRemainingNanos() > 0) {
            return false;
        }
        markLost("not renewed for a whole lease of " + lease + " (API server unreachable or the process paused)");
        return true;
    }

    /** Nanoseconds left of the lease counted from the last confirmed write; at most 0 once it ran out. */
    long leaseRemainingNanos() {
        long confirmed;
        synchronized (this) {
            confirmed = lastConfirmedNanos;
        }
        // A difference of two readings of one monotonic clock is right whatever its origin.
        return Durations.saturatedNanos(lease) - (session.clock.nanoTime() - confirmed);
    }

    Duration lease() {
        return lease;
    }

    /** HELD or RELEASING becomes LOST: renewal stops, the event is recorded, listeners run. */
    void markLost(String why) {
        LockLostException exception;
        List<Consumer<LockLostException>> due;
        synchronized (this) {
            if (state != State.HELD && state != State.RELEASING) {
                return;
            }
            state = State.LOST;
            exception = new LockLostException(target, session.holder, token, why);
            due = loss.lose(exception, releaseThread != null);
        }
        renewal.stop();
        onEnded.accept(this);
        log.warn("{}", exception.getMessage());
        session.listeners.lost(target, exception, heldFor());
        // isHeld() can get here from any thread, even after ReplicaLocks.close() closed the backend.
        session.recordEventIfOpen(target, new LockEvent(LockEvent.Kind.LOST, String.valueOf(exception.getMessage())));
        loss.run(due);
    }

    private void throwIfLost() {
        LockLostException lost = loss.lost();
        if (lost != null) {
            throw lost;
        }
    }

    // ---- release -------------------------------------------------------------------------------

    @Override
    public void close() {
        release(Release.OWNER, null);
    }

    /** {@code ReplicaLocks.close()}'s release: what it finds is for the owner's own close() to report. */
    void closeFromEngine() {
        release(Release.ENGINE, null);
    }

    void releaseOnShutdown() {
        release(Release.SHUTDOWN, null);
    }

    /** The one release path. {@code failure} is the rollback's cause, null otherwise. */
    private void release(Release how, @Nullable Throwable failure) {
        boolean mine;
        synchronized (this) {
            mine = state == State.HELD;
            if (mine) {
                state = State.RELEASING;
                releaseThread = Thread.currentThread();
                ownerTold |= how == Release.OWNER;
            }
        }
        if (!mine) {
            afterOtherRelease(how, failure);
            return;
        }
        renewal.stop();
        boolean interrupted = Thread.interrupted();
        try {
            boolean waitForGone = !interrupted
                    && (how == Release.OWNER || how == Release.ENGINE || failure instanceof PodNotReadyException);
            write(waitForGone);
        } catch (RuntimeException e) {
            if (how == Release.ROLLBACK && failure != null) {
                if (e != failure) {
                    failure.addSuppressed(e);
                }
            } else if (how == Release.SHUTDOWN) {
                log.warn("{}: release at shutdown failed: {}", target, e.getMessage());
            } else {
                throw e;
            }
        } finally {
            endRelease();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Someone else released the lock, is releasing it, or it was lost before. The owner hears how
     * that ended once, so that its close() returning normally always means the lock was given back.
     */
    private void afterOtherRelease(Release how, @Nullable Throwable failure) {
        if (how == Release.SHUTDOWN) {
            return;
        }
        if (how == Release.ROLLBACK) {
            // Never waits: ReplicaLocks.close() releasing it from another thread reports on its own.
            LockLostException found = loss.lost();
            if (failure != null && found != null && found != failure) {
                failure.addSuppressed(found);
            }
            return;
        }
        LockLostException untold;
        synchronized (this) {
            awaitOtherRelease();
            untold = how == Release.OWNER && !ownerTold ? loss.lost() : null;
            ownerTold |= how == Release.OWNER;
        }
        if (untold != null) {
            throw untold;
        }
    }

    private void awaitOtherRelease() {
        // A lost-listener calling close() runs inside the release it would wait for.
        while (releaseThread != null && releaseThread != Thread.currentThread()) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LockException(target, "interrupted while waiting for the lock's release by another thread");
            }
        }
    }

    private void endRelease() {
        synchronized (this) {
            releaseThread = null;
            notifyAll();
        }
        loss.run(loss.takeDeferred());
    }

    private void write(boolean waitForGone) {
        LockFields current = fields();
        // Every held lock's release has begun before ReplicaLocks.close() lets the backend go. A loss
        // noticed from here on makes the conditional write below fail, and is reported then.
        if (!session.tryEnter()) {
            markLost("released after its ReplicaLocks was closed; the hold expires after its lease");
            throwIfLost();
        }
        try {
            if (leaseRanOut()) {
                throwIfLost();
            }
            onEnded.accept(this);
            boolean applied;
            try {
                applied = session.backend.compareAndSet(target, current, current.released());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                markLost("interrupted while releasing; the hold expires after its lease");
                throw new LockException(target, "interrupted while releasing; the lock expires after its lease", e);
            } catch (RuntimeException e) {
                // Renewal has stopped: whatever the store says, this process no longer holds the lock.
                markLost("the release failed (" + e.getMessage() + "); the hold expires after its lease");
                throw e;
            }
            if (!applied) {
                markLost(LockStates.whyLost(session, target, token));
                throwIfLost();
            }
            synchronized (this) {
                state = State.RELEASED;
                loss.forgetListeners();
            }
            log.info("{}: released by '{}', token {}", target, session.holder, token);
            if (started) {
                // A rollback of a failed start is no release the caller made: onReadyTimeout tells it.
                session.listeners.released(target, token, heldFor());
            }
            session.backend.recordEvent(
                    target,
                    new LockEvent(
                            LockEvent.Kind.RELEASED, "lock released by '" + session.holder + "' with token " + token));
            if (waitForGone) {
                BuilderPods.awaitGone(session, target);
            }
        } finally {
            session.leave();
        }
    }

    /** From the write that took the lock until now: what the listeners are told it was held for. */
    private Duration heldFor() {
        return Duration.ofNanos(Math.max(0, session.clock.nanoTime() - acquiredAtNanos));
    }

    @Override
    public String toString() {
        return "ReplicaLock{" + target + ", holder='" + session.holder + "', token=" + token + ", "
                + (isHeld() ? "held" : "not held") + "}";
    }
}
