package io.github.replicalock.engine;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A virtual-time cluster with one builder deployment, and clients that are closed with it. */
final class VirtualClusterFixture implements AutoCloseable {
    static final String NAMESPACE = "apps--droneio--prd";
    static final String NAME = "buildah-external";

    final FakeCluster cluster;
    final LockTarget target;
    private final List<AutoCloseable> clients = new ArrayList<>();

    VirtualClusterFixture() {
        this(Duration.ofSeconds(3), Duration.ofSeconds(2));
    }

    VirtualClusterFixture(Duration podReadyDelay, Duration podTerminationDelay) {
        this(FakeCluster.builder()
                .virtualTime()
                .podReadyDelay(podReadyDelay)
                .podTerminationDelay(podTerminationDelay)
                .build());
    }

    private VirtualClusterFixture(FakeCluster cluster) {
        this.cluster = cluster;
        target = cluster.createDeployment(NAMESPACE, NAME);
    }

    /**
     * Time moves only when the test says so, and pods start and stop at once: for tests that must
     * act while another thread waits, which auto-advancing time would end by jumping to its deadline.
     */
    static VirtualClusterFixture stoppedTime() {
        return new VirtualClusterFixture(
                FakeCluster.builder().clock(VirtualClock.manual()).build());
    }

    ReplicaLocks locks(String holder) {
        return locks(holder, LockOptions.defaults());
    }

    ReplicaLocks locks(String holder, LockOptions options) {
        return locks(cluster.backend(holder), holder, options);
    }

    ReplicaLocks locks(LockBackend backend, String holder, LockOptions options) {
        ReplicaLocks locks =
                cluster.locks(backend).holder(holder).options(options).build();
        clients.add(locks);
        return locks;
    }

    /**
     * A client whose monotonic clock is the cluster's shifted by {@code offset}: {@link
     * LockClock#nanoTime()}'s origin is arbitrary, and the engine must depend on differences only.
     */
    ReplicaLocks locksWithOrigin(String holder, long offset) {
        return locksWithOrigin(cluster.backend(holder), holder, offset);
    }

    ReplicaLocks locksWithOrigin(LockBackend backend, String holder, long offset) {
        LockClock shared = cluster.clock();
        LockClock shifted = new LockClock() {
            @Override
            public Instant now() {
                return shared.now();
            }

            @Override
            public long nanoTime() {
                return shared.nanoTime() + offset;
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                return shared.schedule(delay, task);
            }

            @Override
            public Wakeup newWakeup() {
                Wakeup inner = shared.newWakeup();
                return new Wakeup() {
                    @Override
                    public void signal() {
                        inner.signal();
                    }

                    @Override
                    public boolean awaitUntil(long deadlineNanos) throws InterruptedException {
                        return inner.awaitUntil(deadlineNanos - offset);
                    }
                };
            }
        };
        return track(ReplicaLocks.builder()
                .backend(backend)
                .clock(shifted)
                .holder(holder)
                .shutdownHook(false)
                .build());
    }

    /** Closes {@code client} with the fixture. */
    <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    Duration elapsed() {
        return cluster.virtualClock().elapsed();
    }

    /**
     * Waits on the cluster's clock: the calling thread takes part in virtual time, so time stops
     * while it acts after waking, which polling from outside (Awaitility) cannot promise: an
     * auto-advancing clock goes on moving between the poll that sees the time and the next action.
     */
    void sleep(Duration duration) throws InterruptedException {
        VirtualClock clock = cluster.virtualClock();
        LockClock.Wakeup wakeup = clock.newWakeup();
        long deadline = clock.nanoTime() + duration.toNanos();
        while (clock.nanoTime() - deadline < 0) {
            wakeup.awaitUntil(deadline);
        }
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
        cluster.close();
    }
}
