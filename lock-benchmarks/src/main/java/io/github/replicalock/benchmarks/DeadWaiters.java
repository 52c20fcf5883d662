package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.benchmarks.Contenders.ReplicaLockContender;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * Scenario 8: how long waiters that died in the queue hold up the live waiter behind them
 * (docs/lock-protocol.md section 10.3). A holder holds; k waiters enqueue, then one live waiter
 * behind them; the k die right after one of their entries' renewals ({@link Plug#pull()}: their
 * connections cut and refused, their threads left running with nobody to talk to); the holder
 * releases at once; the live waiter's {@code acquire} returns once it has judged every dead entry
 * expired. Each repetition has a mock server and Deployment of its own, so no dead waiter of one
 * outlives into the next.
 */
final class DeadWaiters {
    /** The design bound for any number of dead waiters: waiter lease 2 s + grace 1 s. */
    static final long BOUND_NANOS = Duration.ofSeconds(3).toNanos();
    /**
     * What the bound leaves out and section 10.9 adds ("plus the write's latency"): the judging
     * read after the expiry and the acquiring write, which the ordinary handoff subtracted does
     * not cover when the judge wakes on its own timer.
     */
    static final long SLACK_NANOS = Duration.ofMillis(100).toNanos();
    /** Dead waiters that died long before the release: no hold-up beyond the noise of a handoff. */
    static final long NONE_NANOS = Duration.ofMillis(100).toNanos();

