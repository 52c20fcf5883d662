package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueEntry;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.QueueWrite;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The fair queue's invariants (docs/lock-protocol.md section 10.9), beside {@link Invariants}:
 * arrival order among live waiters, checked on the history of queue writes; a waiter that leaves
 * leaves nothing; no entry outlives the run once the finisher has acquired.
 */
final class QueueInvariants {
    /**
     * The engine's waiter grace (section 10.3): an entry unchanged for its lease plus this, on the
     * judge's clock, is dead. Every clock of a simulation runs at the virtual clock's rate.
     */
    static final Duration WAITER_GRACE = Duration.ofSeconds(1);

    /**
     * How much longer than the hold's the liveness bound is: dead entries ahead of the finisher expire
     * first, on the longest lease a waiter promises (20 s, further back than the first three live
     * entries: section 10.3).
     */
    static final Duration DEAD_ENTRIES_DELAY = Duration.ofSeconds(20).plus(WAITER_GRACE);

    private final RunLog log;

    QueueInvariants(RunLog log) {
        this.log = log;
    }

    /**
     * Arrival order: when a write acquires the lock and changes the queue, every entry ahead of the
     * writer in the queue it tested (every entry, if the writer was not queued) had kept its text for
     * at least its lease plus the grace: dead by the rule of section 10.5, never a live waiter
     * overtaken.
     */
    void checkHistory(List<QueueWrite> writes) {
        Map<String, Instant> unchangedSince = new HashMap<>();
        Map<String, QueueEntry> current = new HashMap<>();
        for (QueueWrite write : writes) {
            LockWrite lock = write.lockWrite();
            if (lock != null && lock.after().token() > lock.before().token()) {
                String winner = lock.after().holder();
                for (QueueEntry ahead : write.before().entries()) {
                    if (ahead.waiter().equals(winner)) {
                        break;
                    }
                    Instant since = unchangedSince.getOrDefault(ahead.waiter(), write.time());
                    Duration unchanged = Duration.between(since, write.time());
                    if (unchanged.compareTo(ahead.lease().plus(WAITER_GRACE)) < 0) {
                        log.violation("arrival order: " + RunLog.at(write.time()) + " " + winner + " (token "
                                + lock.after().token() + ") acquired ahead of live waiter '" + ahead.waiter()
                                + "', whose entry had changed " + RunLog.seconds(unchanged) + " before");
                    }
                }
            }
            for (QueueEntry entry : write.after().entries()) {
                if (!entry.equals(current.get(entry.waiter()))) {
                    current.put(entry.waiter(), entry);
                    unchangedSince.put(entry.waiter(), write.time());
                }
            }
            current.keySet()
                    .retainAll(write.after().entries().stream()
                            .map(QueueEntry::waiter)
                            .toList());
            unchangedSince.keySet().retainAll(current.keySet());
        }
    }

    /** A waiter that left (timed out, interrupted, closed) leaves no entry of its identity. */
    void checkLeft(FakeCluster cluster, LockTarget target, String waiter, String how) {
        LockQueue queue = queueOf(cluster.deployment(target));
        if (queue != null && queue.contains(waiter)) {
            log.violation("a waiter that leaves leaves nothing: " + waiter + " ended its acquire (" + how
                    + ") but its entry is still queued: " + queue);
        }
    }

    /**
     * Once every client has closed and the finisher has acquired and released, no entry is left:
     * dead entries were removed by the finisher's acquiring write at the latest.
     */
    void checkEmpty(FakeCluster cluster, LockTarget target) {
        LockQueue queue = queueOf(cluster.deployment(target));
        if (queue == null) {
            log.violation("the queue annotation does not parse at the end: "
                    + cluster.deployment(target).annotations().get(LockQueue.ANNOTATION));
        } else if (!queue.isEmpty()) {
            log.violation("dead entries outlived the run: " + queue);
        } else {
            List<String> renewals = cluster.deployment(target).annotations().keySet().stream()
                    .filter(key -> key.startsWith(LockQueue.RENEWAL_ANNOTATION_PREFIX))
                    .toList();
            if (!renewals.isEmpty()) {
                log.violation("renewal annotations outlived their entries: " + renewals);
            }
        }
    }

    private static @Nullable LockQueue queueOf(DeploymentSnapshot deployment) {
        try {
            return LockQueue.parse(deployment.target(), deployment.annotations());
        } catch (LockTargetInvalidException e) {
            return null;
        }
    }
}
