package io.github.replicalock.testkit.internal;

import static io.github.replicalock.testkit.internal.RunLog.stackOf;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.internal.Invariants.Tracked;
import io.github.replicalock.testkit.internal.SimulationPlan.Acquire;
import io.github.replicalock.testkit.internal.SimulationPlan.Hold;
import io.github.replicalock.testkit.internal.SimulationPlan.Idle;
import io.github.replicalock.testkit.internal.SimulationPlan.Op;
import io.github.replicalock.testkit.internal.SimulationPlan.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

/**
 * A simulated process: its own clock, backend and {@link ReplicaLocks}, a thread that plays its
 * script, and a scheduler thread for its renewals. It can crash, be cut off and healed, be paused
 * and have its wall clock stepped; what it gets, loses and leaves behind is checked as it goes.
 */
final class SimulatedClient {
    private final int index;
    private final String name;
    private final RunContext run;
    private final RunLog log;
    private final FakeBackend fake;
    private final ClientClock clientClock;
    private final ReplicaLocks locks;
    private final List<Op> script;
    private final Thread thread;
    private final CountDownLatch started;
    private final BooleanSupplier watchdogFired;
    private final Runnable onFinished;

    // Guarded by this.
    private long acquiring;
    private long operations;
    private int cuts;
    /** Cut-offs so far: a waiter cut off during its acquire may be unable to remove its entry. */
    private long cutEvents;

    private boolean crashed;

    private volatile boolean ended;

    SimulatedClient(
            int index, RunContext run, CountDownLatch started, BooleanSupplier watchdogFired, Runnable onFinished) {
        this.index = index;
        this.name = "client-" + index;
        this.run = run;
        this.log = run.log();
        this.started = started;
        this.watchdogFired = watchdogFired;
        this.onFinished = onFinished;
        this.fake = run.cluster().backend(name);
        SimulationPlan plan = run.plan();
        this.clientClock = new ClientClock(
                run.clock(), name, plan.wallSkewNanos[index], plan.monotonicOffsetNanos[index], log::violation);
        this.locks = ReplicaLocks.builder()
                .backend(new ClientBackend(this.fake, clientClock))
                .clock(clientClock)
                .holder(name)
                .options(plan.options(index))
                .shutdownHook(false)
                .build();
        this.script = plan.scripts.get(index);
        this.thread = new Thread(this::run, "simulation-" + name);
        thread.setDaemon(true);
    }

    /** Starts the scheduler thread; both it and the script thread count {@code started} down. */
    void startScheduler() {
        clientClock.start(started);
    }

    void startScript() {
        thread.start();
    }

    /** The script thread, then the scheduler thread: for a thread dump. */
    List<Thread> threads() {
        return List.of(thread, clientClock.thread());
    }

    void stopScheduler() {
        clientClock.stop();
    }

    /** {@code ReplicaLocks.close()}, once the scripts are done. */
    void closeLocks() {
        locks.close();
    }

    private void run() {
        try {
            ClockThreads.join(clientClock, started);
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
            log.violation(name + ": interrupted outside an acquire: " + stackOf(e));
        } catch (IllegalStateException e) {
            if (!watchdogFired.getAsBoolean()) {
                log.violation(name + ": unexpected " + stackOf(e));
            }
        } catch (RuntimeException | Error e) {
            log.violation(name + ": unexpected " + stackOf(e));
        } finally {
            Thread.interrupted();
            onFinished.run();
        }
    }

    private void status() {
        try {
            log.count("status " + locks.status(run.target()).state());
        } catch (LockBackendUnavailableException e) {
            log.count("status: unavailable");
        }
    }

