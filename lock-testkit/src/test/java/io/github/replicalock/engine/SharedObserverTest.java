package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Issue 10, item 5: one observer per target. Every wait of one {@code ReplicaLocks} on a target
 * (acquisitions, ready waits, release waits, on any thread) shares one watch while they overlap,
 * and the watch closes with the last of them.
 */
class SharedObserverTest {
    private static final int SEEDS = 12;
    private static final int THREADS = 5;
    private static final int ROUNDS = 6;

    @Test
    void concurrentAcquisitionsOfOneTargetShareOneWatch() throws Exception {
        // Time stands still, so that the waits cannot time out while the test looks at them.
        try (VirtualClusterFixture fixture = VirtualClusterFixture.stoppedTime()) {
            VirtualClock clock = fixture.cluster.virtualClock();
            ReplicaLock held = fixture.locks("a").acquire(fixture.target, Duration.ofMinutes(1));
            WatchCounter watches = new WatchCounter(fixture.cluster.backend("b"));
            ReplicaLocks b = fixture.locks(watches, "b", LockOptions.defaults());
            ExecutorService threads = Executors.newFixedThreadPool(4);
            try {
                List<Future<Long>> tokens = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    tokens.add(threads.submit(() -> {
                        try (ReplicaLock lock = b.acquire(fixture.target, Duration.ofMinutes(10))) {
                            return lock.fencingToken();
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> clock.waitingThreads() == 4);
                assertThat(watches.openNow())
                        .as("watches open while four threads wait")
                        .isEqualTo(1);

                held.close();
                List<Long> got = new ArrayList<>();
                for (Future<Long> token : tokens) {
                    got.add(token.get(10, TimeUnit.SECONDS));
                }

                assertThat(got).containsExactlyInAnyOrder(2L, 3L, 4L, 5L);
                assertThat(watches.maxOpen()).as("most watches open at once").isEqualTo(1);
                assertThat(watches.openNow()).as("watches left open").isZero();
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> threadsOfOneClientContendThroughOneObserver() {
        String replay = System.getProperty("replicalock.seed");
        LongStream seeds =
                replay != null ? LongStream.of(Long.parseLong(replay)) : new SplittableRandom(20261203L).longs(SEEDS);
        return seeds.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            try {
                contend(seed);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(
                        "shared-observer contention failed for seed " + seed + "; replay with ./mvnw -pl"
                                + " lock-testkit -am verify -Dtest=SharedObserverTest"
                                + " -Dsurefire.failIfNoSpecifiedTests=false -Dreplicalock.seed=" + seed,
                        e);
            }
        }));
    }

    private static void contend(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        try (VirtualClusterFixture fixture =
                new VirtualClusterFixture(Duration.ofMillis(random.nextInt(0, 1_500)), Duration.ofMillis(500))) {
            LockTarget target = fixture.target;
            LockClock clock = fixture.cluster.virtualClock();
            WatchCounter watches = new WatchCounter(fixture.cluster.backend("one-client"));
            ReplicaLocks locks = fixture.locks(watches, "one-client", LockOptions.defaults());
            AtomicInteger holding = new AtomicInteger();
            AtomicInteger mostHolding = new AtomicInteger();
            ConcurrentLinkedQueue<Long> tokens = new ConcurrentLinkedQueue<>();
            ExecutorService threads = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long threadSeed = random.nextLong();
                    done.add(threads.submit(() -> {
                        SplittableRandom own = new SplittableRandom(threadSeed);
                        for (int round = 0; round < ROUNDS; round++) {
                            try (ReplicaLock lock = locks.acquire(target, Duration.ofHours(1))) {
                                mostHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
                                tokens.add(lock.fencingToken());
                                sleep(clock, Duration.ofMillis(own.nextInt(0, 20_000)));
                                holding.decrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }

            assertThat(mostHolding).as("holders at once").hasValue(1);
            List<Long> inOrder = new ArrayList<>(tokens);
            assertThat(inOrder).as("tokens in acquisition order").isSorted().doesNotHaveDuplicates();
            assertThat(inOrder).hasSize(THREADS * ROUNDS);
            assertThat(watches.maxOpen()).as("most watches open at once").isEqualTo(1);
            assertThat(watches.openNow()).as("watches left open").isZero();
        }
    }

    private static void sleep(LockClock clock, Duration duration) throws InterruptedException {
        LockClock.Wakeup wakeup = clock.newWakeup();
        long deadline = clock.nanoTime() + duration.toNanos();
        while (clock.nanoTime() - deadline < 0) {
            wakeup.awaitUntil(deadline);
        }
    }

    /** Counts the watches open at once through this backend. */
    static final class WatchCounter extends ForwardingBackend {
        private final AtomicInteger open = new AtomicInteger();
        private final AtomicInteger most = new AtomicInteger();

        WatchCounter(LockBackend delegate) {
            super(delegate);
        }

        @Override
        public Subscription watch(LockTarget target, Runnable onChange) {
            Subscription watch = super.watch(target, onChange);
            most.accumulateAndGet(open.incrementAndGet(), Math::max);
            AtomicInteger closedOnce = new AtomicInteger();
            return new Subscription() {
                @Override
                public boolean isConnected() {
                    return watch.isConnected();
                }

                @Override
                public void close() {
                    if (closedOnce.getAndIncrement() == 0) {
                        open.decrementAndGet();
                    }
                    watch.close();
                }
            };
        }

        int openNow() {
            return open.get();
        }

        int maxOpen() {
            return most.get();
        }
    }
}
