package io.github.replicalock.benchmarks;

import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** One line per step on standard error (UTC times), so that a ten-minute run shows where it is. */
final class Progress {
    private Progress() {}

    static void log(String message) {
        System.err.println(LocalTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS) + " " + message);
    }
}