    private void acquire(Acquire op) throws InterruptedException {
        LockTarget lock = run.target();
        long id;
        synchronized (this) {
            id = ++operations;
            acquiring = id;
        }
        long tokenBefore = run.invariants().highestToken();
        long cutsBefore;
        synchronized (this) {
            cutsBefore = cutEvents;
        }
        List<LockClock.Cancellable> pending = new ArrayList<>();
        Duration interruptAfter = op.interruptAfter();
        if (interruptAfter != null) {
            pending.add(clientClock.schedule(interruptAfter, () -> {
                synchronized (this) {
                    if (acquiring == id) {
                        log.count("interrupt sent");
                        thread.interrupt();
                    }
                }
            }));
        }
        Duration closeAfter = op.closeAfter();
        LockClock.Wakeup closeDone = run.clock().newWakeup();
        boolean[] closing = new boolean[1];
        if (closeAfter != null) {
            pending.add(clientClock.schedule(closeAfter, () -> {
                synchronized (this) {
                    closing[0] = acquiring == id;
                }
                if (closing[0]) {
                    log.count("ReplicaLocks closed while acquiring");
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
            failedAcquire(op, failure, tokenBefore, cutsBefore);
            return;
        }
        if (got.isEmpty()) {
            log.count("tryAcquire: not acquired");
            return;
        }
        hold(got.get(), op.hold());
    }

    private void failedAcquire(Acquire op, Exception failure, long tokenBefore, long cutsBefore) {
        String kind = failure.getClass().getSimpleName();
        log.count("acquire failed: " + kind);
        log.trace(log.now() + " " + name + " acquire failed: " + failure.getMessage());
        boolean expected = failure instanceof LockTimeoutException
                || failure instanceof PodNotReadyException
                || failure instanceof LockBackendUnavailableException
                || failure instanceof LockLostException
                || (failure instanceof LocksClosedException && op.closeAfter() != null)
                || (failure instanceof InterruptedException && op.interruptAfter() != null);
        if (!expected) {
            log.violation(
                    name + ": " + (op.timeout() == null ? "tryAcquire" : "acquire") + " threw " + stackOf(failure));
        }
        boolean reachable;
        synchronized (this) {
            reachable = cuts == 0 && !crashed && cutEvents == cutsBefore;
        }
        if (op.timeout() != null
                && reachable
                && !(failure instanceof LockBackendUnavailableException)
                && run.plan().fairness(index) == Fairness.FIFO) {
            // Section 10.9: a waiter that leaves leaves nothing (its removal can only fail unreachable).
            run.invariants().queue().checkLeft(run.cluster(), run.target(), name, kind);
        }
        // Invariant 6: a failed acquisition leaves nothing behind.
        DeploymentSnapshot now = run.cluster().deployment(run.target());
        LockFields stored = Invariants.storedFields(now);
        String holder = stored == null ? null : stored.holder();
        long token = stored == null ? -1 : stored.token();
        if (now.replicas() == 1
                && name.equals(holder)
                && token > tokenBefore
                && name.equals(run.invariants().ownerOf(token))) {
            if (failure instanceof LockBackendUnavailableException
                    || failure instanceof LockLostException
                    || failure instanceof LocksClosedException
                    || failure.getSuppressed().length > 0) {
                // The undo itself failed (the API server was unreachable; or close() on the other thread
                // could not release it and says so only in its log), or the lock counts as lost (the
                // lease ran out while waiting for a Ready pod) and a lost lock is never written: the hold
                // expires after its lease, which the liveness check covers.
                log.count("failed acquire left a hold to expire");
            } else {
                log.violation(name + ": " + kind + " left token " + token + " held: " + failure.getMessage());
            }
        }
    }

    private void hold(ReplicaLock lock, Hold hold) throws InterruptedException {
        Tracked held = run.invariants().track(index, lock);
        log.count("acquired");
        log.trace(log.now() + " " + name + " got token " + lock.fencingToken() + ", pods " + lock.pods());
        String owner = run.invariants().ownerOf(lock.fencingToken());
        if (!name.equals(owner)) {
            log.violation(name + " got token " + lock.fencingToken() + " that the cluster gave to " + owner);
        }
        lock.onLost(e -> {
            held.lostAt = log.now();
            log.count("told lost");
            log.trace(log.now() + " " + name + " told lost: " + e.getMessage());
            run.invariants().onToldLost(name, lock.fencingToken(), String.valueOf(e.getMessage()));
        });
        sleep(hold.duration());
        switch (hold.end()) {
            case RELEASE -> close(held);
            case CRASH -> crash();
            case PAUSE -> {
                log.count("pause while holding");
                clientClock.pause(hold.endFor());
                sleep(hold.endFor());
                close(held);
            }
            case PARTITION -> {
                log.count("cut off while holding");
                cutOff();
                sleep(hold.endFor());
                heal();
                close(held);
            }
            case CLOSE_ALL -> {
                log.count("ReplicaLocks closed while holding");
                ended = true;
                locks.close();
                if (lock.isHeld()) {
                    // Its release failed (ReplicaLocks.close() logs why): the hold is left to expire, and
                    // the holder may go on believing until its lease runs out, which the takeover check covers.
                    log.count("ReplicaLocks.close() could not release, the hold expires");
                    log.trace(
                            log.now() + " " + name + " token " + held.token + " not released by ReplicaLocks.close()");
                }
            }
        }
    }

    private void close(Tracked held) {
        try {
            held.lock.close();
            held.released = true;
            log.count("released");
        } catch (LockLostException e) {
            log.count("close: LockLostException");
        } catch (ReleaseTimeoutException e) {
            held.released = true;
            log.count("close: ReleaseTimeoutException");
        } catch (LockBackendUnavailableException e) {
            log.count("close: unavailable, the hold expires");
        } catch (LockException e) {
            log.count("close: " + e.getClass().getSimpleName());
        }
        log.trace(log.now() + " " + name + " closed token " + held.token + (held.released ? "" : " (not released)"));
        // Unless ReplicaLocks.close() is releasing it on another thread: close() is idempotent, so this
        // second call returns at once, and the first one may still be writing.
        if (held.released && !ended && held.lock.isHeld()) {
            log.violation(name + ": isHeld() after a successful close of token " + held.token);
        }
    }

    /** Sleeps on the run's clock, as the script's idle steps and holds do. */
    private void sleep(Duration duration) throws InterruptedException {
        LockClock time = run.clock();
        ClockThreads.sleepUntil(time, time.nanoTime() + duration.toNanos());
    }

    private void crash() {
        synchronized (this) {
            crashed = true;
            ended = true;
        }
        fake.disconnect();
        log.count("crash while holding");
        log.trace(log.now() + " " + name + " crashed");
    }

    synchronized void cutOff() {
        cutEvents++;
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

    /** A stop-the-world pause of the whole process. */
    void pause(Duration duration) {
        clientClock.pause(duration);
    }

    void stepWallClock(Duration step) {
        clientClock.stepWallClock(step);
    }
}
