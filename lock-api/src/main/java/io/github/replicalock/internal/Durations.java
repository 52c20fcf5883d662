package io.github.replicalock.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Duration arithmetic that cannot overflow: a lease of centuries means "never", not an exception. */
final class Durations {
    private Durations() {}

    /** Nanoseconds in {@code duration}, or {@link Long#MAX_VALUE} for longer than 292 years. */
    static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException longerThan292Years) {
            return Long.MAX_VALUE;
        }
    }

    /** A random wait between half of {@code cap} and {@code cap}, so that pollers do not march in step. */
    static long jitteredNanos(Duration cap) {
        long capNanos = Math.max(2, saturatedNanos(cap));
        return ThreadLocalRandom.current().nextLong(capNanos / 2, capNanos);
    }
}
