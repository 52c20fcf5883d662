package io.github.replicalock.testkit.internal;

import static io.github.replicalock.testkit.internal.RunLog.stackOf;

import io.github.replicalock.LockException;
import io.github.replicalock.LockNotHeldException;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.internal.SimulationPlan.Chaos;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * Plays the plan's chaos events from outside the clients, each at its planned virtual instant, on
 * its own thread: the legacy shell pipeline, pod faults, request faults, and partitions, pauses and
 * clock steps of one client.
 */
final class ChaosPlayer {
    static final String OPERATOR = "operator";
    static final String FORCE_RELEASE_REASON = "simulated operator: builder wedged";

    private final RunContext run;
    private final List<SimulatedClient> clients;
    private final Runnable onFinished;
    /** Legacy runs that scaled to 1, so that only their own cleanup scales to 0. */
    private final Set<Integer> legacyRunsHolding = ConcurrentHashMap.newKeySet();

    private final Thread thread;
    /** The operator's instance, opened at the first force-release; used on the chaos thread only. */
    private @Nullable ReplicaLocks operator;

    ChaosPlayer(RunContext run, List<SimulatedClient> clients, CountDownLatch started, Runnable onFinished) {
        this.run = run;
        this.clients = clients;
        this.onFinished = onFinished;
        this.thread = new Thread(() -> play(started), "simulation-chaos");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    private void play(CountDownLatch started) {
        RunLog log = run.log();
        try {
            long origin = ClockThreads.join(run.clock(), started);
            for (Chaos event : run.plan().chaos) {
                ClockThreads.sleepUntil(run.clock(), origin + event.at().toNanos());
                apply(event);
            }
        } catch (InterruptedException e) {
            log.violation("chaos: interrupted");
        } catch (IllegalStateException e) {
            // The watchdog closed the clock.
        } catch (RuntimeException e) {
            log.violation("chaos: " + stackOf(e));
        } finally {
            ReplicaLocks locks = operator;
            if (locks != null) {
                locks.close();
            }
            onFinished.run();
        }
    }

    private void apply(Chaos event) {
        FakeCluster fake = run.cluster();
        LockTarget lock = run.target();
        SimulatedClient victim = clients.get(event.client());
        run.log().count("chaos " + event.kind().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        run.log().trace(run.log().now() + " chaos: " + event.describe());
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
            case PODS_NEVER_READY -> fake.faults().podsNeverReady(lock.namespace(), lock.name(), "ImagePullBackOff");
            case PODS_READY_AGAIN -> fake.faults().clearPodsNeverReady(lock.namespace(), lock.name());
            case PODS_STUCK_TERMINATING -> fake.faults().podsStuckTerminating(lock.namespace(), lock.name());
            case PODS_TERMINATE_AGAIN -> fake.faults().clearPodsStuckTerminating(lock.namespace(), lock.name());
            case CONFLICTS -> fake.faults().conflictOnNextWrites(event.count());
            case TRANSIENT_ERRORS -> fake.faults().failNextRequests(event.count());
            case LOST_RESPONSES -> fake.faults().loseNextResponses(event.count());
            case DROP_WATCHES -> fake.faults().dropWatches(event.duration());
            case CUT_OFF -> victim.cutOff();
            case HEAL -> victim.heal();
            case PAUSE -> victim.pause(event.duration());
            case LATENCY -> fake.faults().latency(event.duration());
            case NO_LATENCY -> fake.faults().clearLatency();
            case WALL_CLOCK_STEP -> victim.stepWallClock(event.duration());
            case FORCE_RELEASE -> forceRelease();
        }
    }

    /** The operator breaks the hold it reads, if any; what it broke is checked by {@link Invariants}. */
    private void forceRelease() {
        RunLog log = run.log();
        try {
            LockStatus broken = operator().forceRelease(run.target(), FORCE_RELEASE_REASON);
            log.count("force-release: broke a hold");
            log.trace(log.now() + " operator broke " + broken.holder().orElse("?") + " token " + broken.fencingToken());
        } catch (LockNotHeldException e) {
            log.count("force-release: not held");
        } catch (LockException e) {
            log.count("force-release: " + e.getClass().getSimpleName());
            log.trace(log.now() + " operator: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ReplicaLocks operator() {
        ReplicaLocks locks = operator;
        if (locks == null) {
            locks = run.cluster()
                    .locks(OPERATOR)
                    .holder(OPERATOR)
                    .options(run.plan().options)
                    .shutdownHook(false)
                    .build();
            operator = locks;
        }
        return locks;
    }
}
