package io.github.replicalock.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LockAnnotationsTest {
    private static final LockTarget TARGET = LockTarget.of("ci", "builder");
    private static final Instant NOW = Instant.parse("2030-01-01T10:00:00.250Z");

    private static Map<String, String> written(LockFields fields) {
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("deployment.kubernetes.io/revision", "3");
        LockAnnotations.write(fields, (key, value) -> {
            if (value == null) {
                annotations.remove(key);
            } else {
                annotations.put(key, value);
            }
        });
        return annotations;
    }

    private static LockFields parse(int replicas, Map<String, String> annotations) {
        return LockAnnotations.parse(TARGET, replicas, annotations);
    }

    @Test
    void aHoldIsWrittenInTheCanonicalForm() {
        LockFields held = LockFields.free(6).heldBy("build-7", 7, NOW, Duration.ofSeconds(30));

        assertThat(written(held))
                .containsExactly(
                        Map.entry("deployment.kubernetes.io/revision", "3"),
                        Map.entry(LockFields.HOLDER_ANNOTATION, "build-7"),
                        Map.entry(LockFields.TOKEN_ANNOTATION, "7"),
                        Map.entry(LockFields.ACQUIRED_ANNOTATION, "2030-01-01T10:00:00.250Z"),
                        Map.entry(LockFields.RENEWED_ANNOTATION, "2030-01-01T10:00:00.250Z"),
                        Map.entry(LockFields.LEASE_ANNOTATION, "30"));
    }

    @Test
    void aFreeLockKeepsAnEmptyHolderAndTheTokenAndRemovesTheRest() {
        LockFields held = LockFields.free(6).heldBy("build-7", 7, NOW, Duration.ofSeconds(30));
        Map<String, String> annotations = written(held);
        LockAnnotations.write(held.released(), (key, value) -> {
            if (value == null) {
                annotations.remove(key);
            } else {
                annotations.put(key, value);
            }
        });

        assertThat(annotations)
                .containsOnly(
                        Map.entry("deployment.kubernetes.io/revision", "3"),
                        Map.entry(LockFields.HOLDER_ANNOTATION, ""),
                        Map.entry(LockFields.TOKEN_ANNOTATION, "7"));
        assertThat(parse(0, annotations)).isEqualTo(LockFields.free(7));
    }

    @Test
    void aFractionalLeaseIsWrittenRoundedUpNeverShorter() {
        for (Duration lease : new Duration[] {
            Duration.ofMillis(2500), Duration.ofMillis(1), Duration.ofMillis(29_001), Duration.ofNanos(30_000_000_001L)
        }) {
            LockFields held = LockFields.free(0).heldBy("b", 1, NOW, lease);

            Duration stored = parse(1, written(held)).lease();

            assertThat(stored).as("%s", lease).isNotNull().isGreaterThanOrEqualTo(lease);
            assertThat(stored).as("%s", lease).isLessThan(lease.plusSeconds(1));
        }
        assertThat(LockAnnotations.leaseText(Duration.ofMillis(2500))).isEqualTo("3");
        assertThat(LockAnnotations.leaseText(Duration.ofSeconds(2))).isEqualTo("2");
    }

    @Test
    void storedIsWhatAReadReturnsAfterTheWrite() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            Instant acquired =
                    Instant.ofEpochSecond(random.nextLong(0, 253_402_300_799L), random.nextInt(1_000_000_000));
            Instant renewed = random.nextBoolean() ? acquired : acquired.plusNanos(random.nextLong(1, 1L << 40));
            Duration lease = random.nextInt(5) == 0 ? null : Duration.ofNanos(random.nextLong(1, 1L << 45));
            LockFields fields = switch (random.nextInt(3)) {
                case 0 -> LockFields.free(random.nextLong(0, Long.MAX_VALUE));
                case 1 -> new LockFields(1, null, random.nextLong(0, 1000), null, null, lease);
                default -> new LockFields(1, "build-" + i, random.nextLong(0, 1000), acquired, renewed, lease);
            };

            assertThat(parse(fields.replicas(), written(fields)))
                    .as("%s", fields)
                    .isEqualTo(LockAnnotations.stored(fields));
        }
    }

    @Test
    void absentEmptyAndBlankValuesAllMeanNotSet() {
        for (@Nullable String blank : Arrays.asList(null, "", " ", "\t \n")) {
            Map<String, String> annotations = new HashMap<>();
            if (blank != null) {
                for (String key : keys()) {
                    annotations.put(key, blank);
                }
            }

            assertThat(parse(1, annotations)).as("'%s'", blank).isEqualTo(new LockFields(1, null, 0, null, null, null));
        }
    }

    @Test
    void numbersAndInstantsAreTrimmedTheHolderIsNot() {
        LockFields fields = parse(
                1,
                Map.of(
                        LockFields.HOLDER_ANNOTATION, " build-7 ",
                        LockFields.TOKEN_ANNOTATION, " 7\n",
                        LockFields.ACQUIRED_ANNOTATION, " 2030-01-01T12:00:00+02:00 ",
                        LockFields.RENEWED_ANNOTATION, "2030-01-01T10:00:00.250Z\t",
                        LockFields.LEASE_ANNOTATION, " 45 "));

        assertThat(fields)
                .isEqualTo(new LockFields(
                        1, " build-7 ", 7, Instant.parse("2030-01-01T10:00:00Z"), NOW, Duration.ofSeconds(45)));
    }

    @ParameterizedTest
    @CsvSource(
            delimiterString = "|",
            value = {
                "replicalock.io/token         | -5                     | a non-negative decimal integer",
                "replicalock.io/token         | +5                     | a non-negative decimal integer",
                "replicalock.io/token         | seven                  | a non-negative decimal integer",
                "replicalock.io/token         | 7.0                    | a non-negative decimal integer",
                "replicalock.io/token         | 9223372036854775808    | a non-negative decimal integer",
                "replicalock.io/token         | 1 2                    | a non-negative decimal integer",
                "replicalock.io/lease-seconds | 0                      | a positive whole number of seconds",
                "replicalock.io/lease-seconds | -30                    | a positive whole number of seconds",
                "replicalock.io/lease-seconds | 2.5                    | a positive whole number of seconds",
                "replicalock.io/lease-seconds | 30s                   | a positive whole number of seconds",
                "replicalock.io/acquired      | yesterday              | an RFC 3339 instant",
                "replicalock.io/renewed       | 2030-01-01T10:00:00    | an RFC 3339 instant",
                "replicalock.io/renewed       | 1893492000             | an RFC 3339 instant",
            })
    void aMalformedValueIsRejectedNamingKeyValueAndExpectation(String key, String value, String expected) {
        assertThatThrownBy(() -> parse(1, Map.of(key, value)))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageStartingWith("ci/builder: ")
                .hasMessageContaining("annotation " + key + " has value '" + value + "'")
                .hasMessageContaining("expected " + expected);
    }

    @Test
    void whatAReadWouldRejectIsNeverWritten() {
        LockFields negativeToken = new LockFields(0, null, -1, null, null, null);
        LockFields zeroLease = new LockFields(1, "b", 1, NOW, NOW, Duration.ZERO);
        LockFields negativeLease = new LockFields(1, "b", 1, NOW, NOW, Duration.ofSeconds(-1));

        assertThatThrownBy(() -> written(negativeToken))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(LockFields.TOKEN_ANNOTATION)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> written(zeroLease))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(LockFields.LEASE_ANNOTATION)
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> LockAnnotations.stored(negativeLease)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void otherAnnotationsAreIgnored() {
        assertThat(parse(0, Map.of("example.com/token", "seven", "replicalock.io/other", "x")))
                .isEqualTo(LockFields.free(0));
    }

    private static String[] keys() {
        return new String[] {
            LockFields.HOLDER_ANNOTATION,
            LockFields.TOKEN_ANNOTATION,
            LockFields.ACQUIRED_ANNOTATION,
            LockFields.RENEWED_ANNOTATION,
            LockFields.LEASE_ANNOTATION
        };
    }
}
