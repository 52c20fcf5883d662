package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.SimulationReport;
import io.github.replicalock.testkit.VirtualClock;
import io.github.replicalock.testkit.internal.SimulationPlan.Acquire;
import io.github.replicalock.testkit.internal.SimulationPlan.Chaos;
import io.github.replicalock.testkit.internal.SimulationPlan.Hold;
import io.github.replicalock.testkit.internal.SimulationPlan.Idle;
import io.github.replicalock.testkit.internal.SimulationPlan.Op;
import io.github.replicalock.testkit.internal.SimulationPlan.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Plays one {@link SimulationPlan} against real {@link ReplicaLocks} clients on a fake cluster in
 * virtual time, and checks the lock's invariants on the cluster's write history and on what the
 * clients believe. One use per instance.
 */
public final class SimulationRun {
    private static final System.Logger LOG = System.getLogger(SimulationRun.class.getName());
    private static final String NAMESPACE = "sim";
    private static final String NAME = "builder";
    private static final int MAX_VIOLATIONS = 20;
    private static final int MAX_TRACE = 400;
    /** Virtual time a run never takes unless it stalls. */
    private static final Duration HORIZON = Duration.ofHours(2);

    private final SimulationPlan plan;
    private final LockOptions options;
    private final Duration quietPeriod;
    private final Duration realTimeLimit;

    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final List<Tracked> tracked = new CopyOnWriteArrayList<>();
    /** Which client each acquisition or takeover token went to. */
    private final Map<Long, String> tokenOwners = new ConcurrentHashMap<>();
    /** Legacy runs that scaled to 1, so that only their own cleanup scales to 0. */
    private final Set<Integer> legacyRunsHolding = ConcurrentHashMap.newKeySet();

    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean watchdogFired;
    private volatile long highestToken;
    /** When the last "told within a lease" check runs, on the shared clock. */
    private volatile long lastStaleCheck = Long.MIN_VALUE;

    private volatile @Nullable Thread chaosThread;
    private @Nullable VirtualClock clock;
    private @Nullable FakeCluster cluster;
    private @Nullable LockTarget target;
    private LockClock.@Nullable Wakeup finished;
    private final List<Client> clients = new ArrayList<>();

    public SimulationRun(SimulationPlan plan, Duration quietPeriod, Duration realTimeLimit) {
        this.plan = plan;
        this.options = plan.options;
        this.quietPeriod = quietPeriod;
        this.realTimeLimit = realTimeLimit;
    }

    /** Runs the plan and checks it; never throws for what the lock does, only reports. */
    public SimulationReport run() {
        VirtualClock time =
                VirtualClock.builder().autoAdvance().quietPeriod(quietPeriod).build();
        clock = time;
        CountDownLatch done = new CountDownLatch(1);
        Thread watchdog = new Thread(() -> watch(done, time), "simulation-watchdog-" + plan.seed);
        watchdog.setDaemon(true);
        watchdog.start();
        try (FakeCluster fake = FakeCluster.builder()
                .clock(time)
                .podReadyDelay(plan.podReadyDelay)
                .podTerminationDelay(plan.podTerminationDelay)
                .onLockWrite(this::onWrite)
                .build()) {
            cluster = fake;
            target = fake.createDeployment(NAMESPACE, NAME);
            play(time, fake);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            violation("the simulation was interrupted");
        } catch (RuntimeException e) {
            violation("the simulation itself failed: " + stackOf(e));
        } finally {
            for (Client client : clients) {
                client.clientClock.stop();
            }
            time.close();
            done.countDown();
        }
        Map<String, Long> counted = new TreeMap<>();
        counts.forEach((k, v) -> counted.put(k, v.sum()));
        List<String> lines = traceLines();
        return new SimulationReport(
                plan.seed, plan.describe(), violations, counted, plan.operations(), time.elapsed(), lines);
    }

