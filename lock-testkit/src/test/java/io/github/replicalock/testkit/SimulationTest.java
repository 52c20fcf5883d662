package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Three clients contend for one lock for half an hour of virtual time, the way the lock algorithm
 * will use the fake: acquire from IDLE by conditional write, wait for Ready through a watch, renew
 * every 10 s from a clock task that waits on request latency, release after a random hold. The
 * cluster's write history must then show a sane lock. Seeded, so a failure can be replayed.
 */
class SimulationTest {
    private static final long SEED = 20_301_231L;
    private static final Duration RUN = Duration.ofMinutes(30);
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration RENEW = Duration.ofSeconds(10);
    private static final int CLIENTS = 3;

    @Test
    void contendingClientsLeaveAConsistentHistory() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try (FakeCluster cluster = FakeCluster.builder()
                .virtualTime()
                .podReadyDelay(Duration.ofSeconds(5))
                .podTerminationDelay(Duration.ofSeconds(2))
                .build()) {
            LockTarget target = cluster.createDeployment("ci", "builder");
            cluster.faults().latency(Duration.ofMillis(50));
            LockClock clock = cluster.clock();
            long end = clock.nanoTime() + RUN.toNanos();
            List<Future<Integer>> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                FakeBackend backend = cluster.backend("client-" + i);
                SplittableRandom random = new SplittableRandom(SEED + i);
                clients.add(pool.submit(() -> runClient(backend, target, end, random)));
            }
            int acquisitions = 0;
            for (Future<Integer> client : clients) {
                acquisitions += client.get(2, TimeUnit.MINUTES);
            }

            assertThat(cluster.virtualClock().elapsed()).isGreaterThanOrEqualTo(RUN);
            assertThat(cluster.virtualClock().taskFailures()).as("renewals").isEmpty();
            assertThat(acquisitions).isGreaterThan(10);
            assertConsistent(cluster.lockWrites(), acquisitions);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One client: returns how many times it held the lock. */
    private static int runClient(FakeBackend backend, LockTarget target, long end, RandomGenerator random)
            throws InterruptedException {
        LockClock clock = backend.clock();
        LockClock.Wakeup changed = clock.newWakeup();
        int held = 0;
        try (Subscription watch = backend.watch(target, changed::signal)) {
            while (clock.nanoTime() < end) {
                LockRecord record = backend.read(target);
                LockFields seen = record.fields();
                if (seen.replicas() == 0 && record.pods().isEmpty()) {
                    LockFields mine = seen.heldBy(backend.name(), seen.token() + 1, clock.now(), LEASE);
                    if (backend.compareAndSet(target, seen, mine)) {
                        held++;
                        hold(backend, target, mine, changed, random);
                        continue;
                    }
                }
                // Busy: wait for a change, with a capped poll as the fallback.
                changed.awaitUntil(
                        Math.min(end, clock.nanoTime() + Duration.ofSeconds(5).toNanos()));
            }
            assertThat(watch.isConnected()).isTrue();
        }
        return held;
    }

    private static void hold(
            FakeBackend backend,
            LockTarget target,
            LockFields acquired,
            LockClock.Wakeup changed,
            RandomGenerator random)
            throws InterruptedException {
        LockClock clock = backend.clock();
        long readyDeadline = clock.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (backend.read(target).pods().stream().noneMatch(PodSnapshot::usable)) {
            assertThat(changed.awaitUntil(readyDeadline) || clock.nanoTime() < readyDeadline)
                    .as("ready in time")
                    .isTrue();
        }
        Hold hold = new Hold(backend, target, acquired);
        hold.scheduleRenewal();
        long holdFor = Duration.ofSeconds(5 + random.nextInt(56)).toNanos();
        clock.newWakeup().awaitUntil(clock.nanoTime() + holdFor);
        hold.release();
    }

    /** A held lock renewed by a task on the clock, released under the same monitor. */
    private static final class Hold {
        private final FakeBackend backend;
        private final LockTarget target;
        private LockFields current;
        private boolean active = true;
        private LockClock.@Nullable Cancellable renewal;

        Hold(FakeBackend backend, LockTarget target, LockFields current) {
            this.backend = backend;
            this.target = target;
            this.current = current;
        }

        synchronized void scheduleRenewal() {
            if (active) {
                renewal = backend.clock().schedule(RENEW, this::renew);
            }
        }

        private void renew() {
            synchronized (this) {
                if (!active) {
                    return;
                }
                // Waits on the request latency while holding the monitor: a release waiting for
                // it is BLOCKED, which virtual time must treat as idle.
                LockFields next = current.renewedAt(backend.clock().now());
                try {
                    assertThat(backend.compareAndSet(target, current, next)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                current = next;
            }
            scheduleRenewal();
        }

        synchronized void release() throws InterruptedException {
            active = false;
            Objects.requireNonNull(renewal, "renewal").cancel();
            assertThat(backend.compareAndSet(target, current, current.released()))
                    .isTrue();
        }
    }

    private static void assertConsistent(List<LockWrite> writes, int acquisitions) {
        long lastToken = 0;
        int seenAcquisitions = 0;
        for (LockWrite write : writes) {
            LockFields before = write.before();
            LockFields after = write.after();
            if (before.replicas() == 0 && after.replicas() == 1) {
                seenAcquisitions++;
                assertThat(before.holder()).as("acquired from free: %s", write).isNull();
                assertThat(after.token()).as("token +1: %s", write).isEqualTo(lastToken + 1);
                assertThat(after.holder()).isEqualTo(write.client());
                lastToken = after.token();
            } else if (after.replicas() == 1) {
                assertThat(before.holder())
                        .as("only the holder renews: %s", write)
                        .isEqualTo(write.client());
                assertThat(after.token()).isEqualTo(before.token());
            } else {
                assertThat(before.holder())
                        .as("only the holder releases: %s", write)
                        .isEqualTo(write.client());
                assertThat(after.token()).as("the token is kept: %s", write).isEqualTo(before.token());
            }
        }
        assertThat(seenAcquisitions).isEqualTo(acquisitions);
    }
}
