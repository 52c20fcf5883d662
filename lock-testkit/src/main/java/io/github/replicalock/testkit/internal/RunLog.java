package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one run records, from any of its threads: the violations (the first 20), the counts, and a
 * trace of the latest 400 events, each line dated in virtual time since the clock's start.
 */
final class RunLog {
    private static final int MAX_VIOLATIONS = 20;
    private static final int MAX_TRACE = 400;

    private final VirtualClock clock;
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    RunLog(VirtualClock clock) {
        this.clock = clock;
    }

    void violation(String what) {
        if (violations.size() < MAX_VIOLATIONS) {
            violations.add(now() + " " + what);
        }
        trace(now() + " VIOLATION " + what);
    }

    void count(String what) {
        count(what, 1);
    }

    void count(String what, long n) {
        counts.computeIfAbsent(what, k -> new LongAdder()).add(n);
    }

    void trace(String line) {
        synchronized (trace) {
            trace.add(line);
            if (trace.size() > MAX_TRACE) {
                trace.removeFirst();
            }
        }
    }

    List<String> violations() {
        return violations;
    }

    /** The counts so far, sorted by name. */
    Map<String, Long> counts() {
        Map<String, Long> counted = new TreeMap<>();
        counts.forEach((k, v) -> counted.put(k, v.sum()));
        return counted;
    }

    List<String> traceLines() {
        synchronized (trace) {
            return List.copyOf(trace);
        }
    }

    /** The clock's virtual time now, as {@link #seconds}. */
    String now() {
        return seconds(clock.elapsed());
    }

    static String at(Instant instant) {
        return seconds(since(instant));
    }

    static Duration since(Instant instant) {
        return Duration.between(VirtualClock.DEFAULT_START, instant);
    }

    /** Seconds with milliseconds, such as {@code 12.250s}; no String.format, which is slow to initialise. */
    static String seconds(Duration d) {
        long millis = d.toMillis();
        long fraction = Math.abs(millis % 1000);
        return millis / 1000 + "." + (fraction < 100 ? (fraction < 10 ? "00" : "0") : "") + fraction + "s";
    }

    static String describe(LockFields f) {
        return "(" + f.replicas() + ", " + f.holder() + ", " + f.token() + ")";
    }

    /** The exception with its first 12 frames and what it suppressed. */
    static String stackOf(Throwable e) {
        StringBuilder s = new StringBuilder(e.toString());
        appendFrames(s, e.getStackTrace(), 12);
        for (Throwable suppressed : e.getSuppressed()) {
            s.append("\n    suppressed: ").append(suppressed);
        }
        return s.toString();
    }

    static void appendFrames(StringBuilder s, StackTraceElement[] frames, int max) {
        for (int i = 0; i < Math.min(max, frames.length); i++) {
            s.append("\n    at ").append(frames[i]);
        }
    }
}
