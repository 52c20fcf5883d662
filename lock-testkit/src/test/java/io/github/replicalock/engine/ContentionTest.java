package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.LockWrite;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Many threads, each its own client, contend for one lock for many rounds with conflicts injected
 * at random: at most one holder at any instant, tokens strictly increasing, nothing left held.
 * Replay one seed with {@code -Dreplicalock.seed=<seed>}.
 */
class ContentionTest {
    private static final int SEEDS = 16;
    private static final int THREADS = 6;
    private static final int ROUNDS = 25;

    @TestFactory
    Stream<DynamicTest> atMostOneHolderAndIncreasingTokens() {
        String replay = System.getProperty("replicalock.seed");
        LongStream seeds =
                replay != null ? LongStream.of(Long.parseLong(replay)) : new SplittableRandom(20261125L).longs(SEEDS);
        return seeds.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> runSeed(seed)));
    }

    private static void runSeed(long seed) throws Exception {
        try {
            contend(seed);
        } catch (AssertionError | Exception e) {
            throw new AssertionError(
                    "contention failed for seed " + seed + "; replay with ./mvnw -pl lock-testkit -am verify"
                            + " -Dtest=ContentionTest -Dsurefire.failIfNoSpecifiedTests=false -Dreplicalock.seed="
                            + seed,
                    e);
        }
    }

    private static void contend(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        AtomicInteger holders = new AtomicInteger();
        AtomicLong lastToken = new AtomicLong();
        AtomicInteger acquisitions = new AtomicInteger();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        LockOptions options = LockOptions.builder()
                .readyTimeout(Duration.ofSeconds(30))
                .releaseTimeout(Duration.ofSeconds(30))
                .build();
        try (FakeCluster cluster = FakeCluster.create()) {
            LockTarget target = cluster.createDeployment("apps--droneio--prd", "buildah-external");
            List<ReplicaLocks> clients = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                clients.add(cluster.locks("client-" + t).options(options).build());
            }
            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    ReplicaLocks locks = clients.get(t);
                    SplittableRandom own = random.split();
                    done.add(pool.submit(() -> {
                        start.await();
                        for (int round = 0; round < ROUNDS; round++) {
                            if (own.nextInt(10) == 0) {
                                cluster.faults().conflictOnNextWrites(1 + own.nextInt(3));
                            }
                            Optional<ReplicaLock> got = own.nextBoolean()
                                    ? locks.tryAcquire(target)
                                    : Optional.of(locks.acquire(target, Duration.ofSeconds(30)));
                            if (got.isEmpty()) {
                                continue;
                            }
                            try (ReplicaLock lock = got.get()) {
                                int now = holders.incrementAndGet();
                                if (now != 1) {
                                    violations.add(now + " holders at once, token " + lock.fencingToken());
                                }
                                long previous = lastToken.getAndAccumulate(lock.fencingToken(), Math::max);
                                if (lock.fencingToken() <= previous) {
                                    violations.add("token " + lock.fencingToken() + " after " + previous);
                                }
                                acquisitions.incrementAndGet();
                                for (int spin = own.nextInt(200); spin > 0; spin--) {
                                    Thread.onSpinWait();
                                }
                                holders.decrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
                clients.forEach(ReplicaLocks::close);
            }

            assertThat(violations).isEmpty();
            assertThat(acquisitions.get()).isGreaterThanOrEqualTo(ROUNDS);
            assertThat(cluster.deployment(target).replicas()).isZero();
            long previousToken = 0;
            for (LockWrite write : cluster.lockWrites()) {
                if (write.after().token() != write.before().token()) {
                    assertThat(write.after().token()).isEqualTo(previousToken + 1);
                    previousToken = write.after().token();
                }
            }
            assertThat(previousToken).isEqualTo(acquisitions.get());
        }
    }
}
