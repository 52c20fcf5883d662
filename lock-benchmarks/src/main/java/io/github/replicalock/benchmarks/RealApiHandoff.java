package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.Fairness;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.benchmarks.Contenders.Elector;
import io.github.replicalock.benchmarks.Contenders.Timings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Scenario 2 on the real server: N replica-lock contenders loop on one lock, and two LeaderElector
 * candidates hand a Lease back and forth; a handoff is the time from the holder's release returning
 * to the next holder's acquire returning.
 */
final class RealApiHandoff {
    private static final int WARMUP_HANDOFFS = 5;
    private static final int ELECTOR_WARMUP_HANDOFFS = 1;

    private final RealApiSession session;

    RealApiHandoff(RealApiSession session) {
        this.session = session;
    }

    /**
     * A run's handoffs, and its contenders' requests (watches aside), PATCHes and lost conditional
     * writes (422 or 409) per hold, warm-up included.
     */
    record Run(Stats handoff, int holds, double requestsPerHandoff, double patchesPerHandoff, double lostPerHandoff) {}

    /** N contenders loop on one lock; handoff = next holder's acquire returned − previous close() returned. */
    Run replicaLock(int n, Fairness fairness, int handoffs, Duration limit) throws Exception {
        String name = "handoff-" + fairness.name().toLowerCase(Locale.ROOT) + "-" + n;
        LockTarget target = session.builder(name);
        LockOptions options =
                LockOptions.defaults().toBuilder().fairness(fairness).build();
        Map<Long, Long> began = new ConcurrentHashMap<>();
        Map<Long, Long> ended = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(n, RealApiSession.daemon("handoff"));
        List<Future<?>> loops = new ArrayList<>();
        long deadline = System.nanoTime() + limit.toNanos();
        for (int i = 0; i < n; i++) {
            ReplicaLocks locks = session.locks(name + "-" + i, options);
            loops.add(pool.submit(() -> {
                long lastToken = -1;
                while (!stop.get()) {
                    // Queue again only once someone else holds: every handoff goes to a waiter.
                    while (lastToken >= 0 && !began.containsKey(lastToken + 1) && !stop.get()) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    if (stop.get()) {
                        return null;
                    }
                    ReplicaLock lock;
                    try {
                        // N − 1 waiters queue: a turn can take N handoffs.
                        lock = locks.acquire(target, Duration.ofMinutes(10));
                    } catch (InterruptedException | RuntimeException stoppedOrFailed) {
                        if (stop.get()) {
                            return null;
                        }
                        throw stoppedOrFailed;
                    }
                    began.put(lock.fencingToken(), System.nanoTime());
                    lastToken = lock.fencingToken();
                    try {
                        lock.close();
                    } catch (RuntimeException interruptedByTheStop) {
                        if (stop.get()) {
                            return null;
                        }
                        throw interruptedByTheStop;
                    }
                    ended.put(lock.fencingToken(), System.nanoTime());
                }
                return null;
            }));
        }
        // Ended from here, not by a contender: a run whose handoffs stall must still end at its limit.
        while (began.size() < handoffs + WARMUP_HANDOFFS + 1 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
        stop.set(true);
        pool.shutdownNow(); // interrupts the waiters
        for (Future<?> loop : loops) {
            try {
                loop.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                Progress.log("  " + name + ": a contender failed: " + e.getCause());
            } catch (TimeoutException e) {
                Progress.log("  " + name + ": a contender did not stop within 60 s");
            }
        }
        List<Long> samples = new ArrayList<>();
        long first = began.keySet().stream().mapToLong(Long::longValue).min().orElse(0);
        began.forEach((token, at) -> {
            Long previousEnd = ended.get(token - 1);
            if (token > first + WARMUP_HANDOFFS && previousEnd != null) {
                samples.add(at - previousEnd);
            }
        });
        String agents = name + "-";
        double holds = Math.max(1, began.size());
        long requests = session.count(r -> r.agent().startsWith(agents) && !r.isWatchSetup());
        long patches =
                session.count(r -> r.agent().startsWith(agents) && r.method().equals("PATCH"));
        long lost = session.countLost(r -> r.agent().startsWith(agents));
        Stats stats = Stats.of(samples);
        Progress.log(String.format(
                Locale.ROOT,
                "  real API, %s N=%d: %d holds, %d handoffs measured, median %s, p99 %s, per hold: %s requests,"
                        + " %s PATCHes, %s lost writes",
                fairness,
                n,
                began.size(),
                stats.count(),
                Stats.ms(stats.median()),
                Stats.ms(stats.p99()),
                Stats.number(requests / holds),
                Stats.number(patches / holds),
                Stats.number(lost / holds)));
        return new Run(stats, began.size(), requests / holds, patches / holds, lost / holds);
    }

    /**
     * Two clients take turns: a new candidate campaigns while the leader holds, then the leader
     * cancels; handoff = the candidate leads − the leader's cancel began.
     */
    Stats leaderElector(int handoffs) throws Exception {
        String lease = "handoff-lease";
        String namespace = session.namespace();
        List<Long> samples = new ArrayList<>();
        KubernetesClient a = session.client("elector-a");
        KubernetesClient b = session.client("elector-b");
        Elector leader = new Elector(a, "elector-a", namespace, lease, Timings.TIGHTEST);
        leader.acquire(Duration.ofSeconds(30));
        for (int i = 0; i < handoffs + ELECTOR_WARMUP_HANDOFFS; i++) {
            KubernetesClient next = (i % 2 == 0) ? b : a;
            Elector candidate = new Elector(next, "elector-" + UUID.randomUUID(), namespace, lease, Timings.TIGHTEST);
            candidate.start();
            LockSupport.parkNanos(Duration.ofMillis(500).toNanos()); // campaigning, seeing the lease held
            long released = System.nanoTime();
            leader.release();
            candidate.awaitLeading(Duration.ofSeconds(30));
            if (i >= ELECTOR_WARMUP_HANDOFFS) {
                samples.add(System.nanoTime() - released);
            }
            leader = candidate;
        }
        leader.release();
        return Stats.of(samples);
    }
}
