package io.github.replicalock.testkit;

import java.time.Duration;

/**
 * Real-time test timeouts, scaled for slow machines by one system property, {@value
 * #SCALE_PROPERTY} (the build passes it to every test JVM; default 1). Virtual time needs no
 * scaling: use this only for real waits, such as Awaitility's {@code atMost}.
 *
 * <pre>{@code
 * // mvn verify -Dreplicalock.test.timeoutScale=3 on a slow CI runner
 * await().atMost(Timing.scaled(Duration.ofSeconds(5))).until(lock::isHeld);
 * }</pre>
 *
 * <p>{@link VirtualClock}'s default quiet period is scaled by it too.
 */
public final class Timing {
    /** The system property holding the factor, a positive decimal number such as {@code 2.5}. */
    public static final String SCALE_PROPERTY = "replicalock.test.timeoutScale";

    private Timing() {}

    /**
     * The factor from {@value #SCALE_PROPERTY}; 1 if it is not set.
     *
     * @throws IllegalStateException if it is set to something that is not a positive number
     */
    public static double scale() {
        String value = System.getProperty(SCALE_PROPERTY);
        if (value == null || value.isBlank()) {
            return 1;
        }
        double scale;
        try {
            scale = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException(
                    "system property " + SCALE_PROPERTY + " must be a positive number, got '" + value + "'", e);
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalStateException(
                    "system property " + SCALE_PROPERTY + " must be a positive number, got '" + value + "'");
        }
        return scale;
    }

    /** {@code timeout} times {@link #scale()}, at least 1 ns. */
    public static Duration scaled(Duration timeout) {
        double scale = scale();
        if (scale == 1) {
            return timeout;
        }
        return Duration.ofNanos(Math.max(1, (long) (timeout.toNanos() * scale)));
    }
}
