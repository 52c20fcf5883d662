package io.github.replicalock.benchmarks;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.testkit.FakeCluster;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Scenario 4, the test kit's speed, as JMH benchmarks (modes, iterations and threads are chosen by
 * {@link TestkitSpeed}, which runs them).
 *
 * <ul>
 *   <li>{@link #acquireRelease}: one {@code acquire} and {@code close} on a real-time {@link
 *       FakeCluster} with zero pod delays and the write history off, as a unit test of an
 *       orchestrator does them. Every JMH thread has its own Deployment and its own {@link
 *       ReplicaLocks} (with its own client), all on one cluster.
 *   <li>{@link #readyTimeoutInVirtualTime}: a whole virtual-time test: build the cluster, make its
 *       pods never Ready, {@code tryAcquire}, wait out the 120 s ready timeout, roll back, close.
 * </ul>
 */
public class FakeClusterBenchmarks {
    private static final Duration ACQUIRE_TIMEOUT = Duration.ofSeconds(10);

    /** The cluster, shared by the threads of a trial. */
    @State(Scope.Benchmark)
    public static class Cluster {
        final AtomicInteger deployments = new AtomicInteger();

        @Nullable
        FakeCluster cluster;

        @Setup(Level.Trial)
        public void start() {
            cluster = FakeCluster.builder().historyLimit(0).build();
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (cluster != null) {
                cluster.close();
            }
        }

        FakeCluster get() {
            FakeCluster c = cluster;
            if (c == null) {
                throw new IllegalStateException("not set up");
            }
            return c;
        }
    }

    /** One build orchestrator: its own Deployment and its own ReplicaLocks on the shared cluster. */
    @State(Scope.Thread)
    public static class Orchestrator {
        @Nullable
        ReplicaLocks locks;

        @Nullable
        LockTarget target;

        @Setup(Level.Trial)
        public void start(Cluster cluster) {
            FakeCluster c = cluster.get();
            target = c.createDeployment("bench", "builder-" + cluster.deployments.incrementAndGet());
            locks = c.locks().build();
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (locks != null) {
                locks.close();
            }
        }
    }

    @Benchmark
    public long acquireRelease(Orchestrator o) throws InterruptedException {
        ReplicaLocks locks = o.locks;
        LockTarget target = o.target;
        if (locks == null || target == null) {
            throw new IllegalStateException("not set up");
        }
        ReplicaLock lock = locks.acquire(target, ACQUIRE_TIMEOUT);
        long token = lock.fencingToken();
        lock.close();
        return token;
    }

    @Benchmark
    public Object readyTimeoutInVirtualTime() throws InterruptedException {
        try (FakeCluster cluster = FakeCluster.builder().virtualTime().build()) {
            LockTarget target = cluster.createDeployment("apps--droneio--prd", "buildah-external");
            cluster.faults().podsNeverReady(target.namespace(), target.name(), "ImagePullBackOff");
            try (ReplicaLocks locks = cluster.locks()
                    .options(LockOptions.defaults()) // ready timeout 120 s
                    .build()) {
                Optional<ReplicaLock> lock = locks.tryAcquire(target);
                throw new IllegalStateException("expected a ready timeout, got " + lock);
            } catch (PodNotReadyException expected) {
                if (cluster.virtualClock().elapsed().compareTo(Duration.ofMinutes(2)) < 0) {
                    throw new IllegalStateException(
                            "ready timeout after only " + cluster.virtualClock().elapsed(), expected);
                }
                return expected;
            }
        }
    }
}
