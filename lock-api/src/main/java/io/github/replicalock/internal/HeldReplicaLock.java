package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Cancellable;
import io.github.replicalock.spi.LockClock.Wakeup;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock this process holds: renews it on the clock's shared scheduler, notices when it is lost,
 * and releases it conditionally, once.
 */
final class HeldReplicaLock implements ReplicaLock {
    private static final Logger log = LoggerFactory.getLogger(HeldReplicaLock.class);

    private enum Phase {
        HELD,
        LOST,
        RELEASED
    }

    private final LockEngine engine;
    private final LockTarget target;
    private final List<String> recycledPods;
    private final Duration lease;
    private final long token;

    // Guarded by this.
    private Phase phase = Phase.HELD;
    private LockFields fields;
    private long lastConfirmedNanos;
    private @Nullable Cancellable renewal;
    private @Nullable LockLostException lost;
    private final List<Consumer<LockLostException>> lostListeners = new ArrayList<>();
    private boolean closeCalled;
    // The thread releasing this lock (close, rollback or shutdown) until it is done, then null.
    private @Nullable Thread releasing;
    // Whether the owner's close() has been told how the release ended (or made it itself).
    private boolean ownerTold;
    // Lost-listeners due while a release was in progress: run once it has ended, so that a listener
    // that takes a lock the owner holds while its close() waits for that release cannot deadlock.
    private List<Consumer<LockLostException>> deferredListeners = List.of();
    private volatile List<String> pods = List.of();

    HeldReplicaLock(
            LockEngine engine, LockTarget target, LockFields fields, long confirmedNanos, List<String> recycledPods) {
        this.engine = engine;
        this.target = target;
        this.fields = fields;
        this.lastConfirmedNanos = confirmedNanos;
        this.recycledPods = List.copyOf(recycledPods);
        this.lease = Objects.requireNonNull(fields.lease(), "lease");
        this.token = fields.token();
    }

    @Override
    public LockTarget target() {
        return target;
    }

    @Override
    public String holder() {
        return engine.holder;
    }

    @Override
    public long fencingToken() {
        return token;
    }

    synchronized LockFields fields() {
        return fields;
    }

    List<String> recycledPods() {
        return recycledPods;
    }

    @Override
    public boolean isHeld() {
        synchronized (this) {
            // Once close() is called the release decides what happened; asking must not declare a loss.
            if (phase != Phase.HELD || closeCalled) {
                return false;
            }
        }
        return !leaseRanOut();
    }

    @Override
    public List<String> pods() {
        return pods;
    }

    void started(List<String> readyPods) {
        pods = List.copyOf(readyPods);
    }

    @Override
    public void onLost(Consumer<LockLostException> listener) {
        Objects.requireNonNull(listener, "listener must not be null");
        LockLostException already;
        synchronized (this) {
            already = lost;
            if (already == null) {
                lostListeners.add(listener);
                return;
            }
        }
        listener.accept(already);
    }

    // ---- renewal -------------------------------------------------------------------------------

    synchronized void startRenewal() {
        scheduleRenewal(engine.options.renewInterval());
    }

    private synchronized void scheduleRenewal(Duration delay) {
        // Never after close(): a renewal in flight when a release fails would otherwise reschedule
        // itself and keep renewing a lock its owner gave up, for as long as the process lives.
        if (phase == Phase.HELD && !closeCalled) {
            renewal = engine.clock.schedule(delay, this::renew);
        }
    }

    /**
     * A holder that could not confirm its hold for a whole lease must assume that someone else has
     * taken it: contenders count the same lease from their side.
     */
    private boolean leaseRanOut() {
        long confirmed;
        synchronized (this) {
            confirmed = lastConfirmedNanos;
        }
        if (engine.clock.nanoTime() - confirmed < LockEngine.saturatedNanos(lease)) {
            return false;
        }
        markLost("not renewed for a whole lease of " + lease + " (API server unreachable or the process paused)");
        return true;
    }

    private void renew() {
        if (!engine.tryEnterBackend()) {
            return; // ReplicaLocks.close() has released every lock and closed the backend
        }
        try {
            renewEntered();
        } finally {
            engine.leaveBackend();
        }
    }

