package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Judges the queue's entries dead on this process's monotonic clock, as {@link ExpiryTracker}
 * judges holds (docs/lock-protocol.md section 10.5): an entry is dead when its text has not changed
 * for longer than its lease plus the waiter grace, counted from when this process first saw that
 * text. An entry seen for the first time is alive, dated at the read's end; one seen again is
 * judged at the read's start, so a pause after a read proves nothing against a renewing waiter.
 */
final class QueueJudge {
    /**
     * How long a waiter near the front of the queue promises to go without renewing its entry
     * (section 10.3): a dead one there holds a release up for at most this plus the grace.
     */
    static final Duration WAITER_LEASE = Duration.ofSeconds(2);
    /**
     * The promise of a waiter further back, which no release waits for until everyone ahead of it is
     * gone: renewing every 2/3 s there too would make 32 waiters write the Deployment 48 times a
     * second, more than a real API server serves on one object (docs/benchmarks.md, scenario 7).
     */
    static final Duration BACK_LEASE = Duration.ofSeconds(20);
    /** How many live entries may be ahead of a waiter that promises {@link #WAITER_LEASE}. */
    static final int FRONT = 3;
    /** Added to an entry's lease before it is judged dead: one renewal's latency and retries. */
    static final Duration WAITER_GRACE = Duration.ofSeconds(1);

    /** The lease a waiter promises with {@code liveAhead} live entries ahead of it. */
    static Duration leaseAt(int liveAhead) {
        return liveAhead < FRONT ? WAITER_LEASE : BACK_LEASE;
    }

    /** A waiter renews its entry every third of the lease it promised, as a holder renews its hold. */
    static long renewEveryNanos(Duration lease) {
        return lease.toNanos() / 3;
    }

    private record Sighting(QueueEntry entry, long firstSeenNanos) {}

    /** What one read of the queue showed: nanoseconds left to each entry, at most 0 when dead. */
    record Verdict(Map<String, Long> remainingNanos) {
        boolean dead(String waiter) {
            Long left = remainingNanos.get(waiter);
            return left != null && left <= 0;
        }

        Set<String> deadWaiters() {
            Set<String> dead = new HashSet<>();
            remainingNanos.forEach((waiter, left) -> {
                if (left <= 0) {
                    dead.add(waiter);
                }
            });
            return dead;
        }

        /** True when every entry ahead of {@code self} (every entry if it is not queued) is dead. */
        boolean nobodyAliveAhead(LockQueue queue, String self) {
            return liveAhead(queue, self) == 0;
        }

        /** How many entries ahead of {@code self} (every entry, if it is not queued) are not dead. */
        int liveAhead(LockQueue queue, String self) {
            int live = 0;
            for (QueueEntry entry : queue.entries()) {
                if (entry.waiter().equals(self)) {
                    break;
                }
                if (!dead(entry.waiter())) {
                    live++;
                }
            }
            return live;
        }

        /** The nanoseconds until the first live entry ahead of {@code self} would be dead; NEVER for none. */
        long nextDeathAhead(LockQueue queue, String self) {
            long next = ExpiryTracker.NEVER;
            for (QueueEntry entry : queue.entries()) {
                if (entry.waiter().equals(self)) {
                    break;
                }
                long left = remainingNanos.getOrDefault(entry.waiter(), ExpiryTracker.NEVER);
                if (left > 0) {
                    next = Math.min(next, left);
                }
            }
            return next;
        }
    }

    private final ConcurrentMap<LockTarget, Map<String, Sighting>> sightings = new ConcurrentHashMap<>();

    /**
     * Notes what a read from {@code readStartNanos} to {@code readEndNanos} showed of {@code queue}
     * and judges every entry but {@code self}'s (a waiter never judges itself).
     */
    Verdict judge(LockTarget target, LockQueue queue, @Nullable String self, long readStartNanos, long readEndNanos) {
        Map<String, Long> remaining = new HashMap<>();
        long graceNanos = WAITER_GRACE.toNanos();
        sightings.compute(target, (t, previous) -> {
            Map<String, Sighting> next = new HashMap<>();
            for (QueueEntry entry : queue.entries()) {
                if (entry.waiter().equals(self)) {
                    continue;
                }
                Sighting before = previous == null ? null : previous.get(entry.waiter());
                Sighting now =
                        before != null && before.entry().equals(entry) ? before : new Sighting(entry, readEndNanos);
                next.put(entry.waiter(), now);
                long allowed = Durations.saturatedNanos(entry.lease()) + graceNanos;
                remaining.put(entry.waiter(), allowed - (readStartNanos - now.firstSeenNanos()));
            }
            return next.isEmpty() ? null : next;
        });
        return new Verdict(Map.copyOf(remaining));
    }
}
