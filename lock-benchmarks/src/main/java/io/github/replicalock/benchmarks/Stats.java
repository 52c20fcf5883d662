package io.github.replicalock.benchmarks;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Order statistics of measured durations in nanoseconds: nearest-rank percentiles, so that p99 of
 * 100 samples is the 99th smallest and max is what was seen, never an interpolation.
 */
record Stats(int count, long median, long p99, long max, long min, double mean) {
    private static final Pattern COMMA = Pattern.compile(",");

    static Stats of(Collection<Long> samples) {
        return of(samples.stream().mapToLong(Long::longValue).toArray());
    }

    static Stats of(long[] samples) {
        if (samples.length == 0) {
            return new Stats(0, 0, 0, 0, 0, 0);
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        return new Stats(
                sorted.length,
                rank(sorted, 50),
                rank(sorted, 99),
                sorted[sorted.length - 1],
                sorted[0],
                Arrays.stream(sorted).average().orElse(0));
    }

    private static long rank(long[] sorted, double percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static String ms(long nanos) {
        return ms((double) nanos);
    }

    /** Milliseconds with sensible precision: 0.412 ms, 12.3 ms, 1,540 ms. */
    static String ms(double nanos) {
        double ms = nanos / 1e6;
        if (Math.abs(ms) < 1) {
            return String.format(Locale.ROOT, "%.3f ms", ms);
        }
        if (Math.abs(ms) < 100) {
            return String.format(Locale.ROOT, "%.1f ms", ms);
        }
        return String.format(Locale.ROOT, "%,.0f ms", ms);
    }

    /** Microseconds, for fake-cluster cycles; milliseconds from 1 ms up. */
    static String us(double nanos) {
        return nanos >= 1e6 ? ms(nanos) : String.format(Locale.ROOT, "%.2f µs", nanos / 1e3);
    }

    static String number(long value) {
        return number((double) value);
    }

    /** The parts of {@code text} between commas, trimmed; none for blank text. */
    static List<String> commaSeparated(String text) {
        return text.isBlank()
                ? List.of()
                : COMMA.splitAsStream(text).map(String::strip).toList();
    }

    static String number(double value) {
        if (Math.abs(value) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        if (Math.abs(value) >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    static String ratio(long ours, long anchor) {
        return ratio((double) ours, (double) anchor);
    }

    static String ratio(long ours, double anchor) {
        return ratio((double) ours, anchor);
    }

    /** "×1.00" style ratio; "—" when undefined. */
    static String ratio(double ours, double anchor) {
        if (anchor <= 0 || Double.isNaN(anchor) || Double.isNaN(ours)) {
            return "—";
        }
        double r = ours / anchor;
        return r >= 10
                ? String.format(Locale.ROOT, "×%,.0f", r)
                : r >= 0.1 ? String.format(Locale.ROOT, "×%.2f", r) : String.format(Locale.ROOT, "×%.3f", r);
    }
}