    private void renewEntered() {
        LockFields current;
        synchronized (this) {
            if (phase != Phase.HELD || closeCalled) {
                return;
            }
            current = fields;
        }
        if (leaseRanOut()) {
            return;
        }
        LockClock clock = engine.clock;
        long sentAt = clock.nanoTime();
        LockFields renewed = current.renewedAt(clock.now());
        try {
            if (engine.backend.compareAndSet(target, current, renewed)) {
                synchronized (this) {
                    if (fields.equals(current)) {
                        fields = renewed;
                        lastConfirmedNanos = sentAt;
                    }
                }
                scheduleRenewal(engine.options.renewInterval());
            } else {
                synchronized (this) {
                    if (closeCalled) {
                        // Our own release (or rollback) changed the fields under this renewal, which was
                        // already in flight: not a loss. Had someone else taken the lock, the release's
                        // own conditional write fails and reports it.
                        return;
                    }
                }
                markLost(whyLost());
            }
        } catch (LockTargetNotFoundException e) {
            markLost("the deployment was deleted");
        } catch (InterruptedException e) {
            // The scheduler is shutting down; a renewal cut short is retried like a failed one.
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("{}: renewal failed, retrying: {}", target, e.toString());
            if (!leaseRanOut()) {
                scheduleRenewal(engine.options.renewInterval().dividedBy(2));
            }
        }
    }

    private String whyLost() {
        try {
            return whyChanged(engine.backend.read(target).fields());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "the lock fields changed";
        } catch (LockException e) {
            return "the lock fields changed (" + e.getMessage() + ")";
        }
    }

    static String whyChanged(LockFields now) {
        if (now.replicas() == 0) {
            return "the deployment was scaled to 0 by someone else (a kubectl scale or shell cleanup step?)";
        }
        if (now.holder() == null) {
            return "replicas is " + now.replicas() + " but the holder annotation was removed";
        }
        return "taken over by '" + now.holder() + "' with token " + now.token();
    }

    void markLost(String why) {
        LockLostException exception;
        List<Consumer<LockLostException>> listeners;
        synchronized (this) {
            if (phase != Phase.HELD) {
                return;
            }
            phase = Phase.LOST;
            exception = new LockLostException(target, engine.holder, token, why);
            lost = exception;
            cancelRenewal();
            listeners = List.copyOf(lostListeners);
            lostListeners.clear();
            if (releasing != null) {
                deferredListeners = listeners;
                listeners = List.of();
            }
        }
        engine.forget(this);
        log.warn("{}", exception.getMessage());
        // isHeld() can get here from any thread, even after ReplicaLocks.close() closed the backend.
        if (engine.tryEnterBackend()) {
            try {
                engine.backend.recordEvent(target, "Lost", String.valueOf(exception.getMessage()));
            } finally {
                engine.leaveBackend();
            }
        }
        runListeners(listeners, exception);
    }

    private void runListeners(List<Consumer<LockLostException>> listeners, @Nullable LockLostException exception) {
        if (exception == null) {
            return;
        }
        for (Consumer<LockLostException> listener : listeners) {
            try {
                listener.accept(exception);
            } catch (RuntimeException e) {
                log.warn("{}: lost-listener failed", target, e);
            }
        }
    }

    synchronized void throwIfLost() {
        if (lost != null) {
            throw lost;
        }
    }

    private void cancelRenewal() {
        Cancellable task = renewal;
        renewal = null;
        if (task != null) {
            task.cancel();
        }
    }

    // ---- release -------------------------------------------------------------------------------

    @Override
    public void close() {
        close(true);
    }

    /** {@link ReplicaLocks#close()}'s release: what it finds is for the owner's own close() to report. */
    void closeFromEngine() {
        close(false);
    }

