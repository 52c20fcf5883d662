package io.github.replicalock.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as kubectl and Go write them ({@code 30s}, {@code 10m}, {@code 1h30m}, {@code 500ms}). */
final class Durations {
    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|h|m|s))+");
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s)");
    private static final Pattern DIGITS = Pattern.compile("\\d+");
    private static final int MAX_DIGITS = 12;

    private Durations() {}

    /**
     * Parses {@code text}: units {@code h}, {@code m}, {@code s}, {@code ms}, combined like {@code
     * 1h30m}; bare digits are seconds; ISO-8601 ({@code PT10M}) is accepted too.
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    static Duration parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (DIGITS.matcher(t).matches() && t.length() <= MAX_DIGITS) {
            return Duration.ofSeconds(Long.parseLong(t));
        }
        if (WHOLE.matcher(t).matches()) {
            Duration total = Duration.ZERO;
            Matcher part = PART.matcher(t);
            while (part.find()) {
                if (part.group(1).length() > MAX_DIGITS) {
                    throw invalid(text);
                }
                long n = Long.parseLong(part.group(1));
                total = total.plus(
                        switch (part.group(2)) {
                            case "h" -> Duration.ofHours(n);
                            case "m" -> Duration.ofMinutes(n);
                            case "s" -> Duration.ofSeconds(n);
                            default -> Duration.ofMillis(n);
                        });
            }
            return total;
        }
        if (t.startsWith("p")) {
            try {
                return Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw invalid(text);
            }
        }
        throw invalid(text);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(
                "'" + text + "' is not a duration: expected a number with a unit, such as 30s, 10m, 1h30m or 500ms");
    }

    /** {@code 1h2m3s}, {@code 45s}, {@code 1.5s} or {@code 250ms}: short, for people. */
    static String format(Duration d) {
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        long millis = d.toMillis();
        if (millis < 1000) {
            return millis + "ms";
        }
        if (millis < 10_000 && millis % 1000 != 0) {
            return String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
        }
        long seconds = d.toSeconds();
        long h = seconds / 3600;
        long m = (seconds % 3600) / 60;
        long s = seconds % 60;
        StringBuilder out = new StringBuilder();
        if (h > 0) {
            out.append(h).append('h');
        }
        if (m > 0) {
            out.append(m).append('m');
        }
        if (s > 0 || out.length() == 0) {
            out.append(s).append('s');
        }
        return out.toString();
    }
}
