package io.github.replicalock.testkit.internal;

import static io.github.replicalock.testkit.internal.RunLog.stackOf;

import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.SimulationReport;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Plays one {@link SimulationPlan} against real {@link ReplicaLocks} clients on a fake cluster in
 * virtual time, and checks the lock's invariants on the cluster's write history and on what the
 * clients believe. One use per instance.
 *
 * <p>This class runs the phases: start the clients ({@link SimulatedClient}) and the chaos ({@link
 * ChaosPlayer}) together, wait for them under a guard ({@link StallWatch}), then check liveness and
 * the history ({@link Invariants}); everything is recorded in one {@link RunLog}.
 */
public final class SimulationRun {
    private static final String NAMESPACE = "sim";
    private static final String NAME = "builder";
    /** Virtual time a run never takes unless it stalls. */
    private static final Duration HORIZON = Duration.ofHours(2);

    private final SimulationPlan plan;
    private final Duration quietPeriod;
    private final Duration realTimeLimit;

    private final List<SimulatedClient> clients = new CopyOnWriteArrayList<>();
    /** Script threads and the chaos thread not yet done. */
    private final AtomicInteger running = new AtomicInteger();

    private volatile @Nullable ChaosPlayer chaos;
    private LockClock.@Nullable Wakeup finished;

    public SimulationRun(SimulationPlan plan, Duration quietPeriod, Duration realTimeLimit) {
        this.plan = plan;
        this.quietPeriod = quietPeriod;
        this.realTimeLimit = realTimeLimit;
    }

    /** Runs the plan and checks it; never throws for what the lock does, only reports. */
    public SimulationReport run() {
        VirtualClock time =
                VirtualClock.builder().autoAdvance().quietPeriod(quietPeriod).build();
        RunLog log = new RunLog(time);
        Invariants invariants = new Invariants(plan, time, log);
        StallWatch watch = new StallWatch(plan.seed, time, log, realTimeLimit, this::threads);
        CountDownLatch done = new CountDownLatch(1);
        watch.start(done);
        try (FakeCluster fake = FakeCluster.builder()
                .clock(time)
                .podReadyDelay(plan.podReadyDelay)
                .podTerminationDelay(plan.podTerminationDelay)
                .onLockWrite(invariants::onWrite)
                .build()) {
            LockTarget target = fake.createDeployment(NAMESPACE, NAME);
            play(new RunContext(plan, time, fake, target, log, invariants), watch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.violation("the simulation was interrupted");
        } catch (RuntimeException e) {
            log.violation("the simulation itself failed: " + stackOf(e));
        } finally {
            for (SimulatedClient client : clients) {
                client.stopScheduler();
            }
            time.close();
            done.countDown();
        }
        return new SimulationReport(
                plan.seed,
                plan.describe(),
                log.violations(),
                log.counts(),
                plan.operations(),
                time.elapsed(),
                log.traceLines());
    }

    private void play(RunContext run, StallWatch watch) throws InterruptedException {
        VirtualClock time = run.clock();
        long horizon = time.nanoTime() + HORIZON.toNanos();
        LockClock.Wakeup allDone = time.newWakeup();
        finished = allDone;
        CountDownLatch started = new CountDownLatch(2 * plan.clients + 1);
        // A due task holds virtual time still, without burning a core, until every new thread has
        // touched the clock and holds it still by itself.
        time.schedule(Duration.ZERO, () -> awaitStarted(started, run.log()));
        for (int i = 0; i < plan.clients; i++) {
            clients.add(new SimulatedClient(i, run, started, watch::fired, this::finishedOne));
        }
        for (SimulatedClient client : clients) {
            client.startScheduler();
        }
        running.set(plan.clients + 1);
        for (SimulatedClient client : clients) {
            client.startScript();
        }
        ChaosPlayer player = new ChaosPlayer(run, clients, started, this::finishedOne);
        chaos = player;
        player.start();
        while (running.get() > 0) {
            if (!allDone.awaitUntil(horizon)) {
                watch.stalled(HORIZON, running.get());
                return;
            }
        }
        run.cluster().faults().clearAll();
        for (SimulatedClient client : clients) {
            client.healFully();
        }
        run.invariants().liveness(run.cluster(), run.target());
        for (SimulatedClient client : clients) {
            client.closeLocks();
        }
        run.invariants().awaitPendingChecks();
        run.invariants().finalChecks(run.cluster(), run.target());
    }

    private void finishedOne() {
        running.decrementAndGet();
        LockClock.Wakeup wakeup = finished;
        if (wakeup != null) {
            wakeup.signal();
        }
    }

    private void awaitStarted(CountDownLatch started, RunLog log) {
        try {
            if (!started.await(realTimeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                log.violation("the simulation's threads did not start within " + realTimeLimit);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** This run's threads, for a stall or a hang. */
    private List<Thread> threads() {
        List<Thread> threads = new ArrayList<>();
        for (SimulatedClient client : clients) {
            threads.addAll(client.threads());
        }
        ChaosPlayer player = chaos;
        if (player != null) {
            threads.add(player.thread());
        }
        return threads;
    }
}
