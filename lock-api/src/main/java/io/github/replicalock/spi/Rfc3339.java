package io.github.replicalock.spi;

import java.time.Instant;

/**
 * {@link Instant#toString()}'s text, several times faster for the years 0 to 9999: every
 * acquisition and renewal formats two instants, and in the fake cluster, with {@code
 * DateTimeFormatter} behind {@code Instant.toString}, that was a tenth of a cycle. Other years take
 * {@code toString}. Used by {@link LockAnnotations} only.
 */
final class Rfc3339 {
    private static final long SECONDS_PER_DAY = 86_400;
    // Days from 0000-03-01 to 1970-01-01, for the civil-from-days algorithm below.
    private static final long DAYS_0000_TO_1970 = 719_468;
    private static final long MIN_FAST = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    private static final long MAX_FAST = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();

    private Rfc3339() {}

    static String format(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < MIN_FAST || seconds > MAX_FAST) {
            return instant.toString();
        }
        long days = Math.floorDiv(seconds, SECONDS_PER_DAY);
        int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
        // Howard Hinnant's days_from_civil, inverted: exact for the proleptic Gregorian calendar.
        long z = days + DAYS_0000_TO_1970;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        int year = (int) (yearOfEra + era * 400 + (month <= 2 ? 1 : 0));

        int nano = instant.getNano();
        char[] out = new char[30];
        int i = 0;
        i = digits(out, i, year, 4);
        out[i++] = '-';
        i = digits(out, i, month, 2);
        out[i++] = '-';
        i = digits(out, i, day, 2);
        out[i++] = 'T';
        i = digits(out, i, secondOfDay / 3600, 2);
        out[i++] = ':';
        i = digits(out, i, secondOfDay / 60 % 60, 2);
        out[i++] = ':';
        i = digits(out, i, secondOfDay % 60, 2);
        if (nano != 0) {
            out[i++] = '.';
            if (nano % 1_000_000 == 0) {
                i = digits(out, i, nano / 1_000_000, 3);
            } else if (nano % 1000 == 0) {
                i = digits(out, i, nano / 1000, 6);
            } else {
                i = digits(out, i, nano, 9);
            }
        }
        out[i++] = 'Z';
        return new String(out, 0, i);
    }

    private static int digits(char[] out, int at, int value, int width) {
        int v = value;
        for (int k = at + width - 1; k >= at; k--) {
            out[k] = (char) ('0' + v % 10);
            v /= 10;
        }
        return at + width;
    }
}