    private void close(boolean byOwner) {
        if (!beginRelease()) {
            // Someone else released it, or is releasing it: ReplicaLocks.close(), or an earlier close().
            // The owner hears how that ended once, so that its close() returning normally always means
            // the lock was given back.
            awaitOtherRelease();
            LockLostException untold;
            synchronized (this) {
                untold = byOwner && !ownerTold ? lost : null;
                ownerTold |= byOwner;
            }
            if (untold != null) {
                throw untold;
            }
            return;
        }
        if (byOwner) {
            synchronized (this) {
                ownerTold = true;
            }
        }
        boolean interrupted = Thread.interrupted();
        try {
            release(!interrupted);
        } finally {
            endRelease();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Claims the one release of this lock for the calling thread; false if someone has already. */
    private synchronized boolean beginRelease() {
        if (closeCalled) {
            return false;
        }
        closeCalled = true;
        releasing = Thread.currentThread();
        return true;
    }

    private void endRelease() {
        List<Consumer<LockLostException>> deferred;
        LockLostException exception;
        synchronized (this) {
            releasing = null;
            notifyAll();
            deferred = deferredListeners;
            deferredListeners = List.of();
            exception = lost;
        }
        runListeners(deferred, exception);
    }

    private synchronized void awaitOtherRelease() {
        // A lost-listener calling close() runs inside the release it would wait for.
        while (releasing != null && releasing != Thread.currentThread()) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LockException(target, "interrupted while waiting for the lock's release by another thread");
            }
        }
    }

    /**
     * Gives a lock back whose start failed. The original failure is what the caller sees; what
     * went wrong here is attached to it.
     */
    void rollBack(Throwable failure, boolean waitForGone) {
        if (!beginRelease()) {
            // close() is releasing it already (ReplicaLocks.close() from another thread): a second
            // release would race the first.
            return;
        }
        boolean interrupted = Thread.interrupted();
        try {
            release(waitForGone && !interrupted);
        } catch (LockException e) {
            if (e != failure) {
                failure.addSuppressed(e);
            }
        } finally {
            endRelease();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    void releaseOnShutdown() {
        if (!beginRelease()) {
            return;
        }
        try {
            release(false);
        } catch (LockException e) {
            log.warn("{}: release at shutdown failed: {}", target, e.getMessage());
        } finally {
            endRelease();
        }
    }

    private void release(boolean waitForGone) {
        LockFields current;
        synchronized (this) {
            cancelRenewal();
            if (phase == Phase.LOST) {
                throw Objects.requireNonNull(lost);
            }
            if (phase == Phase.RELEASED) {
                return;
            }
            current = fields;
        }
        // Every held lock's release has begun (closeCalled) before ReplicaLocks.close() lets the backend
        // go. A loss noticed from here on makes the conditional write below fail, and is reported then.
        if (!engine.tryEnterBackend()) {
            throw new LockException(target, "released after its ReplicaLocks was closed");
        }
        try {
            releaseEntered(current, waitForGone);
        } finally {
            engine.leaveBackend();
        }
    }

    private void releaseEntered(LockFields current, boolean waitForGone) {
        if (leaseRanOut()) {
            throwIfLost();
        }
        engine.forget(this);
        boolean applied;
        try {
            applied = engine.backend.compareAndSet(target, current, current.released());
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
            markLost(whyLost());
            throwIfLost();
        }
        synchronized (this) {
            phase = Phase.RELEASED;
            lostListeners.clear();
        }
        log.info("{}: released by '{}', token {}", target, engine.holder, current.token());
        engine.backend.recordEvent(
                target, "Released", "lock released by '" + engine.holder + "' with token " + current.token());
        if (waitForGone) {
            awaitPodsGone();
        }
    }

    private void awaitPodsGone() {
        LockClock clock = engine.clock;
        Duration timeout = engine.options.releaseTimeout();
        long deadline = clock.nanoTime() + LockEngine.saturatedNanos(timeout);
        Wakeup wakeup = clock.newWakeup();
        try (Subscription watch = engine.backend.watch(target, wakeup::signal)) {
            while (true) {
                LockRecord record = engine.backend.read(target);
                // Replicas back at 1 means a new hold (only a legacy scale can start one before our pods are gone).
                if (record.pods().isEmpty() || record.fields().replicas() != 0) {
                    return;
                }
                long now = clock.nanoTime();
                if (now - deadline >= 0) {
                    throw new ReleaseTimeoutException(target, timeout, LockStates.podNames(record.pods()));
                }
                engine.awaitChange(wakeup, watch, now, deadline, Long.MAX_VALUE);
            }
        } catch (LockTargetNotFoundException e) {
            // Deleted with its pods: nothing left to wait for.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ReplicaLock{" + target + ", holder='" + engine.holder + "', token=" + fencingToken() + ", "
                + (isHeld() ? "held" : "not held") + "}";
    }
}