    private void play(VirtualClock time, FakeCluster fake) throws InterruptedException {
        LockTarget lock = Objects.requireNonNull(target);
        long horizon = time.nanoTime() + HORIZON.toNanos();
        finished = time.newWakeup();
        CountDownLatch started = new CountDownLatch(2 * plan.clients + 1);
        // A due task holds virtual time still, without burning a core, until every new thread has
        // touched the clock and holds it still by itself.
        time.schedule(Duration.ZERO, () -> awaitStarted(started));
        for (int i = 0; i < plan.clients; i++) {
            clients.add(new Client(i, fake, started));
        }
        for (Client client : clients) {
            client.clientClock.start(started);
        }
        running.set(plan.clients + 1);
        for (Client client : clients) {
            client.thread.start();
        }
        Thread chaos = new Thread(() -> chaos(started), "simulation-chaos");
        chaos.setDaemon(true);
        chaosThread = chaos;
        chaos.start();
        LockClock.Wakeup allDone = Objects.requireNonNull(finished);
        while (running.get() > 0) {
            if (!allDone.awaitUntil(horizon)) {
                String state = "\n" + time.diagnostics() + threadDump();
                violation("stalled: virtual time reached " + HORIZON + " with " + running.get() + " threads busy"
                        + state);
                // Also in the log: a run that counts the stall apart prints the seed in one line only.
                LOG.log(
                        System.Logger.Level.WARNING,
                        "simulation seed " + plan.seed + " stalled: virtual time reached " + HORIZON + state
                                + "\n  trace (latest last):\n    " + String.join("\n    ", traceLines()));
                return;
            }
        }
        liveness(time, fake, lock);
        for (Client client : clients) {
            client.locks.close();
        }
        // A crashed client may believe until its lease runs out: let every pending check run first.
        long checksDone = lastStaleCheck;
        if (checksDone != Long.MIN_VALUE) {
            sleepUntil(checksDone);
        }
        finalChecks(time, fake, lock);
    }

    // ---------------------------------------------------------------- invariants at the instant of a write

