package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.spi.LockClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtualClockTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void startsAtAFixedInstantAndMovesOnlyWhenAdvanced() {
        try (VirtualClock clock = VirtualClock.manual()) {
            Instant start = clock.now();
            long nanos = clock.nanoTime();
            assertThat(start).isEqualTo(VirtualClock.DEFAULT_START);

            clock.advance(Duration.ofMillis(1500));

            assertThat(clock.now()).isEqualTo(start.plusMillis(1500));
            assertThat(clock.nanoTime() - nanos)
                    .isEqualTo(Duration.ofMillis(1500).toNanos());
            assertThat(clock.elapsed()).isEqualTo(Duration.ofMillis(1500));
        }
    }

    @Test
    void runsTimersInDeadlineOrderFirstScheduledFirstOnTiesAtTheirOwnTime() {
        try (VirtualClock clock = VirtualClock.manual()) {
            List<String> ran = new CopyOnWriteArrayList<>();
            clock.schedule(
                    Duration.ofSeconds(3), () -> ran.add("c@" + clock.elapsed().toSeconds()));
            clock.schedule(
                    Duration.ofSeconds(1), () -> ran.add("a@" + clock.elapsed().toSeconds()));
            clock.schedule(
                    Duration.ofSeconds(2), () -> ran.add("b1@" + clock.elapsed().toSeconds()));
            clock.schedule(
                    Duration.ofSeconds(2), () -> ran.add("b2@" + clock.elapsed().toSeconds()));
            clock.schedule(Duration.ofSeconds(9), () -> ran.add("late"));

            clock.advance(Duration.ofSeconds(5));

            assertThat(ran).containsExactly("a@1", "b1@2", "b2@2", "c@3");
            assertThat(clock.elapsed()).isEqualTo(Duration.ofSeconds(5));
        }
    }

    @Test
    void runsTasksOnOneTaskThreadNeverOnTheAdvancingThread() {
        try (VirtualClock clock = VirtualClock.manual()) {
            List<Thread> ranOn = new CopyOnWriteArrayList<>();
            for (int i = 1; i <= 3; i++) {
                clock.schedule(Duration.ofSeconds(i), () -> ranOn.add(Thread.currentThread()));
            }
            clock.advance(Duration.ofSeconds(3));

            assertThat(ranOn).hasSize(3).doesNotContain(Thread.currentThread());
            assertThat(ranOn.get(0).isDaemon()).isTrue();
            assertThat(List.copyOf(ranOn)).allSatisfy(t -> assertThat(t).isSameAs(ranOn.get(0)));
        }
    }

    @Test
    void firesWhatATaskSchedulesWithinTheSameAdvance() {
        try (VirtualClock clock = VirtualClock.manual()) {
            List<Long> renewals = new CopyOnWriteArrayList<>();
            clock.schedule(Duration.ofSeconds(10), new Runnable() {
                @Override
                public void run() {
                    renewals.add(clock.elapsed().toSeconds());
                    clock.schedule(Duration.ofSeconds(10), this);
                }
            });

            clock.advance(Duration.ofSeconds(45));

            assertThat(renewals).containsExactly(10L, 20L, 30L, 40L);
        }
    }

    @Test
    void aTaskCanWaitOnTheClockWhileTimeMoves() {
        try (VirtualClock clock = VirtualClock.manual()) {
            AtomicReference<Duration> finishedAt = new AtomicReference<>();
            clock.schedule(Duration.ofSeconds(1), () -> {
                try {
                    // A fake request latency inside a task: only the advancing thread can end it.
                    clock.newWakeup().awaitUntil(clock.nanoTime() + 2 * SECOND);
                    finishedAt.set(clock.elapsed());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            clock.advance(Duration.ofSeconds(5));

            assertThat(finishedAt.get()).isEqualTo(Duration.ofSeconds(3));
        }
    }

    @Test
    void cancelledTasksNeverRunAndCancelIsIdempotent() {
        try (VirtualClock clock = VirtualClock.manual()) {
            AtomicInteger runs = new AtomicInteger();
            LockClock.Cancellable task = clock.schedule(Duration.ofSeconds(1), runs::incrementAndGet);
            task.cancel();
            task.cancel();

            clock.advance(Duration.ofSeconds(2));

            assertThat(runs).hasValue(0);
        }
    }

    @Test
    void keepsWhatTasksThrowAndKeepsRunningLaterTasks() {
        try (VirtualClock clock = VirtualClock.manual()) {
            AtomicBoolean later = new AtomicBoolean();
            clock.schedule(Duration.ofSeconds(1), () -> {
                throw new IllegalStateException("boom");
            });
            clock.schedule(Duration.ofSeconds(2), () -> later.set(true));

            clock.advance(Duration.ofSeconds(2));

            assertThat(later).isTrue();
            assertThat(clock.taskFailures())
                    .singleElement()
                    .extracting(Throwable::getMessage)
                    .isEqualTo("boom");
        }
    }

    @Test
    void aSignalBeforeTheWaitIsNotLostAndIsConsumedOnce() throws InterruptedException {
        try (VirtualClock clock = VirtualClock.manual()) {
            LockClock.Wakeup wakeup = clock.newWakeup();
            wakeup.signal();
            wakeup.signal(); // one permit, not two

            assertThat(wakeup.awaitUntil(clock.nanoTime() + SECOND)).isTrue();
            assertThat(wakeup.awaitUntil(clock.nanoTime())).isFalse();
        }
    }

    @Test
    void aWaitReturnsFalseWhenVirtualTimeReachesTheDeadline() throws Exception {
        try (VirtualClock clock = VirtualClock.manual()) {
            LockClock.Wakeup wakeup = clock.newWakeup();
            long deadline = clock.nanoTime() + 5 * SECOND;
            Future<Boolean> waiting = threads.submit(() -> wakeup.awaitUntil(deadline));
            awaitWaiting(clock, 1);

            clock.advance(Duration.ofSeconds(4));
            assertThat(waiting).isNotDone();
            clock.advance(Duration.ofSeconds(1));

            assertThat(waiting.get(10, TimeUnit.SECONDS)).isFalse();
            assertThat(clock.elapsed()).isEqualTo(Duration.ofSeconds(5));
        }
    }

    @Test
    void aSignalWakesABlockedWaiterWithoutTimeMoving() throws Exception {
        try (VirtualClock clock = VirtualClock.manual()) {
            LockClock.Wakeup wakeup = clock.newWakeup();
            Future<Boolean> waiting = threads.submit(() -> wakeup.awaitUntil(clock.nanoTime() + 5 * SECOND));
            awaitWaiting(clock, 1);

            wakeup.signal();

            assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(clock.elapsed()).isZero();
        }
    }

    @Test
    void anInterruptedWaitThrowsAndKeepsAnyPermit() throws Exception {
        try (VirtualClock clock = VirtualClock.manual()) {
            LockClock.Wakeup wakeup = clock.newWakeup();
            AtomicReference<Thread> waiter = new AtomicReference<>();
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            threads.execute(() -> {
                waiter.set(Thread.currentThread());
                try {
                    wakeup.awaitUntil(clock.nanoTime() + 5 * SECOND);
                    outcome.complete(new AssertionError("returned instead of throwing"));
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            });
            awaitWaiting(clock, 1);

            Objects.requireNonNull(waiter.get()).interrupt();

            assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> wakeup.awaitUntil(clock.nanoTime() + SECOND))
                    .isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
        }
    }

    @Test
    void aSignalRacingTheDeadlineIsNeverLost() throws Exception {
        // Each round: one thread signals while another advances to the deadline. Whatever wins, the
        // signal is either the wait's result or still there for the next wait.
        try (VirtualClock clock = VirtualClock.manual()) {
            for (int round = 0; round < 200; round++) {
                LockClock.Wakeup wakeup = clock.newWakeup();
                long deadline = clock.nanoTime() + SECOND;
                Future<Boolean> waiting = threads.submit(() -> wakeup.awaitUntil(deadline));
                CountDownLatch go = new CountDownLatch(1);
                Future<?> signaller = threads.submit(() -> {
                    go.await();
                    wakeup.signal();
                    return null;
                });
                go.countDown();
                clock.advance(Duration.ofSeconds(1));
                signaller.get(10, TimeUnit.SECONDS);

                boolean signalled = waiting.get(10, TimeUnit.SECONDS);
                if (!signalled) {
                    assertThat(wakeup.awaitUntil(clock.nanoTime()))
                            .as("round %d: the signal must be kept", round)
                            .isTrue();
                }
            }
        }
    }

    @Test
    void autoAdvanceWaitsThroughA120sTimeoutWithRenewalsEvery10s() throws InterruptedException {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            AtomicInteger renewals = new AtomicInteger();
            clock.schedule(Duration.ofSeconds(10), new Runnable() {
                @Override
                public void run() {
                    renewals.incrementAndGet();
                    clock.schedule(Duration.ofSeconds(10), this);
                }
            });
            long start = clock.nanoTime();

            boolean signalled = clock.newWakeup().awaitUntil(start + 120 * SECOND);

            assertThat(signalled).isFalse();
            assertThat(clock.nanoTime() - start).isEqualTo(120 * SECOND);
            assertThat(renewals).hasValueBetween(11, 12);
        }
    }

    @Test
    void autoAdvanceMovesTimeForTasksThatWaitOnTheClock() throws InterruptedException {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            CountDownLatch done = new CountDownLatch(1);
            clock.schedule(Duration.ofSeconds(1), () -> {
                try {
                    clock.newWakeup().awaitUntil(clock.nanoTime() + 30 * SECOND);
                    done.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(clock.elapsed()).isGreaterThanOrEqualTo(Duration.ofSeconds(31));
        }
    }

    @Test
    void autoAdvanceDoesNotMoveTimeWhenNothingIsPending() {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            AtomicBoolean ran = new AtomicBoolean();
            clock.schedule(Duration.ZERO, () -> ran.set(true));
            await().untilTrue(ran);

            // Nothing pending: the driver blocks, and time stays where it is.
            await().during(Duration.ofMillis(50))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> clock.elapsed().isZero());
        }
    }

    @Test
    void autoAdvanceDoesNotOvertakeARunningTask() throws InterruptedException {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Duration> seenAfterWork = new AtomicReference<>();
            clock.schedule(Duration.ofSeconds(1), () -> {
                try {
                    // Real work without clock calls, far longer than the quiet period.
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seenAfterWork.set(clock.elapsed());
            });
            clock.schedule(Duration.ofSeconds(60), () -> {});
            await().until(() -> clock.elapsed().equals(Duration.ofSeconds(1)));

            await().during(Duration.ofMillis(50))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> clock.elapsed().equals(Duration.ofSeconds(1)));
            release.countDown();

            await().until(() -> seenAfterWork.get() != null);
            assertThat(seenAfterWork.get()).isEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test
    void autoAdvanceWaitsForAParticipantThatIsStillRunning() throws Exception {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            AtomicBoolean keepRunning = new AtomicBoolean(true);
            CountDownLatch participating = new CountDownLatch(1);
            Future<Duration> participant = threads.submit(() -> {
                Duration seen = clock.elapsed();
                clock.nanoTime(); // now a participant
                participating.countDown();
                while (keepRunning.get()) {
                    // Busy with its own work, far longer than the quiet period, no clock calls.
                    Thread.onSpinWait();
                }
                return seen;
            });
            // Only once it is a participant: before that, nothing holds time still (a loaded machine
            // can start the thread later than the quiet period).
            assertThat(participating.await(10, TimeUnit.SECONDS)).isTrue();
            clock.schedule(Duration.ofSeconds(60), () -> {});

            await().during(Duration.ofMillis(50))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> clock.elapsed().isZero());
            keepRunning.set(false);
            participant.get(10, TimeUnit.SECONDS);

            await().until(() -> clock.elapsed().equals(Duration.ofSeconds(60)));
        }
    }

    /**
     * An interrupt wakes a waiter as a signal does, but the clock cannot see it being sent: until
     * the interrupted thread runs again it still looks parked, and on a loaded machine time used to
     * jump past it (RenewalIsolationTest saw a renewal cut at +25 s report +31 s). Spinning threads
     * outside the clock keep the machine loaded, so that the interrupted thread waits for a core.
     */
    @Test
    void anInterruptedWaiterHoldsTimeUntilItRunsAgain() throws Exception {
        AtomicBoolean loaded = new AtomicBoolean(true);
        int spinners = Runtime.getRuntime().availableProcessors() * 2;
        for (int i = 0; i < spinners; i++) {
            threads.submit(() -> {
                while (loaded.get()) {
                    Thread.onSpinWait();
                }
            });
        }
        try {
            for (int round = 0; round < 40; round++) {
                try (VirtualClock clock = VirtualClock.autoAdvancing()) {
                    for (int second = 1; second <= 60; second++) {
                        clock.schedule(Duration.ofSeconds(second), () -> {});
                    }
                    LockClock.Wakeup never = clock.newWakeup();
                    CompletableFuture<Duration> interruptSentAt = new CompletableFuture<>();
                    Future<Duration> interruptSeenAt = threads.submit(() -> {
                        Thread waiter = Thread.currentThread();
                        long farAway = clock.nanoTime() + 3600 * SECOND; // a participant from here on
                        CompletableFuture<Void> interrupterParticipates = new CompletableFuture<>();
                        threads.submit(() -> {
                            clock.nanoTime();
                            interrupterParticipates.complete(null);
                            sleep(clock, Duration.ofSeconds(10));
                            interruptSentAt.complete(clock.elapsed());
                            waiter.interrupt();
                            sleep(clock, Duration.ofSeconds(20));
                            return null;
                        });
                        // Else time could reach farAway before the interrupter has a deadline.
                        interrupterParticipates.join();
                        try {
                            never.awaitUntil(farAway);
                            return Duration.ZERO;
                        } catch (InterruptedException e) {
                            return clock.elapsed();
                        }
                    });
                    Duration seen = interruptSeenAt.get(30, TimeUnit.SECONDS);
                    assertThat(seen)
                            .as("round " + round + ": time when the waiter saw its interrupt")
                            .isEqualTo(interruptSentAt.get(30, TimeUnit.SECONDS))
                            .isPositive();
                }
            }
        } finally {
            loaded.set(false);
        }
    }

    private static void sleep(LockClock clock, Duration duration) throws InterruptedException {
        LockClock.Wakeup wakeup = clock.newWakeup();
        long deadline = clock.nanoTime() + duration.toNanos();
        while (clock.nanoTime() - deadline < 0) {
            wakeup.awaitUntil(deadline);
        }
    }

    @Test
    void autoAdvanceWaitsForAParticipantBlockedOnAMonitorHeldByAnOutsider() throws Exception {
        Object monitor = new Object();
        assertTimeHeldWhileAParticipantIsBlockedByAnOutsider(
                hold -> {
                    synchronized (monitor) {
                        hold.run();
                    }
                },
                Thread.State.BLOCKED);
    }

    @Test
    void autoAdvanceWaitsForAParticipantBlockedOnALockHeldByAnOutsider() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        assertTimeHeldWhileAParticipantIsBlockedByAnOutsider(
                hold -> {
                    lock.lock();
                    try {
                        hold.run();
                    } finally {
                        lock.unlock();
                    }
                },
                Thread.State.WAITING);
    }

    /**
     * The parallel protocol simulation's stall: a thread of one seed waits for a lock that a thread
     * outside the clock holds (another seed's thread writing to {@code System.err}, say). It is not
     * waiting for virtual time, so time must not jump to the next deadline (the two-hour guard).
     */
    private void assertTimeHeldWhileAParticipantIsBlockedByAnOutsider(
            Consumer<Runnable> underLock, Thread.State blockedState) throws Exception {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // Never touches the clock: not a participant.
            Future<?> outsider = threads.submit(() -> underLock.accept(() -> {
                held.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            LockClock.Wakeup wakeup = clock.newWakeup();
            AtomicReference<Thread> participantThread = new AtomicReference<>();
            Future<?> participant = threads.submit(() -> {
                participantThread.set(Thread.currentThread());
                clock.nanoTime(); // a participant
                underLock.accept(() -> {}); // a log line, say
                wakeup.signal();
            });
            await().until(() ->
                    participantThread.get() != null && participantThread.get().getState() == blockedState);
            // The simulation's two-hour guard: the only deadline, so a wrong jump goes straight to it.
            Future<Boolean> waiter = threads.submit(() -> wakeup.awaitUntil(clock.nanoTime() + 7200 * SECOND));
            await().during(Duration.ofMillis(100))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> clock.elapsed().isZero());
            release.countDown();

            assertThat(waiter.get(10, TimeUnit.SECONDS))
                    .as("signalled before its deadline")
                    .isTrue();
            participant.get(10, TimeUnit.SECONDS);
            outsider.get(10, TimeUnit.SECONDS);
            assertThat(clock.elapsed()).isZero();
        }
    }

    @Test
    void aWaiterRegisteringWhileTimeMovesIsWokenAtItsOwnDeadline() throws Exception {
        try (VirtualClock clock = VirtualClock.autoAdvancing()) {
            List<Future<Long>> waits = new CopyOnWriteArrayList<>();
            for (int i = 1; i <= 8; i++) {
                long seconds = i * 7L;
                waits.add(threads.submit(() -> {
                    long start = clock.nanoTime();
                    clock.newWakeup().awaitUntil(start + seconds * SECOND);
                    return clock.nanoTime() - start;
                }));
            }
            for (int i = 0; i < waits.size(); i++) {
                assertThat(waits.get(i).get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo((i + 1) * 7L * SECOND);
            }
        }
    }

    @Test
    void closingStopsTasksAndFailsWaits() throws Exception {
        VirtualClock clock = VirtualClock.manual();
        LockClock.Wakeup wakeup = clock.newWakeup();
        AtomicBoolean ran = new AtomicBoolean();
        Future<Boolean> waiting = threads.submit(() -> wakeup.awaitUntil(Long.MAX_VALUE));
        clock.schedule(Duration.ofDays(365), () -> ran.set(true));
        awaitWaiting(clock, 1);

        clock.close();
        clock.close();

        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        clock.schedule(Duration.ZERO, () -> ran.set(true)).cancel();
        assertThat(ran).isFalse();
    }

    @Test
    void rejectsBadArguments() {
        try (VirtualClock clock = VirtualClock.manual()) {
            assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("PT-1S");
            assertThatThrownBy(() -> VirtualClock.builder().quietPeriod(Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("quietPeriod");
        }
    }

    private static void awaitWaiting(VirtualClock clock, int threads) {
        await().until(() -> clock.waitingThreads() == threads);
    }
}
