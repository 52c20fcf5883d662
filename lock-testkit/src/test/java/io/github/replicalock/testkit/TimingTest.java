package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

@ResourceLock(Resources.SYSTEM_PROPERTIES)
class TimingTest {
    private @Nullable String saved;

    @BeforeEach
    void save() {
        saved = System.getProperty(Timing.SCALE_PROPERTY);
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(Timing.SCALE_PROPERTY);
        } else {
            System.setProperty(Timing.SCALE_PROPERTY, saved);
        }
    }

    @Test
    void scalesByTheSystemProperty() {
        System.setProperty(Timing.SCALE_PROPERTY, "2.5");

        assertThat(Timing.scaled(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(5));
        try (VirtualClock clock = VirtualClock.manual()) {
            assertThat(clock.quietPeriod()).isEqualTo(Duration.ofNanos(1_250_000));
        }
    }

    @Test
    void defaultsToOne() {
        System.clearProperty(Timing.SCALE_PROPERTY);

        assertThat(Timing.scaled(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void rejectsWhatIsNotAPositiveNumber() {
        System.setProperty(Timing.SCALE_PROPERTY, "fast");
        assertThatThrownBy(Timing::scale)
                .hasMessageContaining(Timing.SCALE_PROPERTY)
                .hasMessageContaining("'fast'");

        System.setProperty(Timing.SCALE_PROPERTY, "0");
        assertThatThrownBy(Timing::scale).hasMessageContaining("'0'");
    }
}
