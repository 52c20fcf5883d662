package io.github.replicalock.testkit.internal;

import static io.github.replicalock.testkit.internal.RunLog.at;
import static io.github.replicalock.testkit.internal.RunLog.describe;
import static io.github.replicalock.testkit.internal.RunLog.seconds;
import static io.github.replicalock.testkit.internal.RunLog.since;
import static io.github.replicalock.testkit.internal.RunLog.stackOf;

import io.github.replicalock.LockException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The lock's invariants (numbered as in {@code docs/reliability.md}): checked at the instant of
 * each write (an older holder may believe for at most a lease), and once the scripts are done on
 * the cluster's write history, on what every client believes, and for liveness and leaks.
 */
final class Invariants {
    private final SimulationPlan plan;
    private final LockOptions options;
    private final VirtualClock clock;
    private final RunLog log;
    private final QueueInvariants queue;

    private final List<Tracked> tracked = new CopyOnWriteArrayList<>();
    /** Which client each acquisition or takeover token went to. */
    private final Map<Long, String> tokenOwners = new ConcurrentHashMap<>();
    /** The tokens of the holds an operator force-released. */
    private final Set<Long> forceReleasedTokens = ConcurrentHashMap.newKeySet();

    private volatile long highestToken;
    /** When the last "told within a lease" check runs, on the shared clock. */
    private volatile long lastStaleCheck = Long.MIN_VALUE;

    Invariants(SimulationPlan plan, VirtualClock clock, RunLog log) {
        this.plan = plan;
        this.options = plan.options;
        this.clock = clock;
        this.log = log;
        this.queue = new QueueInvariants(log);
    }

    /** The fair queue's invariants. */
    QueueInvariants queue() {
        return queue;
    }

    /** The cluster's write listener: on the writer's thread, at the instant of the write. */
    void onWrite(LockWrite write) {
        LockFields before = write.before();
        LockFields after = write.after();
        log.trace(at(write.time()) + " " + write.client() + " wrote " + describe(before) + " -> " + describe(after));
        checkForceRelease(write);
        if (after.token() <= before.token()) {
            return;
        }
        long token = after.token();
        tokenOwners.put(token, write.client());
        highestToken = Math.max(highestToken, token);
        for (Tracked older : tracked) {
            if (older.token < token && older.lock.isHeld()) {
                // Allowed for at most a lease (invariant 1); counted, and checked again below. After a
                // legacy scale to 0 the old holder learns at its next renewal; a takeover should find
                // it knowing already, unless its last renewal took longer than the grace.
                String how = before.replicas() == 0 ? "acquisition from free" : "takeover";
                log.count("old holder still believed at " + how);
                log.trace(at(write.time()) + " client-" + older.client + " still believes it holds token " + older.token
                        + " at the " + how + " of token " + token);
            }
        }
        Duration supersededAt = since(write.time());
        lastStaleCheck = Math.max(
                lastStaleCheck, clock.nanoTime() + options.leaseDuration().toNanos());
        clock.schedule(options.leaseDuration(), () -> {
            for (Tracked older : tracked) {
                if (older.token < token && older.lock.isHeld()) {
                    log.violation("mutual exclusion: client-" + older.client + " still believes it holds token "
                            + older.token + " a whole lease (" + options.leaseDuration() + ") after token " + token
                            + " was handed out at " + seconds(supersededAt));
                }
            }
        });
    }

    /**
     * A force-release breaks only the hold it recorded (docs/lock-protocol.md section 10.8): replicas
     * 1 to 0, token kept, holder and token those of the record; and no other write removes or
     * changes the record.
     */
    private void checkForceRelease(LockWrite write) {
        LockFields before = write.before();
        LockFields after = write.after();
        ForceRelease act = after.forceReleased();
        if (Objects.equals(act, before.forceReleased())) {
            return;
        }
        if (act == null) {
            log.violation(write.client() + " removed the force-release record " + before.forceReleased());
            return;
        }
        if (before.replicas() != 1
                || after.replicas() != 0
                || before.token() != act.token()
                || after.token() != before.token()
                || !Objects.equals(before.holder(), act.holder())) {
            log.violation(write.client() + " force-released " + describe(before) + " -> " + describe(after)
                    + ", which is not the hold its record names: " + act.text().replace('\n', ' '));
            return;
        }
        forceReleasedTokens.add(act.token());
    }

    /** What a holder was told when its lock was lost; judged by {@link #checkToldLost()} at the end. */
    private record ToldLost(String client, long token, String message) {}

