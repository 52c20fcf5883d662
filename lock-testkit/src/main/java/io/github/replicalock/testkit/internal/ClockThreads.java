package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockClock;
import java.util.concurrent.CountDownLatch;

/** How the simulation's own threads (scripts, chaos, schedulers) take part in virtual time. */
final class ClockThreads {
    private ClockThreads() {}

    /**
     * Makes the calling thread a participant of {@code clock}'s virtual time (it touches the clock),
     * then counts {@code started} down, also if the clock is closed; returns the clock's reading.
     */
    static long join(LockClock clock, CountDownLatch started) {
        try {
            return clock.nanoTime();
        } finally {
            started.countDown();
        }
    }

    /** Waits until {@code clock}'s {@link LockClock#nanoTime()} reaches {@code deadline}. */
    static void sleepUntil(LockClock clock, long deadline) throws InterruptedException {
        LockClock.Wakeup wakeup = clock.newWakeup();
        while (clock.nanoTime() - deadline < 0) {
            wakeup.awaitUntil(deadline);
        }
    }
}
