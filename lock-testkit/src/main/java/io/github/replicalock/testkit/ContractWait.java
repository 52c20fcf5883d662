package io.github.replicalock.testkit;

import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Wakeup;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@link LockBackendContract}'s one wait: takes a step, and until it gives a result waits on a
 * wakeup for a signal or at most a recheck interval, failing once the contract's patience has run
 * out. Time is the contract's {@code clock()}, so a virtual-time store's waits pass in virtual time.
 */
final class ContractWait {
    private ContractWait() {}

    /** One step: the result, or null to wait again. */
    interface Step<T> {
        /** @param woken whether the wait before this step ended with a signal (false the first time) */
        @Nullable
        T take(boolean woken) throws InterruptedException;
    }

    static <T> T until(
            LockClock clock,
            Duration patience,
            Wakeup wakeup,
            long recheckNanos,
            Step<T> step,
            Supplier<String> failure)
            throws InterruptedException {
        long deadline = clock.nanoTime() + patience.toNanos();
        boolean woken = false;
        while (true) {
            T result = step.take(woken);
            if (result != null) {
                return result;
            }
            long now = clock.nanoTime();
            if (now - deadline >= 0) {
                throw new AssertionError(failure.get());
            }
            woken = wakeup.awaitUntil(now + Math.min(deadline - now, recheckNanos));
        }
    }
}
