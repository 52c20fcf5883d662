package io.github.replicalock.benchmarks;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/** Scenario 3 on the real server: the requests per second that builds waiting on a held lock cost. */
final class RealApiWaitingLoad {
    private static final String WAITER = "load-waiter-";

    private final RealApiSession session;

    RealApiWaitingLoad(RealApiSession session) {
        this.session = session;
    }

    /** The waiters' and the holder's requests per second over {@code window}, watches aside. */
    double requestsPerSecond(int waiters, Duration window) throws Exception {
        LockTarget target = session.builder("load");
        ReplicaLocks holder = session.locks("load-holder", LockOptions.defaults());
        ReplicaLock held = holder.acquire(target, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(waiters, RealApiSession.daemon("waiter"));
        List<ReplicaLocks> all = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            ReplicaLocks locks = session.locks(WAITER + i, LockOptions.defaults());
            all.add(locks);
            pool.submit(() -> locks.acquire(target, Duration.ofMinutes(10)));
        }
        // Every waiter has opened its watches (a watch request each for the Deployment and its pods).
        long setupDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (session.agents(r -> r.agent().startsWith(WAITER) && r.isWatch()) < waiters
                && System.nanoTime() - setupDeadline < 0) {
            LockSupport.parkNanos(50_000_000);
        }
        Thread.sleep(2_000);
        long before = session.count(r -> r.agent().startsWith("load-") && !r.isWatchSetup());
        Thread.sleep(window.toMillis());
        long after = session.count(r -> r.agent().startsWith("load-") && !r.isWatchSetup());
        for (ReplicaLocks locks : all) {
            locks.close();
        }
        pool.shutdownNow();
        held.close();
        return (after - before) / (double) window.toSeconds();
    }
}
