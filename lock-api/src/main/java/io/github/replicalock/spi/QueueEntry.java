package io.github.replicalock.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One waiter in the {@link LockQueue}: who waits, since when, and the lease of its entry, which it
 * renews while it waits so that a dead waiter drops out (see {@code docs/lock-protocol.md} section
 * 10). The entry is stored in two places: its line in the queue annotation (enqueued, waiter),
 * written when it joins, and its own renewal annotation ({@link
 * LockQueue#renewalAnnotation}), rewritten by every renewal, so that renewing tests and writes
 * nothing another waiter writes. Two entries are equal when both texts are: a judge that sees an
 * entry unchanged on its own clock for longer than the entry's lease plus its grace removes it.
 *
 * <pre>{@code
 * QueueEntry mine = QueueEntry.joining("build-42", clock.wallTime(), Duration.ofSeconds(2));
 * LockQueue next = queue.enqueue(mine);
 * // every lease/3 while waiting:
 * next = next.renew("build-42", clock.wallTime());
 * }</pre>
 *
 * @param waiter the waiter's holder identity, as written (never trimmed): 1 to 253 characters, not
 *     blank, no control character
 * @param enqueued the waiter's wall-clock instant when it joined; for people ("waiting for 4 min")
 * @param renewed the waiter's last renewal, {@code enqueued} until the first; only its changes
 *     count, not its value
 * @param lease how long the waiter promises to go without renewing at most, as of its last renewal
 *     ({@link LockQueue#UNRENEWED_LEASE} for a line without a renewal); rounded up to whole seconds
 *     at construction, as it is stored
 */
public record QueueEntry(String waiter, Instant enqueued, Instant renewed, Duration lease) {

    /**
     * Validates the entry, rounding the lease up to whole seconds.
     *
     * @throws IllegalArgumentException if the waiter is not a valid identity or the lease is not
     *     positive, naming the value
     */
    public QueueEntry {
        Objects.requireNonNull(waiter, "waiter");
        Objects.requireNonNull(enqueued, "enqueued");
        Objects.requireNonNull(renewed, "renewed");
        Objects.requireNonNull(lease, "lease");
        if (!LockAnnotations.isIdentity(waiter)) {
            throw new IllegalArgumentException("waiter '" + waiter + "' must be 1 to "
                    + LockAnnotations.MAX_IDENTITY_LENGTH + " characters, not blank, without control characters");
        }
        // The rounding rule and the "positive" check are the hold's lease's (LockAnnotations).
        lease = Duration.ofSeconds(Long.parseLong(LockAnnotations.leaseText(lease)));
    }

    /** A waiter that joins the queue {@code now}: enqueued and renewed at {@code now}. */
    public static QueueEntry joining(String waiter, Instant now, Duration lease) {
        return new QueueEntry(waiter, now, now, lease);
    }

    /**
     * The same entry renewed at {@code now}. Its text always changes, even if the wall clock has not
     * moved or stepped back ({@code renewed} then moves 1 ms past the previous value): a renewal that
     * left the text unchanged would look like a dead waiter to every judge.
     */
    public QueueEntry renewedAt(Instant now) {
        return renewedAt(now, lease);
    }

    /**
     * The same entry renewed at {@code now} with the promise of {@code lease} from now on (a waiter
     * that moved to the front of the queue promises a shorter one). Its renewal text always changes,
     * as for {@link #renewedAt(Instant)}.
     */
    public QueueEntry renewedAt(Instant now, Duration lease) {
        Objects.requireNonNull(now, "now");
        Instant next = now.isAfter(renewed) ? now : renewed.plusMillis(1);
        return new QueueEntry(waiter, enqueued, next, lease);
    }

    /**
     * The entry's line in the queue annotation: {@code <enqueued> <waiter>}. The lease is not part
     * of it: a waiter changes its promise with its renewals, which never rewrite the order.
     */
    String line() {
        return LockAnnotations.instantText(enqueued) + " " + waiter;
    }

    /**
     * The value of the entry's {@linkplain LockQueue#renewalAnnotation renewal annotation}: {@code
     * <renewed> <lease-seconds> <waiter>}.
     */
    String renewalText() {
        return LockAnnotations.instantText(renewed) + " " + lease.getSeconds() + " " + waiter;
    }
}
