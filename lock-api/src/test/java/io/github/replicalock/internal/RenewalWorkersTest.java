package io.github.replicalock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.spi.LockClock;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RenewalWorkersTest {
    /** A bound on waits for threads that are expected to finish at once, not a timing assertion. */
    private static final long PATIENCE_SECONDS = 30;

    private final RenewalWorkers workers = new RenewalWorkers(LockClock.system(), "renewal-workers-test");
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void releaseAndShutDown() {
        release.countDown();
        workers.shutDown();
    }

    @Test
    void aJobThatHangsHoldsBackNoOtherJob() throws Exception {
        CountDownLatch hanging = new CountDownLatch(1);
        workers.execute(() -> {
            hanging.countDown();
            awaitQuietly(release);
        });
        assertThat(hanging.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).isTrue();

        CountDownLatch done = new CountDownLatch(50);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 50; i++) {
            workers.execute(() -> {
                threads.add(Thread.currentThread().getName());
                done.countDown();
            });
        }

        assertThat(done.await(PATIENCE_SECONDS, TimeUnit.SECONDS))
                .as("jobs done while one hangs")
                .isTrue();
        assertThat(threads).allMatch(name -> name.startsWith("renewal-workers-test-"));
        assertThat(workers.threads()).isBetween(2, RenewalWorkers.MAX_THREADS);
    }

    @Test
    void neverMoreThreadsThanTheCapAndQueuedJobsRunWhenOnesAreFree() throws Exception {
        int jobs = 3 * RenewalWorkers.MAX_THREADS;
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostRunning = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(jobs);
        for (int i = 0; i < jobs; i++) {
            workers.execute(() -> {
                mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                awaitQuietly(release);
                running.decrementAndGet();
                done.countDown();
            });
        }
        assertThat(workers.threads()).isEqualTo(RenewalWorkers.MAX_THREADS);

        release.countDown();

        assertThat(done.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(mostRunning.get()).isLessThanOrEqualTo(RenewalWorkers.MAX_THREADS);
    }

    @Test
    void anInterruptLeftOverFromOneJobDoesNotReachTheNext() throws Exception {
        CountDownLatch first = new CountDownLatch(1);
        workers.execute(() -> {
            Thread.currentThread().interrupt(); // a deadline cut that landed as the call returned
            first.countDown();
        });
        assertThat(first.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).isTrue();
        CountDownLatch second = new CountDownLatch(1);
        AtomicInteger interrupted = new AtomicInteger(-1);

        workers.execute(() -> {
            interrupted.set(Thread.currentThread().isInterrupted() ? 1 : 0);
            second.countDown();
        });

        assertThat(second.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(interrupted).hasValue(0);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(PATIENCE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
