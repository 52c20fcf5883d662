package io.github.replicalock.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Rfc3339Test {
    private static void same(Instant instant) {
        assertThat(Rfc3339.format(instant)).as("%s", instant).isEqualTo(instant.toString());
    }

    @Test
    void formatsAsInstantToStringDoes() {
        same(Instant.EPOCH);
        same(Instant.parse("2026-11-25T10:00:00Z"));
        same(Instant.parse("2024-02-29T23:59:59.5Z"));
        same(Instant.parse("2000-03-01T00:00:00.000001Z"));
        same(Instant.parse("1969-12-31T23:59:59.999999999Z"));
        same(Instant.parse("0000-01-01T00:00:00Z"));
        same(Instant.parse("9999-12-31T23:59:59.123Z"));
        same(Instant.parse("+10000-01-01T00:00:00Z"));
        same(Instant.MIN);
        same(Instant.MAX);
        SplittableRandom random = new SplittableRandom(42);
        long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 50_000; i++) {
            int nano = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            same(Instant.ofEpochSecond(random.nextLong(min, max + 1), nano));
        }
    }
}
