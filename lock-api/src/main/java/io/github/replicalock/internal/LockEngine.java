package io.github.replicalock.internal;

import io.github.replicalock.LockException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Wakeup;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock algorithm, once for every backend: acquisition from IDLE only, waiting for Ready with
 * rollback, watch-driven waiting, expiry on the local monotonic clock, takeover, and the set of
 * locks this instance holds. {@link HeldReplicaLock} does renewal and release.
 */
public final class LockEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LockEngine.class);

    final LockBackend backend;
    final LockClock clock;
    final String holder;
    final LockOptions options;
    private final ExpiryTracker expiry;
    private final Set<HeldReplicaLock> held = ConcurrentHashMap.newKeySet();
    // Threads blocked in acquire or a ready wait, woken by close() so that they stop at once.
    private final Set<Wakeup> waiting = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    // Acquisitions, releases and renewals in progress, plus one for the engine until close(). The
    // backend closes when this reaches zero: an acquisition still writing when close() is called
    // must be able to give back what it wrote, through a backend that is still open.
    private final AtomicInteger backendUsers = new AtomicInteger(1);
    private final @Nullable Thread shutdownHook;

    public LockEngine(LockBackend backend, LockClock clock, String holder, LockOptions options, boolean shutdownHook) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.options = Objects.requireNonNull(options, "options");
        this.expiry = new ExpiryTracker(options);
        if (shutdownHook) {
            // CI cancelling a build sends SIGTERM: give the lock back rather than make the next build wait a lease.
            Thread hook = new Thread(this::releaseAllOnShutdown, "replica-lock-shutdown-" + holder);
            Runtime.getRuntime().addShutdownHook(hook);
            this.shutdownHook = hook;
        } else {
            this.shutdownHook = null;
        }
    }

    public String holder() {
        return holder;
    }

    public LockOptions options() {
        return options;
    }

    public LockStatus status(LockTarget target) {
        Objects.requireNonNull(target, "target must not be null");
        enterBackend(target);
        try {
            return LockStates.status(target, backend.read(target));
        } catch (LockTargetNotFoundException e) {
            return LockStatus.unknown(target, "deployment not found", 0, 0, null, 0);
        } catch (LockTargetInvalidException e) {
            return LockStatus.unknown(target, String.valueOf(e.getMessage()), 0, 0, null, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockException(target, "interrupted while reading the lock's status", e);
        } finally {
            leaveBackend();
        }
    }

    public Optional<ReplicaLock> tryAcquire(LockTarget target) throws InterruptedException {
        Objects.requireNonNull(target, "target must not be null");
        enterBackend(target);
        try {
            ensureOpen(target);
            long readStart = clock.nanoTime();
            LockRecord record = backend.read(target);
            LockStates.requireLock(target, record);
            long expiresIn = expiry.remainingNanos(target, record.fields(), readStart, clock.nanoTime());
            HeldReplicaLock lock = attempt(target, record, expiresIn);
            if (lock == null) {
                log.debug("{}: not acquired, {}", target, LockStates.status(target, record));
                return Optional.empty();
            }
            return Optional.of(awaitReady(lock));
        } finally {
            leaveBackend();
        }
    }

    public ReplicaLock acquire(LockTarget target, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(target, "target must not be null");
        Objects.requireNonNull(timeout, () -> target + ": acquire timeout must not be null");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(target + ": acquire timeout must be positive, got " + timeout);
        }
        enterBackend(target);
        try {
            long deadline = clock.nanoTime() + saturatedNanos(timeout);
            Wakeup wakeup = clock.newWakeup();
            waiting.add(wakeup);
            // One watch for the whole acquisition: waiting for the lock, then for the Ready pod.
            try (Subscription watch = backend.watch(target, wakeup::signal)) {
                HeldReplicaLock lock = awaitLock(target, timeout, deadline, wakeup, watch);
                return awaitReady(lock, wakeup, watch);
            } finally {
                waiting.remove(wakeup);
            }
        } finally {
            leaveBackend();
        }
    }

    private HeldReplicaLock awaitLock(
            LockTarget target, Duration timeout, long deadline, Wakeup wakeup, Subscription watch)
            throws InterruptedException {
        while (true) {
            ensureOpen(target);
            if (Thread.interrupted()) {
                throw new InterruptedException(target + ": interrupted while waiting for the lock");
            }
            // What a read shows was current at some moment between these two: a pause after the read
            // (GC, a stopped VM) must not count as time in which the holder did not renew.
            long readStart = clock.nanoTime();
            LockRecord record = backend.read(target);
            LockStates.requireLock(target, record);
            long readEnd = clock.nanoTime();
            long expiresIn = expiry.remainingNanos(target, record.fields(), readStart, readEnd);
            HeldReplicaLock lock = attempt(target, record, expiresIn);
            if (lock != null) {
                return lock;
            }
            if (readEnd - deadline >= 0) {
                throw new LockTimeoutException(target, timeout, LockStates.status(target, record));
            }
            log.debug("{}: waiting, {}", target, LockStates.status(target, record));
            awaitChange(wakeup, watch, readStart, deadline, expiresIn);
        }
    }

    /**
     * Acquires from IDLE or takes an expired hold over ({@code expiresIn}, from {@link
     * ExpiryTracker#remainingNanos}, at most 0); null if neither applies or the write lost.
     */
    private @Nullable HeldReplicaLock attempt(LockTarget target, LockRecord record, long expiresIn)
            throws InterruptedException {
        LockFields observed = record.fields();
        LockState state = LockStates.state(record);
        if (state == LockState.IDLE) {
            HeldReplicaLock lock = write(target, observed, List.of());
            if (lock != null) {
                log.info("{}: acquired by '{}', token {}", target, holder, lock.fencingToken());
                backend.recordEvent(
                        target, "Acquired", "lock acquired by '" + holder + "' with token " + lock.fencingToken());
            }
            return lock;
        }
        boolean held = state == LockState.STARTING || state == LockState.ACTIVE;
        if (held && expiresIn <= 0 && !holdsInThisProcess(target)) {
            // Every pod of the old hold goes: the new build gets a fresh builder, never one a zombie build runs in.
            List<String> recycled =
                    record.pods().stream().map(PodSnapshot::name).toList();
            HeldReplicaLock lock = write(target, observed, recycled);
            if (lock != null) {
                String previous = "'" + LockStates.displayedHolder(observed) + "' (token " + observed.token() + ")";
                log.info("{}: taken over by '{}' from {}, token {}", target, holder, previous, lock.fencingToken());
                backend.recordEvent(
                        target,
                        "TakenOver",
                        "lock taken over by '" + holder + "' with token " + lock.fencingToken() + " from " + previous
                                + ", whose lease expired");
            }
            return lock;
        }
        return null;
    }

    private boolean holdsInThisProcess(LockTarget target) {
        return held.stream().anyMatch(l -> l.target().equals(target));
    }

    private @Nullable HeldReplicaLock write(LockTarget target, LockFields observed, List<String> recycledPods)
            throws InterruptedException {
        long token = observed.token() + 1;
        LockFields desired = observed.heldBy(holder, token, clock.now(), options.leaseDuration());
        long sentAt = clock.nanoTime();
        boolean applied;
        try {
            applied = backend.compareAndSet(target, observed, desired);
        } catch (InterruptedException | RuntimeException e) {
            // The write may have reached the store before the failure: undo it if it did.
            undoUncertainWrite(target, desired, e);
            throw e;
        }
        if (!applied) {
            return null;
        }
        expiry.forget(target);
        HeldReplicaLock lock = new HeldReplicaLock(this, target, desired, sentAt, recycledPods);
        held.add(lock);
        lock.startRenewal();
        if (closed.get()) {
            // close() may have taken its snapshot of held locks before this one joined it.
            LocksClosedException closedMeanwhile = new LocksClosedException(target, holder);
            lock.rollBack(closedMeanwhile, false);
            throw closedMeanwhile;
        }
        return lock;
    }

    private void undoUncertainWrite(LockTarget target, LockFields desired, Throwable failure) {
        boolean interrupted = Thread.interrupted();
        try {
            backend.compareAndSet(target, desired, desired.released());
        } catch (InterruptedException | RuntimeException e) {
            failure.addSuppressed(e);
            log.warn("{}: could not undo a lock write that may have applied; it expires after its lease", target, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@link #awaitReady(HeldReplicaLock, Wakeup, Subscription)} on a watch of its own. */
    private HeldReplicaLock awaitReady(HeldReplicaLock lock) throws InterruptedException {
        Wakeup wakeup = clock.newWakeup();
        waiting.add(wakeup);
        try {
            Subscription watch;
            try {
                watch = backend.watch(lock.target(), wakeup::signal);
            } catch (RuntimeException e) {
                lock.rollBack(e, false);
                throw e;
            }
            try (watch) {
                return awaitReady(lock, wakeup, watch);
            }
        } finally {
            waiting.remove(wakeup);
        }
    }

    /** Waits for a usable builder pod; on any failure gives the lock back before throwing. */
    private HeldReplicaLock awaitReady(HeldReplicaLock lock, Wakeup wakeup, Subscription watch)
            throws InterruptedException {
        LockTarget target = lock.target();
        Set<String> excluded = Set.copyOf(lock.recycledPods());
        long deadline = clock.nanoTime() + saturatedNanos(options.readyTimeout());
        try {
            if (!excluded.isEmpty()) {
                backend.deletePods(target, excluded);
            }
            while (true) {
                lock.throwIfLost();
                ensureOpen(target);
                LockRecord record = backend.read(target);
                if (!record.fields().sameLockAs(lock.fields())) {
                    lock.markLost(HeldReplicaLock.whyChanged(record.fields()));
                    lock.throwIfLost();
                }
                List<String> ready = record.pods().stream()
                        .filter(p -> p.usable() && !excluded.contains(p.name()))
                        .map(PodSnapshot::name)
                        .toList();
                if (!ready.isEmpty()) {
                    lock.started(ready);
                    log.info("{}: builder ready {} for '{}' token {}", target, ready, holder, lock.fencingToken());
                    return lock;
                }
                long now = clock.nanoTime();
                if (now - deadline >= 0) {
                    String reason = LockStates.whyNotReady(record, excluded);
                    log.warn("{}: no builder pod Ready within {}: {}", target, options.readyTimeout(), reason);
                    backend.recordEvent(
                            target,
                            "NotReady",
                            "builder pod of '" + holder + "' (token " + lock.fencingToken() + ") not Ready within "
                                    + options.readyTimeout() + ": " + reason + "; releasing");
                    throw new PodNotReadyException(target, options.readyTimeout(), reason);
                }
                awaitChange(wakeup, watch, now, deadline, Long.MAX_VALUE);
            }
        } catch (InterruptedException e) {
            lock.rollBack(e, false);
            throw e;
        } catch (RuntimeException e) {
            lock.rollBack(e, e instanceof PodNotReadyException);
            throw e;
        }
    }

    void forget(HeldReplicaLock lock) {
        held.remove(lock);
    }

    List<HeldReplicaLock> heldLocks() {
        return List.copyOf(held);
    }

    /** Registers a use of the backend, or throws if close() has closed it. */
    private void enterBackend(LockTarget target) {
        if (!tryEnterBackend()) {
            throw new LocksClosedException(target, holder);
        }
        if (closed.get()) {
            leaveBackend();
            throw new LocksClosedException(target, holder);
        }
    }

    /** Registers a use of the backend; false once it is closed. Pair with {@link #leaveBackend()}. */
    boolean tryEnterBackend() {
        int users;
        do {
            users = backendUsers.get();
            if (users == 0) {
                return false;
            }
        } while (!backendUsers.compareAndSet(users, users + 1));
        return true;
    }

    void leaveBackend() {
        if (backendUsers.decrementAndGet() == 0) {
            try {
                backend.close();
            } catch (RuntimeException e) {
                log.warn("closing the lock backend of '{}' failed", holder, e);
            }
        }
    }

    private void ensureOpen(LockTarget target) {
        if (closed.get()) {
            throw new LocksClosedException(target, holder);
        }
    }

    /**
     * Sleeps until the watch signals a change, the deadline passes or {@code limitNanos} have
     * passed, polling while the watch is down. Compares durations, never instants: a monotonic
     * clock's instants may be negative or wrap.
     */
    void awaitChange(Wakeup wakeup, Subscription watch, long nowNanos, long deadlineNanos, long limitNanos)
            throws InterruptedException {
        // A limit already passed (a hold expired that this process cannot take over: its own) must not
        // turn the wait into a busy loop of reads.
        long limit = limitNanos > 0 ? limitNanos : jittered(options.fallbackPollInterval());
        long wait = Math.min(deadlineNanos - nowNanos, limit);
        if (!watch.isConnected()) {
            wait = Math.min(wait, jittered(options.fallbackPollInterval()));
        }
        wakeup.awaitUntil(nowNanos + wait);
    }

    /** Nanoseconds in {@code duration}, or {@link Long#MAX_VALUE} for longer than 292 years. */
    static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException longerThan292Years) {
            return Long.MAX_VALUE;
        }
    }

    long jittered(Duration cap) {
        long capNanos = Math.max(2, saturatedNanos(cap));
        return ThreadLocalRandom.current().nextLong(capNanos / 2, capNanos);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        waiting.forEach(Wakeup::signal);
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or has run; it releases what is left.
            }
        }
        try {
            for (HeldReplicaLock lock : heldLocks()) {
                try {
                    lock.closeFromEngine();
                } catch (RuntimeException e) {
                    // Every other lock must still be released, whatever this one's backend threw.
                    log.warn("{}: while closing ReplicaLocks of '{}': {}", lock.target(), holder, e.getMessage());
                }
            }
        } finally {
            // Closes the backend now, or when the last acquisition still in flight has given back what it wrote.
            leaveBackend();
        }
    }

    private void releaseAllOnShutdown() {
        if (!closed.compareAndSet(false, true)) {
            return; // close() has released them, or is releasing them
        }
        List<HeldReplicaLock> locks = heldLocks();
        if (!locks.isEmpty()) {
            log.info(
                    "JVM shutting down: releasing {}",
                    locks.stream().map(l -> l.target().toString()).collect(Collectors.joining(", ")));
        }
        for (HeldReplicaLock lock : locks) {
            lock.releaseOnShutdown();
        }
        leaveBackend();
    }
}