    private static final String NAMESPACE = "dead";
    private static final int REPETITIONS = 7;
    private static final Duration POLL = Duration.ofMillis(5);
    /** Set-up waits: the shared machine's load has stalled the mock's event loop for 3 s at a time. */
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);
    /** Longer than lease + grace: dead waiters that died this long before the release cost nothing. */
    private static final Duration LONG_DEAD = Duration.ofSeconds(4);

    private DeadWaiters() {}

    /** One way to set the queue up: {@code dead} dead waiters ahead, dying {@code diedBefore} before the release. */
    private record Case(String label, int dead, Duration diedBefore) {}

    /**
     * One repetition: from the holder's {@code close()} returning to the live waiter's {@code
     * acquire} returning; from the dead waiters' death to the same; the queue's length just before
     * the release.
     */
    private record Sample(long afterClose, long afterDeath, int queuedAtRelease) {}

    static Section run() throws Exception {
        List<Case> cases = List.of(
                new Case("no dead waiter (the ordinary handoff)", 0, Duration.ZERO),
                new Case("1 dead waiter, died just before the release", 1, Duration.ZERO),
                new Case("3 dead waiters, died just before the release", 3, Duration.ZERO),
                new Case("3 dead waiters, died 4 s before the release", 3, LONG_DEAD));
        Map<Case, List<Sample>> samples = new HashMap<>();
        cases.forEach(c -> samples.put(c, new ArrayList<>()));
        Map<Case, Integer> failures = new HashMap<>();
        // Repetitions interleave the cases, so that a burst of load on the machine hits all of them.
        for (int rep = 0; rep < REPETITIONS; rep++) {
            for (Case c : cases) {
                Sample sample;
                try {
                    sample = once(c.dead(), c.diedBefore());
                } catch (IllegalStateException | ExecutionException | TimeoutException e) {
                    // A set-up the loaded mock did not finish: counted, not measured.
                    failures.merge(c, 1, Integer::sum);
                    Progress.log("  " + c.label() + ", repetition " + (rep + 1) + " failed: " + e);
                    continue;
                }
                samples.getOrDefault(c, new ArrayList<>()).add(sample);
                Progress.log(String.format(
                        Locale.ROOT,
                        "  %s, repetition %d: %s after close, %s after death, %d queued at release",
                        c.label(),
                        rep + 1,
                        Stats.ms(sample.afterClose()),
                        Stats.ms(sample.afterDeath()),
                        sample.queuedAtRelease()));
            }
        }
        long ordinary = Stats.of(afterClose(samples.getOrDefault(cases.get(0), List.of())))
                .median();

        Section s = new Section("8. Dead waiters in the queue");
        s.para(String.format(Locale.ROOT, """
                How long waiters that died in the queue keep the live waiter behind them from the lock \
                (`Fairness.FIFO`, `LockOptions.defaults()`; the first three waiters' lease 2 s, renewed every \
                2/3 s, grace 1 s: docs/lock-protocol.md section 10.3). One holder holds; k waiters enqueue one after another, \
                then a live waiter behind them (each its own `ReplicaLocks`, backend and client, on fabric8's \
                CRUD mock with the controller simulation). The k die right after one of their entries' \
                renewals shows in the queue: each dead waiter's client reaches the mock only through a TCP \
                relay of its own, and the relay is pulled (every connection closed, new ones refused), as the \
                kernel ends a killed process's connections. Their threads go on in this JVM, but nothing of \
                them reaches the server again: no renewal, no leaving, and no goodbye before. The holder then \
                releases at once. Measured: from the holder's `close()` returning to the live waiter's \
                `acquire` returning; the hold-up is that minus the median ordinary handoff (the first row) of \
                the same run. %d repetitions of each case, interleaved, each with a fresh mock server.""", REPETITIONS));
        List<List<String>> rows = new ArrayList<>();
        for (Case c : cases) {
            List<Sample> list = samples.getOrDefault(c, List.of());
            Stats close = Stats.of(afterClose(list));
            Stats death = Stats.of(list.stream().map(Sample::afterDeath).toList());
            List<Long> holdUps =
                    afterClose(list).stream().map(t -> t - ordinary).toList();
            Stats holdUp = Stats.of(holdUps);
            boolean early = !c.diedBefore().isZero();
            boolean bounded = c.dead() == 0 || holdUp.max() <= (early ? NONE_NANOS : BOUND_NANOS + SLACK_NANOS);
            String target = early ? "≈ 0 (≤ 0.1 s)" : "≤ 3 s + 0.1 s";
            int minQueued =
                    list.stream().mapToInt(Sample::queuedAtRelease).min().orElse(0);
            int maxQueued =
                    list.stream().mapToInt(Sample::queuedAtRelease).max().orElse(0);
            rows.add(List.of(
                    c.label(),
                    list.size() + (failures.containsKey(c) ? " (" + failures.get(c) + " failed set-ups)" : ""),
                    minQueued == maxQueued ? String.valueOf(minQueued) : minQueued + "–" + maxQueued,
                    Stats.ms(close.median()) + " / " + Stats.ms(close.max()),
                    c.dead() == 0 ? "—" : Stats.ms(death.median()) + " / " + Stats.ms(death.max()),
                    c.dead() == 0 ? "—" : Stats.ms(holdUp.median()) + " / " + Stats.ms(holdUp.max()),
                    c.dead() == 0 ? "—" : target,
                    c.dead() == 0 ? "—" : bounded ? "met" : "**missed**"));
            if (c.dead() > 0) {
                s.verdict(
                        "hold-up, " + c.label() + ", median / max",
                        Stats.ms(holdUp.median()) + " / " + Stats.ms(holdUp.max()),
                        target,
                        bounded);
            }
        }
        s.table(
                List.of(
                        "case",
                        "repetitions",
                        "entries queued at the release",
                        "close() → live waiter holds, median / max",
                        "death → live waiter holds, median / max",
                        "hold-up, median / max",
                        "target",
                        "verdict"),
                rows);
        s.para("""
                "Entries queued at the release" is the queue's length as a GET shows it between the death and \
                the release (dead ones and the live one). A dead waiter is judged by the live one on its own \
                clock: dead once its entry's text has not changed for its lease plus the judge's grace since the \
                judge first saw that text, so the hold-up is at most 3 s after the last renewal, minus the time \
                from that renewal to the release, plus the live waiter's own write and pod start (the ordinary \
                handoff, subtracted). The target is that bound plus 0.1 s for the read that finds the entries \
                expired and the acquiring write, which section 10.9 adds ("plus the write's latency"); for \
                waiters that died 4 s before the release, no hold-up beyond 0.1 s of noise. Dead waiters expire in parallel, so three cost what one costs; and dead \
                waiters that died more than 3 s before the release are already judged dead when it comes (the \
                live waiter's own renewals prune them), so they cost nothing. For comparison, Redisson's fair \
                lock waits 5 s for each dead waiter in turn (its documentation; not measured here): 5 s for one, \
                15 s for three. `Fairness.BARGING` waiters never queue, so they leave nothing behind when they \
                die.""");
        return s;
    }

    private static List<Long> afterClose(List<Sample> samples) {
        return samples.stream().map(Sample::afterClose).toList();
    }

    /** A waiter whose process will be killed: its own plug, client, backend and {@code ReplicaLocks}. */
    private record Doomed(
            String name, Plug plug, KubernetesClient client, KubernetesReplicaBackend backend, ReplicaLocks locks) {}

    private static Sample once(int dead, Duration diedBefore) throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool(RealApiSession.daemon("dead-waiters"));
        List<Doomed> doomed = new ArrayList<>();
        try (MockApi api = new MockApi()) {
            api.closeLater(ControllerSimulation.start(api.client(ControllerSimulation.USER_AGENT), NAMESPACE));
            LockTarget target = api.createBuilder(NAMESPACE, "builder");
            KubernetesClient observer = api.client("observer");
            LockOptions options = LockOptions.defaults();
            ReplicaLockContender holder = new ReplicaLockContender(api, "holder", target, options);
            holder.acquire(Duration.ofSeconds(30));
            for (int i = 0; i < dead; i++) {
                String name = "dead-" + i;
                Plug plug = new Plug(api.port());
                KubernetesClient client = api.pluggedClient(name, plug);
                KubernetesReplicaBackend backend =
                        KubernetesReplicaBackend.builder(client).build();
                ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(backend)
                        .holder(name)
                        .options(options)
                        .shutdownHook(false)
                        .build();
                doomed.add(new Doomed(name, plug, client, backend, locks));
                threads.submit(() -> locks.acquire(target, Duration.ofMinutes(1)));
                int position = i;
                awaitQueue(observer, target, q -> q.positionOf(name) == position, name + " queued");
            }
            ReplicaLockContender live = new ReplicaLockContender(api, "live", target, options);
            Future<Long> acquired = threads.submit(() -> {
                live.acquire(Duration.ofMinutes(1));
                return System.nanoTime();
            });
            awaitQueue(observer, target, q -> q.positionOf("live") == dead, "live queued behind the dead");

            long died = System.nanoTime();
            if (dead > 0) {
                // Die right after a renewal: the worst case the bound covers (lease + grace from it).
                Map<String, Instant> renewed = renewals(queue(observer, target));
                awaitQueue(
                        observer,
                        target,
                        q -> doomed.stream()
                                .anyMatch(d -> q.entry(d.name())
                                        .map(e -> !e.renewed().equals(renewed.get(d.name())))
                                        .orElse(false)),
                        "a dead-to-be waiter renewed");
                doomed.forEach(d -> d.plug().pull());
                died = System.nanoTime();
            }
            if (!diedBefore.isZero()) {
                LockSupport.parkNanos(diedBefore.toNanos());
            }
            int queued = queue(observer, target).size();
            long token = holder.token();
            holder.release();
            long closed = System.nanoTime();
            long holds = acquired.get(30, TimeUnit.SECONDS);
            if (live.token() != token + 1) {
                throw new IllegalStateException(
                        "the live waiter holds token " + live.token() + ", not the holder's " + token + " + 1");
            }
            live.release();
            return new Sample(holds - closed, holds - died, queued);
        } finally {
            bury(doomed, threads);
        }
    }

    /**
     * Ends what is left of the dead waiters: their clients first (so that their leaving, which can
     * reach nobody, fails at once rather than after fabric8's retries), then their {@code
     * ReplicaLocks} and backend (which the caller owns), on daemon threads that are not waited for
     * long.
     */
    private static void bury(List<Doomed> doomed, ExecutorService threads) throws InterruptedException {
        for (Doomed d : doomed) {
            d.plug().close();
            threads.execute(() -> {
                d.client().close();
                d.locks().close();
                d.backend().close();
            });
        }
        threads.shutdown();
        if (!threads.awaitTermination(10, TimeUnit.SECONDS)) {
            Progress.log("  (dead waiters' threads still running after 10 s; left as daemons)");
            threads.shutdownNow();
        }
    }

    private static Map<String, Instant> renewals(LockQueue queue) {
        Map<String, Instant> renewed = new HashMap<>();
        for (QueueEntry e : queue.entries()) {
            renewed.put(e.waiter(), e.renewed());
        }
        return renewed;
    }

    private static LockQueue queue(KubernetesClient observer, LockTarget target) {
        Deployment d = observer.apps()
                .deployments()
                .inNamespace(target.namespace())
                .withName(target.name())
                .get();
        Map<String, String> annotations = d.getMetadata().getAnnotations();
        return LockQueue.parse(target, annotations == null ? Map.of() : annotations);
    }

    /** Polls the queue with GETs (set-up only, never while a hold-up is measured) until {@code condition}. */
    private static void awaitQueue(
            KubernetesClient observer, LockTarget target, Predicate<LockQueue> condition, String what) {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (!condition.test(queue(observer, target))) {
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException(
                        what + ": not within " + SETTLE_TIMEOUT.toSeconds() + " s; queue " + queue(observer, target));
            }
            LockSupport.parkNanos(POLL.toNanos());
        }
    }
}