    /** The cluster's write listener: on the writer's thread, at the instant of the write. */
    private void onWrite(LockWrite write) {
        LockFields before = write.before();
        LockFields after = write.after();
        trace(at(write.time()) + " " + write.client() + " wrote " + describe(before) + " -> " + describe(after));
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
                count("old holder still believed at " + how);
                trace(at(write.time()) + " client-" + older.client + " still believes it holds token " + older.token
                        + " at the " + how + " of token " + token);
            }
        }
        Duration supersededAt = since(write.time());
        lastStaleCheck = Math.max(
                lastStaleCheck,
                Objects.requireNonNull(clock).nanoTime()
                        + options.leaseDuration().toNanos());
        Objects.requireNonNull(clock).schedule(options.leaseDuration(), () -> {
            for (Tracked older : tracked) {
                if (older.token < token && older.lock.isHeld()) {
                    violation("mutual exclusion: client-" + older.client + " still believes it holds token "
                            + older.token + " a whole lease (" + options.leaseDuration() + ") after token " + token
                            + " was handed out at " + seconds(supersededAt));
                }
            }
        });
    }

    // ---------------------------------------------------------------- clients

    /** A simulated process: its own clock, backend, ReplicaLocks, script thread and scheduler thread. */
    private final class Client {
        final int index;
        final String name;
        final FakeBackend fake;
        final ClientClock clientClock;
        final ReplicaLocks locks;
        final List<Op> script;
        final Thread thread;
        // Guarded by this.
        private long acquiring;
        private long operations;
        private int cuts;
        private boolean crashed;
        private volatile boolean ended;

        private final CountDownLatch started;

        Client(int index, FakeCluster fake, CountDownLatch started) {
            this.started = started;
            this.index = index;
            this.name = "client-" + index;
            this.fake = fake.backend(name);
            LockClock shared = Objects.requireNonNull(clock);
            this.clientClock = new ClientClock(
                    shared, name, plan.wallSkewNanos[index], plan.monotonicOffsetNanos[index], this::problem);
            this.locks = ReplicaLocks.builder()
                    .backend(new ClientBackend(this.fake, clientClock))
                    .clock(clientClock)
                    .holder(name)
                    .options(options)
                    .shutdownHook(false)
                    .build();
            this.script = plan.scripts.get(index);
            this.thread = new Thread(this::run, "simulation-" + name);
            thread.setDaemon(true);
        }

        private void run() {
            try {
                try {
                    clientClock.nanoTime(); // a participant of virtual time from now on
                } finally {
                    started.countDown();
                }
                for (Op op : script) {
                    if (ended) {
                        break;
                    }
                    if (op instanceof Idle idle) {
                        sleep(idle.duration());
                    } else if (op instanceof Status) {
                        status();
                    } else if (op instanceof Acquire acquire) {
                        acquire(acquire);
                    }
                }
            } catch (InterruptedException e) {
                violation(name + ": interrupted outside an acquire: " + stackOf(e));
            } catch (IllegalStateException e) {
                if (!watchdogFired) {
                    violation(name + ": unexpected " + stackOf(e));
                }
            } catch (RuntimeException | Error e) {
                violation(name + ": unexpected " + stackOf(e));
            } finally {
                Thread.interrupted();
                finishedOne();
            }
        }

        private void status() {
            try {
                count("status " + locks.status(Objects.requireNonNull(target)).state());
            } catch (LockBackendUnavailableException e) {
                count("status: unavailable");
            }
        }

        private void acquire(Acquire op) throws InterruptedException {
            LockTarget lock = Objects.requireNonNull(target);
            long id;
            synchronized (this) {
                id = ++operations;
                acquiring = id;
            }
            long tokenBefore = highestToken;
            List<LockClock.Cancellable> pending = new ArrayList<>();
            Duration interruptAfter = op.interruptAfter();
            if (interruptAfter != null) {
                pending.add(clientClock.schedule(interruptAfter, () -> {
                    synchronized (this) {
                        if (acquiring == id) {
                            count("interrupt sent");
                            thread.interrupt();
                        }
                    }
                }));
            }
            Duration closeAfter = op.closeAfter();
            LockClock.Wakeup closeDone = Objects.requireNonNull(clock).newWakeup();
            boolean[] closing = new boolean[1];
            if (closeAfter != null) {
                pending.add(clientClock.schedule(closeAfter, () -> {
                    synchronized (this) {
                        closing[0] = acquiring == id;
                    }
                    if (closing[0]) {
                        count("ReplicaLocks closed while acquiring");
                        ended = true;
                        try {
                            locks.close();
                        } finally {
                            closeDone.signal();
                        }
                    }
                }));
            }
            Optional<ReplicaLock> got = Optional.empty();
            Exception failure = null;
            Duration timeout = op.timeout();
            try {
                got = timeout == null ? locks.tryAcquire(lock) : Optional.of(locks.acquire(lock, timeout));
            } catch (InterruptedException | RuntimeException e) {
                failure = e;
            } finally {
                synchronized (this) {
                    acquiring = 0;
                }
                pending.forEach(LockClock.Cancellable::cancel);
                // An interrupt that arrived just as acquire returned is the test's, not the lock's.
                Thread.interrupted();
            }
            if (failure != null) {
                boolean closedMeanwhile;
                synchronized (this) {
                    closedMeanwhile = closing[0];
                }
                if (closedMeanwhile) {
                    // close() on the other thread may still be releasing what this attempt took: judge
                    // what was left behind once it has returned.
                    closeDone.awaitUntil(Long.MAX_VALUE / 2);
                }
                failedAcquire(op, failure, tokenBefore);
                return;
            }
            if (got.isEmpty()) {
                count("tryAcquire: not acquired");
                return;
            }
            hold(got.get(), op.hold());
        }

        private void failedAcquire(Acquire op, Exception failure, long tokenBefore) {
            String kind = failure.getClass().getSimpleName();
            count("acquire failed: " + kind);
            trace(now() + " " + name + " acquire failed: " + failure.getMessage());
            boolean expected = failure instanceof LockTimeoutException
                    || failure instanceof PodNotReadyException
                    || failure instanceof LockBackendUnavailableException
                    || failure instanceof LockLostException
                    || (failure instanceof LocksClosedException && op.closeAfter() != null)
                    || (failure instanceof InterruptedException && op.interruptAfter() != null);
            if (!expected) {
                violation(
                        name + ": " + (op.timeout() == null ? "tryAcquire" : "acquire") + " threw " + stackOf(failure));
            }
            // Invariant 6: a failed acquisition leaves nothing behind.
            DeploymentSnapshot now = Objects.requireNonNull(cluster).deployment(Objects.requireNonNull(target));
            LockFields stored = storedFields(now);
            String holder = stored == null ? null : stored.holder();
            long token = stored == null ? -1 : stored.token();
            if (now.replicas() == 1
                    && name.equals(holder)
                    && token > tokenBefore
                    && name.equals(tokenOwners.get(token))) {
                if (failure instanceof LockBackendUnavailableException
                        || failure instanceof LockLostException
                        || failure instanceof LocksClosedException
                        || failure.getSuppressed().length > 0) {
                    // The undo itself failed (the API server was unreachable; or close() on the other thread
                    // could not release it and says so only in its log), or the lock counts as lost (the
                    // lease ran out while waiting for a Ready pod) and a lost lock is never written: the hold
                    // expires after its lease, which the liveness check covers.
                    count("failed acquire left a hold to expire");
                } else {
                    violation(name + ": " + kind + " left token " + token + " held: " + failure.getMessage());
                }
            }
        }

        private void hold(ReplicaLock lock, Hold hold) throws InterruptedException {
            Tracked held = new Tracked(index, lock, lock.fencingToken());
            tracked.add(held);
            count("acquired");
            trace(now() + " " + name + " got token " + lock.fencingToken() + ", pods " + lock.pods());
            if (!name.equals(tokenOwners.get(lock.fencingToken()))) {
                violation(name + " got token " + lock.fencingToken() + " that the cluster gave to "
                        + tokenOwners.get(lock.fencingToken()));
            }
            lock.onLost(e -> {
                held.lostAt = now();
                count("told lost");
                trace(now() + " " + name + " told lost: " + e.getMessage());
            });
            sleep(hold.duration());
            switch (hold.end()) {
                case RELEASE -> close(held);
                case CRASH -> crash();
                case PAUSE -> {
                    count("pause while holding");
                    clientClock.pause(hold.endFor());
                    sleep(hold.endFor());
                    close(held);
                }
                case PARTITION -> {
                    count("cut off while holding");
                    cutOff();
                    sleep(hold.endFor());
                    heal();
                    close(held);
                }
                case CLOSE_ALL -> {
                    count("ReplicaLocks closed while holding");
                    ended = true;
                    locks.close();
                    if (lock.isHeld()) {
                        // Its release failed (ReplicaLocks.close() logs why): the hold is left to expire, and
                        // the holder may go on believing until its lease runs out, which the takeover check covers.
                        count("ReplicaLocks.close() could not release, the hold expires");
                        trace(now() + " " + name + " token " + held.token + " not released by ReplicaLocks.close()");
                    }
                }
            }
        }

        private void close(Tracked held) {
            try {
                held.lock.close();
                held.released = true;
                count("released");
            } catch (LockLostException e) {
                count("close: LockLostException");
            } catch (ReleaseTimeoutException e) {
                held.released = true;
                count("close: ReleaseTimeoutException");
            } catch (LockBackendUnavailableException e) {
                count("close: unavailable, the hold expires");
            } catch (LockException e) {
                count("close: " + e.getClass().getSimpleName());
            }
            trace(now() + " " + name + " closed token " + held.token + (held.released ? "" : " (not released)"));
            // Unless ReplicaLocks.close() is releasing it on another thread: close() is idempotent, so this
            // second call returns at once, and the first one may still be writing.
            if (held.released && !ended && held.lock.isHeld()) {
                violation(name + ": isHeld() after a successful close of token " + held.token);
            }
        }

        private void problem(String what) {
            violation(what);
        }

        void crash() {
            synchronized (this) {
                crashed = true;
                ended = true;
            }
            fake.disconnect();
            count("crash while holding");
            trace(now() + " " + name + " crashed");
        }

        synchronized void cutOff() {
            if (cuts++ == 0) {
                fake.disconnect();
            }
        }

        synchronized void heal() {
            if (cuts > 0 && --cuts == 0 && !crashed) {
                fake.reconnect();
            }
        }

        synchronized void healFully() {
            cuts = 0;
            if (!crashed) {
                fake.reconnect();
            }
        }
    }

    /** A lock a client got, and what became of it. */
    private static final class Tracked {
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

    // ---------------------------------------------------------------- chaos

    private void chaos(CountDownLatch started) {
        try {
            LockClock time = Objects.requireNonNull(clock);
            long origin;
            try {
                origin = time.nanoTime();
            } finally {
                started.countDown();
            }
            for (Chaos event : plan.chaos) {
                sleepUntil(origin + event.at().toNanos());
                apply(event);
            }
        } catch (InterruptedException e) {
            violation("chaos: interrupted");
        } catch (IllegalStateException e) {
            // The watchdog closed the clock.
        } catch (RuntimeException e) {
            violation("chaos: " + stackOf(e));
        } finally {
            finishedOne();
        }
    }

    private void apply(Chaos event) {
        FakeCluster fake = Objects.requireNonNull(cluster);
        LockTarget lock = Objects.requireNonNull(target);
        Client victim = clients.get(event.client());
        count("chaos " + event.kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
        trace(now() + " chaos: " + event.describe());
        switch (event.kind()) {
            case LEGACY_RUN -> {
                // The shell pipeline's check-then-act: read, then scale if it looked free.
                DeploymentSnapshot seen = fake.deployment(lock);
                if (seen.replicas() == 0 && seen.pods().isEmpty()) {
                    legacyRunsHolding.add(event.count());
                    fake.scale(lock, 1);
                }
            }
            case LEGACY_CLEANUP -> {
                if (event.count() < 0 || legacyRunsHolding.remove(event.count())) {
                    fake.scale(lock, 0);
                }
            }
            case PODS_NEVER_READY -> fake.faults().podsNeverReady(NAMESPACE, NAME, "ImagePullBackOff");
            case PODS_READY_AGAIN -> fake.faults().clearPodsNeverReady(NAMESPACE, NAME);
            case PODS_STUCK_TERMINATING -> fake.faults().podsStuckTerminating(NAMESPACE, NAME);
            case PODS_TERMINATE_AGAIN -> fake.faults().clearPodsStuckTerminating(NAMESPACE, NAME);
            case CONFLICTS -> fake.faults().conflictOnNextWrites(event.count());
            case TRANSIENT_ERRORS -> fake.faults().failNextRequests(event.count());
            case LOST_RESPONSES -> fake.faults().loseNextResponses(event.count());
            case DROP_WATCHES -> fake.faults().dropWatches(event.duration());
            case CUT_OFF -> victim.cutOff();
            case HEAL -> victim.heal();
            case PAUSE -> victim.clientClock.pause(event.duration());
            case LATENCY -> fake.faults().latency(event.duration());
            case NO_LATENCY -> fake.faults().clearLatency();
            case WALL_CLOCK_STEP -> victim.clientClock.stepWallClock(event.duration());
        }
    }

    // ---------------------------------------------------------------- after the scripts

    /**
     * Invariant 4: once every holder has crashed or released, a waiting client gets the lock within
     * lease + grace + one renew interval (plus the pods' termination delay).
     */
    private void liveness(VirtualClock time, FakeCluster fake, LockTarget lock) throws InterruptedException {
        fake.faults().clearAll();
        for (Client client : clients) {
            client.healFully();
        }
        // As stored: whole seconds, rounded up.
        Duration lease = Duration.ofSeconds(
                options.leaseDuration().plusNanos(999_999_999).toSeconds());
        Duration bound = lease.plus(options.takeoverGrace())
                .plus(options.renewInterval())
                .plus(plan.podTerminationDelay);
        Duration from = time.elapsed();
        trace(now() + " liveness: every holder crashed or released; a waiter must get the lock within " + bound);
        try (ReplicaLocks finisher = ReplicaLocks.builder()
                .backend(fake.backend("finisher"))
                .holder("finisher")
                .options(options)
                .shutdownHook(false)
                .build()) {
            ReplicaLock last;
            try {
                last = finisher.acquire(lock, bound);
            } catch (LockException e) {
                violation("liveness: a waiting client did not get the lock within " + bound + " of " + seconds(from)
                        + ": " + e.getMessage());
                return;
            }
            count("liveness: waits");
            count("liveness: waited ms", time.elapsed().minus(from).toMillis());
            try {
                last.close();
            } catch (LockException e) {
                violation("liveness: the waiter's lock could not be released: " + e);
            }
        }
    }

    private void finalChecks(VirtualClock time, FakeCluster fake, LockTarget lock) {
        // Invariant 5: nothing leaks.
        DeploymentSnapshot end = fake.deployment(lock);
        LockFields endFields = storedFields(end);
        if (end.replicas() != 0
                || endFields == null
                || endFields.holder() != null
                || !end.pods().isEmpty()) {
            violation("leak: after every client closed, the deployment is " + end.ready() + " with holder '"
                    + end.annotations().get(LockFields.HOLDER_ANNOTATION) + "' and pods " + end.pods());
        }
        for (Tracked held : tracked) {
            if (held.lock.isHeld()) {
                violation("client-" + held.client + " still believes it holds token " + held.token + " after closing");
            }
            if (held.released && held.lostAt != null) {
                violation("client-" + held.client + "'s lost-listener ran (at " + held.lostAt + ") for token "
                        + held.token + " although close() released it normally");
            }
        }
        for (Throwable failure : time.taskFailures()) {
            violation("a clock task failed: " + stackOf(failure));
        }
        checkHistory(fake.lockWrites());
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
                violation("token went backwards: " + where);
            }
            if (after.token() != before.token()) {
                if (after.token() <= highest || !tokens.add(after.token())) {
                    violation("token " + after.token() + " handed out again or out of order: " + where);
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
                violation("client-" + held.client + " got token " + held.token + " that no write handed out");
            }
        }
        count("lock writes", writes.size());
    }

    private void checkClientWrite(LockWrite write, String where, Instant lastHoldChange) {
        LockFields before = write.before();
        LockFields after = write.after();
        String client = write.client();
        if (before.replicas() == 0 && after.replicas() == 1) {
            count("acquisition");
            if (!client.equals(after.holder()) || after.token() != before.token() + 1) {
                violation("bad acquisition: " + where);
            }
        } else if (before.replicas() == 1 && after.replicas() == 1 && before.token() != after.token()) {
            count("takeover");
            // Its own earlier hold too: a lock it lost (lease ran out) is forgotten, and may be taken over.
            if (!client.equals(after.holder()) || after.token() != before.token() + 1) {
                violation("bad takeover: " + where);
            }
            Duration lease = before.holder() == null ? options.foreignLease().orElse(null) : before.lease();
            if (lease == null) {
                violation("takeover of a hold that never expires: " + where);
            } else {
                Duration unchangedFor = Duration.between(lastHoldChange, write.time());
                Duration required = lease.plus(options.takeoverGrace());
                if (unchangedFor.compareTo(required) < 0) {
                    violation("early takeover: the hold had not changed for only " + unchangedFor
                            + ", less than its lease plus grace " + required + ": " + where);
                }
            }
        } else if (before.replicas() == 1 && after.replicas() == 1) {
            count("renewal");
            if (!client.equals(before.holder()) || !Objects.equals(before.holder(), after.holder())) {
                violation("renewal by someone who is not the holder: " + where);
            }
        } else if (before.replicas() == 1 && after.replicas() == 0) {
            count("release");
            // Invariant 3: nobody releases a lock it does not hold.
            if (!client.equals(before.holder()) || after.holder() != null || after.token() != before.token()) {
                violation("foreign release: " + where);
            }
        } else {
            violation("unexpected write by a client: " + where);
        }
    }

    // ---------------------------------------------------------------- plumbing

    private void finishedOne() {
        running.decrementAndGet();
        LockClock.Wakeup wakeup = finished;
        if (wakeup != null) {
            wakeup.signal();
        }
    }

    private void sleep(Duration duration) throws InterruptedException {
        LockClock time = Objects.requireNonNull(clock);
        sleepUntil(time.nanoTime() + duration.toNanos());
    }

    private void sleepUntil(long deadline) throws InterruptedException {
        LockClock time = Objects.requireNonNull(clock);
        LockClock.Wakeup wakeup = time.newWakeup();
        while (time.nanoTime() - deadline < 0) {
            wakeup.awaitUntil(deadline);
        }
    }

    private void awaitStarted(CountDownLatch started) {
        try {
            if (!started.await(realTimeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                violation("the simulation's threads did not start within " + realTimeLimit);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watch(CountDownLatch done, VirtualClock time) {
        try {
            if (!done.await(realTimeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                watchdogFired = true;
                violation("hung: no verdict after " + realTimeLimit + " of real time, at virtual " + time.elapsed()
                        + "\n" + time.diagnostics() + threadDump());
                time.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The stacks of this run's threads, for a stall or a hang. */
    private String threadDump() {
        StringBuilder dump = new StringBuilder();
        List<Thread> threads = new ArrayList<>();
        for (Client client : clients) {
            threads.add(client.thread);
            threads.add(client.clientClock.thread());
        }
        Thread chaos = chaosThread;
        if (chaos != null) {
            threads.add(chaos);
        }
        for (Thread t : threads) {
            dump.append("\n  ").append(t.getName()).append(' ').append(t.getState());
            for (StackTraceElement frame : t.getStackTrace()) {
                dump.append("\n    at ").append(frame);
            }
        }
        return dump.toString();
    }

    private List<String> traceLines() {
        synchronized (trace) {
            return List.copyOf(trace);
        }
    }

    private void violation(String what) {
        if (violations.size() < MAX_VIOLATIONS) {
            violations.add(now() + " " + what);
        }
        trace(now() + " VIOLATION " + what);
    }

    private void count(String what) {
        count(what, 1);
    }

    private void count(String what, long n) {
        counts.computeIfAbsent(what, k -> new LongAdder()).add(n);
    }

    private void trace(String line) {
        synchronized (trace) {
            trace.add(line);
            if (trace.size() > MAX_TRACE) {
                trace.removeFirst();
            }
        }
    }

    private String now() {
        VirtualClock time = clock;
        return time == null ? "-" : seconds(time.elapsed());
    }

    private static String at(Instant instant) {
        return seconds(since(instant));
    }

    private static Duration since(Instant instant) {
        return Duration.between(VirtualClock.DEFAULT_START, instant);
    }

    /** Seconds with milliseconds, such as {@code 12.250s}; no String.format, which is slow to initialise. */
    private static String seconds(Duration d) {
        long millis = d.toMillis();
        long fraction = Math.abs(millis % 1000);
        return millis / 1000 + "." + (fraction < 100 ? (fraction < 10 ? "00" : "0") : "") + fraction + "s";
    }

    private static String describe(LockFields f) {
        return "(" + f.replicas() + ", " + f.holder() + ", " + f.token() + ")";
    }

    /** The lock fields as every backend reads them, or null if the annotations do not parse. */
    private static @Nullable LockFields storedFields(DeploymentSnapshot deployment) {
        try {
            return LockAnnotations.parse(deployment.target(), deployment.replicas(), deployment.annotations());
        } catch (LockTargetInvalidException e) {
            return null;
        }
    }

    private static String stackOf(Throwable e) {
        StringBuilder s = new StringBuilder(e.toString());
        StackTraceElement[] frames = e.getStackTrace();
        for (int i = 0; i < Math.min(12, frames.length); i++) {
            s.append("\n    at ").append(frames[i]);
        }
        for (Throwable suppressed : e.getSuppressed()) {
            s.append("\n    suppressed: ").append(suppressed);
        }
        return s.toString();
    }
}