    private final List<ToldLost> toldLost = new CopyOnWriteArrayList<>();

    /** Records what a holder was told; see {@link #checkToldLost()}. */
    void onToldLost(String client, long token, String message) {
        toldLost.add(new ToldLost(client, token, message));
    }

    /**
     * A loss blamed on a force-release must follow one of that token (another cause may be told
     * first, such as a lease that ran out while the holder was paused). Judged once every write has
     * been delivered: the holder may read a force-release before the write listener has seen it.
     */
    private void checkToldLost() {
        for (ToldLost told : toldLost) {
            boolean blamesOperator = told.message().contains("force-released by " + ChaosPlayer.OPERATOR);
            boolean forceReleased = forceReleasedTokens.contains(told.token());
            if (blamesOperator && !forceReleased) {
                log.violation(told.client() + " was told its token " + told.token()
                        + " was force-released, which it was not: " + told.message());
            }
            if (forceReleased) {
                log.count(
                        blamesOperator
                                ? "told force-released, with the reason"
                                : "told lost otherwise, then force-released");
            }
        }
    }

    /** The highest token handed out so far. */
    long highestToken() {
        return highestToken;
    }

    /** The client a write handed {@code token} to, if any did. */
    @Nullable
    String ownerOf(long token) {
        return tokenOwners.get(token);
    }

    /** Follows a lock a client got, for the checks of belief and release. */
    Tracked track(int client, ReplicaLock lock) {
        Tracked held = new Tracked(client, lock, lock.fencingToken());
        tracked.add(held);
        return held;
    }

    /** A crashed client may believe until its lease runs out: waits until every such check has run. */
    void awaitPendingChecks() throws InterruptedException {
        long checksDone = lastStaleCheck;
        if (checksDone != Long.MIN_VALUE) {
            ClockThreads.sleepUntil(clock, checksDone);
        }
    }

    /**
     * Invariant 4: once every holder has crashed or released (and the faults are cleared), a waiting
     * client gets the lock within lease + grace + one renew interval (plus the pods' termination
     * delay).
     */
    void liveness(FakeCluster fake, LockTarget lock) throws InterruptedException {
        // As stored: whole seconds, rounded up.
        Duration lease = Duration.ofSeconds(
                options.leaseDuration().plusNanos(999_999_999).toSeconds());
        // Plus the waiter lease and grace: entries of waiters that died are judged dead (section 10.3).
        Duration bound = lease.plus(options.takeoverGrace())
                .plus(options.renewInterval())
                .plus(plan.podTerminationDelay)
                .plus(QueueInvariants.DEAD_ENTRIES_DELAY);
        Duration from = clock.elapsed();
        log.trace(
                log.now() + " liveness: every holder crashed or released; a waiter must get the lock within " + bound);
        try (ReplicaLocks finisher = fake.locks("finisher").options(options).build()) {
            ReplicaLock last;
            try {
                last = finisher.acquire(lock, bound);
            } catch (LockException e) {
                log.violation("liveness: a waiting client did not get the lock within " + bound + " of " + seconds(from)
                        + ": " + e.getMessage());
                return;
            }
            log.count("liveness: waits");
            log.count("liveness: waited ms", clock.elapsed().minus(from).toMillis());
            try {
                last.close();
            } catch (LockException e) {
                log.violation("liveness: the waiter's lock could not be released: " + e);
            }
        }
    }

    /** After every client closed: nothing leaks, nobody believes, and the write history holds. */
    void finalChecks(FakeCluster fake, LockTarget lock) {
        checkToldLost();
        // Invariant 5: nothing leaks.
        DeploymentSnapshot end = fake.deployment(lock);
        LockFields endFields = storedFields(end);
        if (end.replicas() != 0
                || endFields == null
                || endFields.holder() != null
                || !end.pods().isEmpty()) {
            log.violation("leak: after every client closed, the deployment is " + end.ready() + " with holder '"
                    + end.annotations().get(LockFields.HOLDER_ANNOTATION) + "' and pods " + end.pods());
        }
        for (Tracked held : tracked) {
            if (held.lock.isHeld()) {
                log.violation(
                        "client-" + held.client + " still believes it holds token " + held.token + " after closing");
            }
            if (held.released && held.lostAt != null) {
                log.violation("client-" + held.client + "'s lost-listener ran (at " + held.lostAt + ") for token "
                        + held.token + " although close() released it normally");
            }
        }
        for (Throwable failure : clock.taskFailures()) {
            log.violation("a clock task failed: " + stackOf(failure));
        }
        checkHistory(fake.lockWrites());
        queue.checkHistory(fake.queueWrites(lock));
        queue.checkEmpty(fake, lock);
    }

