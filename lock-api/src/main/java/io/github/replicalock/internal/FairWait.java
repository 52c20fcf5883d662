package io.github.replicalock.internal;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code Fairness.FIFO} acquisition's wait, a {@link TargetObserver.Check} of the engine's one
 * wait (docs/lock-protocol.md section 10): the first thread of this instance's {@link LocalLine}
 * enqueues itself on the Deployment, renews its entry every third of the waiter lease, and
 * acquires once every entry ahead of it is dead by this process's {@link QueueJudge}, in one write
 * that also removes its own entry and the dead ones. Threads behind it in the local line, and a
 * waiter kept out of a full queue, only read. {@link #leave()} removes the entry of an acquisition
 * that ends without the lock.
 */
final class FairWait implements TargetObserver.Check<Attempt.Won> {
    private static final Logger log = LoggerFactory.getLogger(FairWait.class);

    /** Reads again at once after a write lost to a change of the queue: the change is what to judge. */
    private static final long AT_ONCE = 1;
    /**
     * How long a queue write that lost waits for the watch to bring the change that beat it, before
     * reading again anyway. Reading the store's own copy at once after every lost write tripled the
     * requests of 32 waiters whose renewals conflict (docs/benchmarks.md, scenario 2).
     */
    private static final long WATCH_AFTER_LOSS_NANOS = 100_000_000;

    private final LockEngine engine;
    private final LockSession session;
    private final QueueJudge judge;
    private final LockTarget target;
    private final LocalLine.Ticket ticket;
    private final LocalLine line;

    private boolean queued;
    private boolean mayBeQueued;
    /** Whether this wait has written its entry; until then {@link #lastWriteNanos} means nothing. */
    private boolean wroteEntry;

    private long lastWriteNanos;
    /** The lease this wait promised with its last write of its entry. */
    private Duration promisedLease = QueueJudge.WAITER_LEASE;

    private long recheckNanos = ExpiryTracker.NEVER;
    private boolean lostAWrite;
    /** Whether a queue write of this wait lost since the last read, on {@link #lostOnQueue}. */
    private boolean lostAQueueWrite;
    /** The queue as read that queue write was derived from. */
    private @Nullable LockQueue lostOnQueue;
    /** Set by {@link #removeEntry()} once the entry is known gone. */
    private boolean removed;

    FairWait(LockEngine engine, LockSession session, QueueJudge judge, LockTarget target, LocalLine line) {
        this.engine = engine;
        this.session = session;
        this.judge = judge;
        this.target = target;
        this.line = line;
        this.ticket = line.join(target);
        // An earlier wait's entry that could not be removed is this wait's to remove on leaving.
        this.mayBeQueued = line.mayHaveLeftAnEntry(target);
    }

    @Override
    public Attempt.@Nullable Won test(LockRecord record, long readStart, long readEnd) throws InterruptedException {
        session.ensureOpen(target);
        recheckNanos = ExpiryTracker.NEVER;
        lostAWrite = false;
        boolean staleAfterLoss =
                lostAQueueWrite && lostOnQueue != null && lostOnQueue.sameStoredTextsAs(record.queue());
        lostAQueueWrite = false;
        if (staleAfterLoss) {
            // Still the text a write of ours lost on: this copy is stale (a watch cache that has not
            // caught up, or stalled). Judge only the store's own.
            lostAWrite = true;
            recheckNanos = AT_ONCE;
            return null;
        }
        if (!line.isFirst(ticket)) {
            return null; // woken when the thread ahead in this process acquires or leaves
        }
        LockStates.requireLock(target, record);
        String me = session.holder;
        LockQueue queue = record.queue();
        session.listeners.queueObserved(target, queue.size());
        QueueJudge.Verdict verdict = judge.judge(target, queue, me, readStart, readEnd);
        long holdExpiresIn = engine.holdExpiresIn(target, record, readStart, readEnd);
        boolean listed = queue.contains(me);
        if (!listed) {
            line.entryLeftBehind(target, false);
        }
        if (listed) {
            // Perhaps not written by this wait: an earlier acquire of this identity (here, or in a
            // process before a restart) that could not remove its entry. It is this wait's now, to
            // renew and to remove on leaving, or it would outlive the acquire that let it stand.
            mayBeQueued = true;
        }
        if (queued && !listed) {
            // Pruned after a pause or partition, or an operator cleared the queue: back to the tail.
            log.debug("{}: '{}' found its queue entry gone; enqueueing again", target, me);
            queued = false;
        }
        if (verdict.nobodyAliveAhead(queue, me)) {
            Set<String> leaving = new HashSet<>(verdict.deadWaiters());
            leaving.add(me);
            LockQueue after = queue.withoutAll(leaving);
            Attempt attempt =
                    engine.attempt(target, record, readStart, readEnd, QueueAcquisition.change(record, after));
            if (attempt instanceof Attempt.Won won) {
                queued = false;
                mayBeQueued = false;
                line.entryLeftBehind(target, false); // the acquiring write removed it
                return won;
            }
            Attempt.Declined declined = (Attempt.Declined) attempt;
            if (declined.wrote()) {
                recheckNanos = AT_ONCE; // lost to another write: judge what it changed
                lostAWrite = true;
                return null;
            }
            holdExpiresIn = declined.expiresInNanos();
        }
        if (listed) {
            // Only the head among live entries prunes on renewing: pruning changes the order, which
            // every waiter pruning at once would make each other's renewals lose on (section 10.4).
            LockQueue renewing = verdict.nobodyAliveAhead(queue, me) ? queue.withoutAll(verdict.deadWaiters()) : queue;
            Duration lease = QueueJudge.leaseAt(verdict.liveAhead(queue, me));
            if (renewalDueIn(readStart, lease) <= 0
                    && !write(record, renewing.renew(me, session.clock.now(), lease), lease)) {
                return null;
            }
            long dueIn = renewalDueIn(readStart, lease);
            recheckNanos = Math.min(Math.max(dueIn, AT_ONCE), verdict.nextDeathAhead(queue, me));
        } else {
            LockQueue pruned = queue.withoutAll(verdict.deadWaiters());
            Duration joiningLease = QueueJudge.leaseAt(pruned.size()); // every entry left ahead is live
            if (pruned.isFull()) {
                // Waits outside the queue without writing (section 10.6), woken by the watch.
                recheckNanos = verdict.nextDeathAhead(queue, me);
            } else if (write(
                    record, pruned.enqueue(QueueEntry.joining(me, session.clock.now(), joiningLease)), joiningLease)) {
                queued = true;
                log.debug("{}: '{}' queued at position {}", target, me, pruned.size() + 1);
                // Also when an entry ahead would be dead: nothing else wakes a waiter whose renewal is
                // 6.7 s away if dead waiters ahead of it never change the order again.
                recheckNanos = Math.min(QueueJudge.renewEveryNanos(promisedLease), verdict.nextDeathAhead(queue, me));
            } else {
                return null;
            }
        }
        if (holdExpiresIn > 0) {
            recheckNanos = Math.min(recheckNanos, holdExpiresIn);
        }
        return null;
    }

    /**
     * Nanoseconds from {@code readStart} until this wait's entry is due for renewal with the promise
     * of {@code lease}; at once for an entry it has not written itself (the monotonic clock's origin
     * is arbitrary, so no instant stands for "never written"), and at once when it must promise a
     * shorter lease than it did (it moved to the front of the queue: section 10.3).
     */
    private long renewalDueIn(long readStart, Duration lease) {
        if (!wroteEntry || lease.compareTo(promisedLease) < 0) {
            return 0;
        }
        return lastWriteNanos + QueueJudge.renewEveryNanos(promisedLease) - readStart;
    }

    /**
     * A queue-only write of {@code desired}, whose entry of this wait promises {@code lease}, on what
     * {@code record} showed; false (and read again soon) if it lost.
     */
    private boolean write(LockRecord record, LockQueue desired, Duration lease) throws InterruptedException {
        long sentAt = session.clock.nanoTime();
        mayBeQueued = true;
        boolean applied;
        try {
            applied = session.backend.compareAndSetQueue(target, QueueChange.between(record.queue(), desired));
        } catch (LockBackendUnavailableException e) {
            // An unreachable store (an API server restarting) is no reason to give up the wait: an
            // entry left unrenewed expires, and the waiter enqueues again once the store answers
            // (section 10.4). Not read fresh next: that read would need the store too.
            log.debug("{}: queue write failed, waiting on: {}", target, e.toString());
            recheckNanos = Durations.jitteredNanos(session.options.fallbackPollInterval());
            return false;
        }
        if (!applied) {
            // The watch brings what beat this write, usually within milliseconds; only a copy that
            // still shows the losing text is worth a read of the store's own (see test).
            recheckNanos = WATCH_AFTER_LOSS_NANOS;
            lostAQueueWrite = true;
            lostOnQueue = record.queue();
            return false;
        }
        lastWriteNanos = sentAt;
        wroteEntry = true;
        promisedLease = lease;
        return true;
    }

    @Override
    public long recheckWithinNanos() {
        return recheckNanos;
    }

    /** After a lost write, the next judgement is on the store's own copy, not on a cache's. */
    @Override
    public boolean wantsFreshRead() {
        return lostAWrite;
    }

    /**
     * Ends this wait without the lock: removes its entry, if it may have one, before the caller's
     * exception goes on (not interruptible: an interrupt is kept for the caller), then gives its
     * place in the local line to the next thread. Best effort: an entry it cannot remove expires.
     */
    void leave() {
        boolean interrupted = Thread.interrupted();
        try {
            if (mayBeQueued) {
                interrupted |= removeEntry();
                line.entryLeftBehind(target, !removed);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives this thread's place in the local line to the next one, after it acquired or left. */
    void endTurn(TargetObserver observer) {
        line.leave(ticket);
        observer.wakeAll();
    }

    /**
     * Removes this waiter's entry if it is there, and with it the entries judged dead on the same
     * read, as the acquiring write does (section 10.4): a waiter that leaves may be the last one to
     * write the queue for a while. True if an interrupt came meanwhile.
     */
    private boolean removeEntry() {
        boolean interrupted = false;
        boolean fresh = false;
        String me = session.holder;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                long readStart = session.clock.nanoTime();
                // After a lost write the store's own copy: a stale watch cache would show the same
                // text again, and every attempt would lose on it.
                LockRecord record = fresh ? session.backend.readFresh(target) : session.backend.read(target);
                long readEnd = session.clock.nanoTime();
                LockQueue queue = record.queue();
                if (!queue.contains(me)) {
                    removed = true;
                    return interrupted;
                }
                Set<String> leaving = new HashSet<>(
                        judge.judge(target, queue, me, readStart, readEnd).deadWaiters());
                leaving.add(me);
                if (session.backend.compareAndSetQueue(target, QueueChange.between(queue, queue.withoutAll(leaving)))) {
                    log.debug("{}: '{}' left the queue, with {} judged dead", target, me, leaving.size() - 1);
                    removed = true;
                    return interrupted;
                }
                fresh = true;
            } catch (InterruptedException e) {
                // Kept for the caller once the entry is gone: this removal is not interruptible.
                interrupted = true;
            } catch (LockBackendUnavailableException e) {
                // The backend's own retries gave up (conflicts, errors): try again while attempts remain.
                log.debug("{}: leaving the queue failed, {} attempts left: {}", target, 4 - attempt, e.toString());
            } catch (RuntimeException e) {
                log.debug("{}: could not leave the queue; the entry expires after its lease: {}", target, e.toString());
                return interrupted;
            }
        }
        log.debug("{}: could not leave the queue; the entry expires after its lease", target);
        return interrupted;
    }
}
