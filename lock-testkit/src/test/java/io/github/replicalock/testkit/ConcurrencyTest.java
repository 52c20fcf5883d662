package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Many clients racing for the same lock: the cluster decides, exactly one wins each round. */
class ConcurrencyTest {
    private static final int THREADS = 8;
    private static final int ROUNDS = 300;
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    private final FakeCluster cluster = FakeCluster.create();
    private final LockTarget target = cluster.createDeployment("ci", "builder");
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        cluster.close();
    }

    @Test
    void exactlyOneClientWinsEachRound() throws Exception {
        // Conflicts from "status writes" on the way must not change who wins.
        cluster.faults().conflictOnNextWrites(2);
        CyclicBarrier start = new CyclicBarrier(THREADS);
        CyclicBarrier end = new CyclicBarrier(THREADS, () -> {
            cluster.scale(target, 0);
            cluster.faults().conflictOnNextWrites(2);
        });
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            String name = "client-" + t;
            FakeBackend backend = cluster.backend(name);
            results.add(pool.submit(() -> {
                int won = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    LockFields seen = backend.read(target).fields();
                    start.await(10, TimeUnit.SECONDS);
                    if (seen.replicas() == 0
                            && backend.compareAndSet(
                                    target, seen, seen.heldBy(name, seen.token() + 1, NOW, Duration.ofSeconds(30)))) {
                        won++;
                    }
                    end.await(10, TimeUnit.SECONDS);
                }
                return won;
            }));
        }
        int wins = 0;
        for (Future<Integer> result : results) {
            wins += result.get(60, TimeUnit.SECONDS);
        }

        assertThat(wins).isEqualTo(ROUNDS);
        List<LockWrite> acquisitions = cluster.lockWrites().stream()
                .filter(w -> !w.client().equals(FakeCluster.KUBECTL))
                .toList();
        assertThat(acquisitions).hasSize(ROUNDS);
        for (int i = 0; i < acquisitions.size(); i++) {
            assertThat(acquisitions.get(i).after().token()).isEqualTo(i + 1L);
        }
    }

    @Test
    void concurrentWritersNeverLoseAnUpdate() throws Exception {
        // Every client increments the token by one conditional write at a time, retrying on a
        // lost race: the final token counts every write exactly once.
        int perThread = 500;
        List<Future<?>> results = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            FakeBackend backend = cluster.backend();
            results.add(pool.submit(() -> {
                for (int i = 0; i < perThread; i++) {
                    while (true) {
                        LockFields seen = backend.read(target).fields();
                        if (backend.compareAndSet(target, seen, LockFields.free(seen.token() + 1))) {
                            break;
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> result : results) {
            result.get(60, TimeUnit.SECONDS);
        }

        assertThat(cluster.backend().read(target).fields().token()).isEqualTo((long) THREADS * perThread);
    }
}
