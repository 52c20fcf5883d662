package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "30s, PT30S",
        "10m, PT10M",
        "1h30m, PT1H30M",
        "2m30s, PT2M30S",
        "500ms, PT0.5S",
        "1m500ms, PT1M0.5S",
        "120, PT2M",
        "PT10M, PT10M",
        "' 5S ', PT5S",
        "0s, PT0S"
    })
    void parsesWhatKubectlUsersWrite(String text, String iso) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "soon", "-5s", "1.5s", "5x", "m", "10 m", "P", "1234567890123s"})
    void rejectsEverythingElseNamingTheText(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + text + "' is not a duration: expected a number with a unit, such as 30s, 10m,"
                        + " 1h30m or 500ms");
    }

    @ParameterizedTest
    @CsvSource({"PT0.25S, 250ms", "PT1.5S, 1.5s", "PT45S, 45s", "PT1H2M3S, 1h2m3s", "PT10M, 10m", "PT0S, 0ms"})
    void formatsShortly(String iso, String text) {
        assertThat(Durations.format(Duration.parse(iso))).isEqualTo(text);
    }
}
