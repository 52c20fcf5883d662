package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The {@code Fairness.FIFO} side of acquisition (docs/lock-protocol.md section 10), beside the
 * engine's {@link LockEngine#attempt}: one {@link QueueJudge} and one {@link LocalLine} per
 * {@code ReplicaLocks}, a {@code tryAcquire}'s refusal of a queue of live waiters, an {@code
 * acquire}'s {@link FairWait} with its leave, and the lock write that also writes the queue.
 */
final class QueueAcquisition {
    private final LockEngine engine;
    private final LockSession session;
    private final QueueJudge judge = new QueueJudge();
    private final LocalLine line = new LocalLine();

    QueueAcquisition(LockEngine engine, LockSession session) {
        this.engine = engine;
        this.session = session;
    }

    /**
     * The queue change of an acquiring write on {@code record} that leaves {@code after} queued;
     * null when there is no queue at all, so that an uncontended acquisition writes the lock alone.
     */
    static @Nullable QueueChange change(LockRecord record, LockQueue after) {
        String text = record.queue().storedText();
        return record.queue().isEmpty() && (text == null || text.isBlank())
                ? null
                : QueueChange.between(record.queue(), after);
    }

    /**
     * A tryAcquire's attempt: a queue with a live entry (this instance's own included: another of
     * its threads waits there) declines, and the write removes the entries judged dead.
     */
    Attempt tryAttempt(LockTarget target, LockRecord record, long readStart, long readEnd) throws InterruptedException {
        LockStates.requireLock(target, record);
        LockQueue queue = record.queue();
        session.listeners.queueObserved(target, queue.size());
        QueueJudge.Verdict verdict = judge.judge(target, queue, null, readStart, readEnd);
        if (!verdict.nobodyAliveAhead(queue, session.holder)) {
            return new Attempt.Declined("waiters are queued", engine.holdExpiresIn(target, record, readStart, readEnd));
        }
        return engine.attempt(
                target, record, readStart, readEnd, change(record, queue.withoutAll(verdict.deadWaiters())));
    }

    /**
     * An acquire's wait in the queue until its attempt wins; an acquire that ends otherwise
     * (timeout, interrupt, close, an error) leaves the queue before its exception goes on.
     */
    Attempt.Won await(
            LockTarget target,
            TargetObserver observer,
            long deadlineNanos,
            Function<LockRecord, LockTimeoutException> onTimeout)
            throws InterruptedException {
        FairWait wait = new FairWait(engine, session, judge, target, line);
        try {
            return observer.await(wait, deadlineNanos, onTimeout);
        } catch (InterruptedException | RuntimeException | Error e) {
            wait.leave();
            throw e;
        } finally {
            wait.endTurn(observer);
        }
    }

    /**
     * The acquiring write (or takeover) of the hold {@code desired} that also tests the queue's text
     * and writes the queue {@code change} gives, in one conditional write.
     */
    static boolean write(
            LockBackend backend,
            LockTarget target,
            LockFields observed,
            LockFields desired,
            QueueChange change,
            boolean takeover)
            throws InterruptedException {
        return takeover
                ? backend.takeOver(target, observed, desired, change)
                : backend.compareAndSet(target, observed, desired, change);
    }
}