    /** Invariants 2 and 3, and takeover timing, from the cluster's history. */
    private void checkHistory(List<LockWrite> writes) {
        long highest = 0;
        Set<Long> tokens = new HashSet<>();
        Instant start = VirtualClock.DEFAULT_START;
        Instant lastHoldChange = start;
        for (LockWrite write : writes) {
            LockFields before = write.before();
            LockFields after = write.after();
            String client = write.client();
            String where = at(write.time()) + " " + client + " " + describe(before) + " -> " + describe(after);
            if (after.token() < before.token()) {
                log.violation("token went backwards: " + where);
            }
            if (after.token() != before.token()) {
                if (after.token() <= highest || !tokens.add(after.token())) {
                    log.violation("token " + after.token() + " handed out again or out of order: " + where);
                }
                highest = Math.max(highest, after.token());
            }
            if (!client.equals(FakeCluster.KUBECTL)) {
                checkClientWrite(write, where, lastHoldChange);
            }
            if (!Objects.equals(before.holder(), after.holder())
                    || before.token() != after.token()
                    || !Objects.equals(before.renewed(), after.renewed())) {
                lastHoldChange = write.time();
            }
        }
        for (Tracked held : tracked) {
            if (!tokens.contains(held.token)) {
                log.violation("client-" + held.client + " got token " + held.token + " that no write handed out");
            }
        }
        log.count("lock writes", writes.size());
    }

    private void checkClientWrite(LockWrite write, String where, Instant lastHoldChange) {
        LockFields before = write.before();
        LockFields after = write.after();
        String client = write.client();
        if (before.replicas() == 0 && after.replicas() == 1) {
            log.count("acquisition");
            if (!client.equals(after.holder()) || after.token() != before.token() + 1) {
                log.violation("bad acquisition: " + where);
            }
        } else if (before.replicas() == 1 && after.replicas() == 1 && before.token() != after.token()) {
            log.count("takeover");
            // Its own earlier hold too: a lock it lost (lease ran out) is forgotten, and may be taken over.
            if (!client.equals(after.holder()) || after.token() != before.token() + 1) {
                log.violation("bad takeover: " + where);
            }
            Duration lease = before.holder() == null ? options.foreignLease().orElse(null) : before.lease();
            if (lease == null) {
                log.violation("takeover of a hold that never expires: " + where);
            } else {
                Duration unchangedFor = Duration.between(lastHoldChange, write.time());
                Duration required = lease.plus(options.takeoverGrace());
                if (unchangedFor.compareTo(required) < 0) {
                    log.violation("early takeover: the hold had not changed for only " + unchangedFor
                            + ", less than its lease plus grace " + required + ": " + where);
                }
            }
        } else if (before.replicas() == 1 && after.replicas() == 1) {
            log.count("renewal");
            if (!client.equals(before.holder()) || !Objects.equals(before.holder(), after.holder())) {
                log.violation("renewal by someone who is not the holder: " + where);
            }
        } else if (before.replicas() == 1
                && after.replicas() == 0
                && client.equals(ChaosPlayer.OPERATOR)
                && after.forceReleased() != null
                && !Objects.equals(after.forceReleased(), before.forceReleased())) {
            // Invariant 3's one exception, an operator's audited break: checkForceRelease judged it.
            log.count("force-release");
        } else if (before.replicas() == 1 && after.replicas() == 0) {
            log.count("release");
            // Invariant 3: nobody releases a lock it does not hold.
            if (!client.equals(before.holder()) || after.holder() != null || after.token() != before.token()) {
                log.violation("foreign release: " + where);
            }
        } else {
            log.violation("unexpected write by a client: " + where);
        }
    }

    /** The lock fields as every backend reads them, or null if the annotations do not parse. */
    static @Nullable LockFields storedFields(DeploymentSnapshot deployment) {
        try {
            return LockAnnotations.parse(deployment.target(), deployment.replicas(), deployment.annotations());
        } catch (LockTargetInvalidException e) {
            return null;
        }
    }

    /** A lock a client got, and what became of it. */
    static final class Tracked {
        final int client;
        final ReplicaLock lock;
        final long token;
        volatile @Nullable String lostAt;
        volatile boolean released;

        Tracked(int client, ReplicaLock lock, long token) {
            this.client = client;
            this.lock = lock;
            this.token = token;
        }
    }
}
