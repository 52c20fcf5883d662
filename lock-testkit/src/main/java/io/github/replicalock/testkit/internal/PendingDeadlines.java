package io.github.replicalock.testkit.internal;

import java.time.Duration;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The virtual clock's pending deadlines: timers not yet due and waits not yet over, earliest first,
 * ties in registration order. Guarded by the clock's lock: every method but the static ones is
 * called with it held.
 */
final class PendingDeadlines {
    /** Pending deadlines listed by {@link #describe}. */
    private static final int MAX_DIAGNOSED = 40;

    private final TreeSet<Entry> entries = new TreeSet<>();
    /** Signalled when a deadline is added or the clock closes: the driver blocks on it when none is pending. */
    private final Condition added;

    private long sequence;

    PendingDeadlines(ReentrantLock clockLock) {
        this.added = clockLock.newCondition();
    }

    /** The number that orders an entry among those with the same deadline. */
    long nextSequence() {
        return sequence++;
    }

    void add(Entry entry) {
        entries.add(entry);
        added.signalAll();
    }

    void remove(Entry entry) {
        entries.remove(entry);
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The earliest deadline; only when not {@link #isEmpty()}. */
    long earliest() {
        return entries.first().deadline;
    }

    /** Removes and returns the earliest entry if its deadline is at most {@code deadline}. */
    @Nullable
    Entry pollDueBy(long deadline) {
        return !entries.isEmpty() && entries.first().deadline <= deadline ? entries.pollFirst() : null;
    }

    /** Blocks until a deadline is added or the clock closes (or spuriously). */
    void awaitAdded() {
        added.awaitUninterruptibly();
    }

    /** The clock closed: every entry is abandoned and forgotten. */
    void abandonAll() {
        for (Entry entry : entries) {
            entry.abandon();
        }
        entries.clear();
        added.signalAll();
    }

    void describe(StringBuilder s) {
        s.append("\n  pending deadlines (").append(entries.size()).append("):");
        int shown = 0;
        for (Entry entry : entries) {
            if (shown++ == MAX_DIAGNOSED) {
                s.append("\n    ...");
                break;
            }
            s.append("\n    +")
                    .append(Duration.ofNanos(entry.deadline))
                    .append(' ')
                    .append(entry);
        }
    }

    static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow only when both have the same sign and the sum's sign differs.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return sum;
    }

    /** A timer or a wait, at a deadline in virtual nanoseconds since the clock's start. */
    abstract static class Entry implements Comparable<Entry> {
        final long deadline;
        final long sequence;

        Entry(long deadline, long sequence) {
            this.deadline = deadline;
            this.sequence = sequence;
        }

        /** Time reached the deadline: a timer becomes due, a waiter is woken. Clock lock held. */
        abstract void fire();

        /** The clock closed before the deadline. Clock lock held. */
        abstract void abandon();

        @Override
        public final int compareTo(Entry other) {
            int byDeadline = Long.compare(deadline, other.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
        }

        // Identity is right: sequence numbers are unique, so compareTo is 0 only for the same entry.
        @Override
        public final boolean equals(@Nullable Object o) {
            return this == o;
        }

        @Override
        public final int hashCode() {
            return Long.hashCode(sequence);
        }
    }
}
