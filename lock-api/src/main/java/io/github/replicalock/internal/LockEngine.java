package io.github.replicalock.internal;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockException;
import io.github.replicalock.LockListener;
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
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.QueueChange;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock algorithm, once for every backend: acquisition from IDLE only, expiry on the local
 * monotonic clock, takeover, and the set of locks this instance holds. Each {@link #attempt} says
 * what it decided; a won one becomes a {@link HeldReplicaLock}, which waits for its builder pod,
 * renews and releases itself.
 */
final class LockEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(LockEngine.class);

    private final LockSession session;
    private final ExpiryTracker expiry;
    private final AcquiringWrites writes;
    private final QueueAcquisition queue;
    private final Set<HeldReplicaLock> held = ConcurrentHashMap.newKeySet();
    private final @Nullable Thread shutdownHook;

    LockEngine(
            LockBackend backend,
            LockClock clock,
            String holder,
            LockOptions options,
            boolean shutdownHook,
            List<LockListener> listeners) {
        this.session = new LockSession(
                Objects.requireNonNull(backend, "backend"),
                Objects.requireNonNull(clock, "clock"),
                Objects.requireNonNull(options, "options"),
                Objects.requireNonNull(holder, "holder"),
                listeners);
        this.expiry = new ExpiryTracker(options);
        this.writes = new AcquiringWrites(session, expiry);
        this.queue = new QueueAcquisition(this, session);
        if (shutdownHook) {
            // CI cancelling a build sends SIGTERM: give the lock back rather than make the next build wait a lease.
            Thread hook = new Thread(this::releaseAllOnShutdown, "replica-lock-shutdown-" + holder);
            Runtime.getRuntime().addShutdownHook(hook);
            this.shutdownHook = hook;
        } else {
            this.shutdownHook = null;
        }
    }

    @Override
    public String holder() {
        return session.holder;
    }

    @Override
    public LockOptions options() {
        return session.options;
    }

    @Override
    public LockStatus status(LockTarget target) {
        Objects.requireNonNull(target, "target must not be null");
        enterBackend(target);
        try {
            return LockStates.status(target, session.backend.read(target), session.clock.now());
        } catch (LockTargetNotFoundException e) {
            return LockStatus.unknown(target, "deployment not found", 0, 0, null, 0);
        } catch (LockTargetInvalidException e) {
            return LockStatus.unknown(target, String.valueOf(e.getMessage()), 0, 0, null, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockException(target, "interrupted while reading the lock's status", e);
        } finally {
            session.leave();
        }
    }

    @Override
    public Optional<ReplicaLock> tryAcquire(LockTarget target) throws InterruptedException {
        Objects.requireNonNull(target, "target must not be null");
        enterBackend(target);
        try {
            session.ensureOpen(target);
            long readStart = session.clock.nanoTime();
            long calledAt = readStart;
            LockRecord record = session.backend.read(target);
            long readEnd = session.clock.nanoTime();
            Attempt attempt = session.options.fairness() == Fairness.BARGING
                    ? attempt(target, record, readStart, readEnd, null)
                    : queue.tryAttempt(target, record, readStart, readEnd);
            if (!(attempt instanceof Attempt.Won won)) {
                log.debug(
                        "{}: not acquired ({}), {}",
                        target,
                        attempt,
                        LockStates.status(target, record, session.clock.now()));
                return Optional.empty();
            }
            try (TargetObservers.Use use = session.observers.observe(target)) {
                return Optional.of(start(won, use.observer(), calledAt));
            }
        } finally {
            session.leave();
        }
    }

    @Override
    public ReplicaLock acquire(LockTarget target, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(target, "target must not be null");
        Objects.requireNonNull(timeout, () -> target + ": acquire timeout must not be null");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(target + ": acquire timeout must be positive, got " + timeout);
        }
        enterBackend(target);
        try {
            long calledAt = session.clock.nanoTime();
            long deadline = calledAt + Durations.saturatedNanos(timeout);
            // One watch for the whole acquisition: waiting for the lock, then for the Ready pod.
            try (TargetObservers.Use use = session.observers.observe(target)) {
                TargetObserver observer = use.observer();
                Function<LockRecord, LockTimeoutException> onTimeout = last ->
                        new LockTimeoutException(target, timeout, LockStates.status(target, last, session.clock.now()));
                Attempt.Won won = session.options.fairness() == Fairness.BARGING
                        ? observer.await(new WaitForLock(target), deadline, onTimeout)
                        : queue.await(target, observer, deadline, onTimeout);
                return start(won, observer, calledAt);
            }
        } finally {
            session.leave();
        }
    }

    @Override
    public LockStatus forceRelease(LockTarget target, OptionalLong token, String reason) throws InterruptedException {
        Objects.requireNonNull(target, "target must not be null");
        Objects.requireNonNull(reason, () -> target + ": force-release reason must not be null");
        enterBackend(target);
        try {
            session.ensureOpen(target);
            return ForceReleases.forceRelease(session, target, token, reason);
        } finally {
            session.leave();
        }
    }

    /** Attempts on every read until one wins, re-reading by the time the hold seen would expire. */
    private final class WaitForLock implements TargetObserver.Check<Attempt.Won> {
        private final LockTarget target;
        private long expiresIn = ExpiryTracker.NEVER;

        WaitForLock(LockTarget target) {
            this.target = target;
        }

        @Override
        public Attempt.@Nullable Won test(LockRecord record, long readStart, long readEnd) throws InterruptedException {
            session.ensureOpen(target);
            Attempt attempt = attempt(target, record, readStart, readEnd, null);
            if (attempt instanceof Attempt.Won won) {
                return won;
            }
            expiresIn = ((Attempt.Declined) attempt).expiresInNanos();
            log.debug("{}: waiting ({}), {}", target, attempt, LockStates.status(target, record, session.clock.now()));
            return null;
        }

        @Override
        public long recheckWithinNanos() {
            return expiresIn;
        }
    }

    /** How long until the hold {@code record} shows expires on this process's clock; see {@link ExpiryTracker}. */
    long holdExpiresIn(LockTarget target, LockRecord record, long readStart, long readEnd) {
        return expiry.remainingNanos(target, record.fields(), readStart, readEnd);
    }

    /**
     * Acquires from IDLE or takes a hold over whose lease has expired, judged on what a read that
     * ran from {@code readStart} to {@code readEnd} showed; says what it decided. With a {@code
     * queueChange}, the write also tests the queue's text and writes the queue given.
     */
    Attempt attempt(
            LockTarget target, LockRecord record, long readStart, long readEnd, @Nullable QueueChange queueChange)
            throws InterruptedException {
        return attempt(target, record, readStart, readEnd, queueChange, false);
    }

    /** @param fresh whether {@code record} came from {@link LockBackend#readFresh} */
    private Attempt attempt(
            LockTarget target,
            LockRecord record,
            long readStart,
            long readEnd,
            @Nullable QueueChange queueChange,
            boolean fresh)
            throws InterruptedException {
        LockStates.requireLock(target, record);
        LockFields observed = record.fields();
        long expiresIn = expiry.remainingNanos(target, observed, readStart, readEnd);
        LockState state = LockStates.state(record);
        if (state == LockState.IDLE) {
            Attempt attempt = writes.write(target, observed, List.of(), expiresIn, queueChange, false);
            if (attempt instanceof Attempt.Won won) {
                log.info(
                        "{}: acquired by '{}', token {}",
                        target,
                        session.holder,
                        won.fields().token());
                session.backend.recordEvent(
                        target,
                        new LockEvent(
                                LockEvent.Kind.ACQUIRED,
                                "lock acquired by '" + session.holder + "' with token "
                                        + won.fields().token()));
            }
            return attempt;
        }
        boolean heldByOther = state == LockState.STARTING || state == LockState.ACTIVE;
        if (!heldByOther || expiresIn > 0) {
            return new Attempt.Declined(state.name().toLowerCase(Locale.ROOT), expiresIn);
        }
        if (holdsInThisProcess(target)) {
            return new Attempt.Declined("expired, but held by this process", expiresIn);
        }
        if (!fresh) {
            // Expired on what the backend read, which may be a watch cache: one that stalls while
            // connected hides the renewals of a live holder. The takeover's conditions leave the
            // renewal time out, so only the store's own copy can confirm the hold we judged expired.
            long freshStart = session.clock.nanoTime();
            LockRecord current = session.backend.readFresh(target);
            long freshEnd = session.clock.nanoTime();
            if (!current.fields().equals(observed)) {
                log.debug("{}: not taking over: a fresh read shows {}, not {}", target, current.fields(), observed);
            }
            // Unchanged: the takeover goes ahead on the fresh pods. Changed: judged anew, which
            // sees a new hold (or renewal) not yet expired, and waits.
            // A queue change still tests the queue text read before: if the queue moved meanwhile,
            // the write is refused and the waiter judges again on its next read.
            return attempt(target, current, freshStart, freshEnd, queueChange, true);
        }
        // Every pod of the old hold goes: the new build gets a fresh builder, never one a zombie build runs in.
        List<String> oldPods = record.pods().stream().map(PodSnapshot::name).toList();
        Attempt attempt = writes.write(target, observed, oldPods, expiresIn, queueChange, true);
        if (attempt instanceof Attempt.Won won) {
            String previous = "'" + LockStates.displayedHolder(observed) + "' (token " + observed.token() + ")";
            long token = won.fields().token();
            log.info("{}: taken over by '{}' from {}, token {}", target, session.holder, previous, token);
            session.listeners.takeover(target, observed.holder(), token);
            session.backend.recordEvent(
                    target,
                    new LockEvent(
                            LockEvent.Kind.TAKEN_OVER,
                            "lock taken over by '" + session.holder + "' with token " + token + " from " + previous
                                    + ", whose lease expired"));
        }
        return attempt;
    }

    private boolean holdsInThisProcess(LockTarget target) {
        return held.stream().anyMatch(l -> l.target().equals(target));
    }

    /**
     * Turns a won attempt into a held lock with a Ready builder pod, or gives it back and throws;
     * tells the listeners, timing from {@code calledAt}, the start of the caller's acquisition.
     */
    private ReplicaLock start(Attempt.Won won, TargetObserver observer, long calledAt) throws InterruptedException {
        HeldReplicaLock lock =
                new HeldReplicaLock(session, won.target(), won.fields(), won.sentAtNanos(), held::remove);
        held.add(lock);
        // close() may have taken its snapshot of held locks before this one joined it: the start's
        // first check of the session then gives it back.
        try {
            lock.start(observer, Set.copyOf(won.oldPods()));
        } catch (PodNotReadyException e) {
            session.listeners.readyTimeout(won.target(), e, Duration.ofNanos(session.clock.nanoTime() - calledAt));
            throw e;
        }
        session.listeners.acquired(
                won.target(), won.fields().token(), Duration.ofNanos(session.clock.nanoTime() - calledAt));
        return lock;
    }

    /** Registers a use of the backend, or throws if close() has closed it. */
    private void enterBackend(LockTarget target) {
        if (!session.tryEnter()) {
            throw new LocksClosedException(target, session.holder);
        }
        if (session.isClosed()) {
            session.leave();
            throw new LocksClosedException(target, session.holder);
        }
    }

    @Override
    public void close() {
        if (!session.markClosed()) {
            return;
        }
        // Acquisitions waiting on the lock or a Ready pod stop at once.
        session.observers.wakeAll();
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or has run; it releases what is left.
            }
        }
        try {
            for (HeldReplicaLock lock : List.copyOf(held)) {
                try {
                    lock.closeFromEngine();
                } catch (RuntimeException e) {
                    // Every other lock must still be released, whatever this one's backend threw.
                    log.warn(
                            "{}: while closing ReplicaLocks of '{}': {}",
                            lock.target(),
                            session.holder,
                            e.getMessage());
                }
            }
        } finally {
            session.renewals.shutDown();
            // Closes the backend now, or when the last acquisition still in flight has given back what it wrote.
            session.leave();
        }
    }

    private void releaseAllOnShutdown() {
        if (!session.markClosed()) {
            return; // close() has released them, or is releasing them
        }
        List<HeldReplicaLock> locks = List.copyOf(held);
        if (!locks.isEmpty()) {
            log.info(
                    "JVM shutting down: releasing {}",
                    locks.stream().map(l -> l.target().toString()).collect(Collectors.joining(", ")));
        }
        for (HeldReplicaLock lock : locks) {
            lock.releaseOnShutdown();
        }
        session.renewals.shutDown();
        session.leave();
    }
}
