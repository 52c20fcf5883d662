package io.github.replicalock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LockOptionsTest {

    @Test
    void defaultsMatchTheShellStepsTimeouts() {
        LockOptions options = LockOptions.defaults();

        assertThat(options.leaseDuration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(options.renewInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(options.readyTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(options.releaseTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(options.foreignLease()).isEmpty();
        assertThat(options.fairness()).isEqualTo(Fairness.FIFO);
    }

    @Test
    void fairnessIsSetRoundTripsAndShows() {
        LockOptions barging = LockOptions.builder().fairness(Fairness.BARGING).build();

        assertThat(barging.fairness()).isEqualTo(Fairness.BARGING);
        assertThat(barging.toBuilder().build()).isEqualTo(barging);
        assertThat(barging.toString()).contains("fairness=BARGING");
        assertThat(LockOptions.defaults().toString()).contains("fairness=FIFO");
        assertThatThrownBy(() -> LockOptions.builder().fairness(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("fairness must not be null");
    }

    @Test
    void renewIntervalFollowsTheLeaseUnlessSet() {
        LockOptions options =
                LockOptions.builder().leaseDuration(Duration.ofSeconds(9)).build();

        assertThat(options.renewInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(options.toBuilder()
                        .renewInterval(Duration.ofSeconds(1))
                        .build()
                        .renewInterval())
                .isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void toBuilderRoundTrips() {
        LockOptions options = LockOptions.builder()
                .leaseDuration(Duration.ofSeconds(12))
                .readyTimeout(Duration.ofSeconds(5))
                .releaseTimeout(Duration.ofSeconds(6))
                .takeoverGrace(Duration.ofSeconds(2))
                .foreignLease(Duration.ofMinutes(30))
                .fallbackPollInterval(Duration.ofSeconds(3))
                .fairness(Fairness.BARGING)
                .build();

        assertThat(options.toBuilder().build()).isEqualTo(options).hasSameHashCodeAs(options);
        assertThat(options.foreignLease()).contains(Duration.ofMinutes(30));
    }

    /**
     * One builder change per field that {@code equals} compares. {@link
     * #everyFieldIsCoveredByAVariant} fails when a field is added without a variant here.
     */
    static Stream<Arguments> oneFieldChanged() {
        return Stream.of(
                Arguments.of("leaseDuration", (Variant) b -> b.leaseDuration(Duration.ofSeconds(31))),
                Arguments.of("renewInterval", (Variant) b -> b.renewInterval(Duration.ofSeconds(11))),
                Arguments.of("readyTimeout", (Variant) b -> b.readyTimeout(Duration.ofSeconds(121))),
                Arguments.of("releaseTimeout", (Variant) b -> b.releaseTimeout(Duration.ofSeconds(61))),
                Arguments.of("takeoverGrace", (Variant) b -> b.takeoverGrace(Duration.ofSeconds(6))),
                Arguments.of("foreignLease", (Variant) b -> b.foreignLease(Duration.ofMinutes(30))),
                Arguments.of("fallbackPollInterval", (Variant) b -> b.fallbackPollInterval(Duration.ofSeconds(6))),
                Arguments.of("fairness", (Variant) b -> b.fairness(Fairness.BARGING)));
    }

    interface Variant {
        LockOptions.Builder apply(LockOptions.Builder builder);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneFieldChanged")
    void equalsAndHashCodeBothSeeEveryField(String field, Variant variant) {
        LockOptions base = LockOptions.defaults();
        LockOptions changed = variant.apply(base.toBuilder()).build();
        LockOptions changedAgain = variant.apply(base.toBuilder()).build();

        assertThat(changed).as(field).isNotEqualTo(base);
        assertThat(changed.hashCode()).as(field + " must change the hash code").isNotEqualTo(base.hashCode());
        assertThat(changedAgain).isEqualTo(changed).hasSameHashCodeAs(changed);
    }

    @Test
    void everyFieldIsCoveredByAVariant() {
        Set<String> stored = Arrays.stream(LockOptions.class.getDeclaredFields())
                .filter(f -> !Modifier.isStatic(f.getModifiers()))
                .map(Field::getName)
                // Derived from leaseDuration and renewInterval, not configured on its own.
                .filter(name -> !name.equals("effectiveRenewInterval"))
                .collect(Collectors.toSet());
        Set<String> varied = oneFieldChanged().map(a -> (String) a.get()[0]).collect(Collectors.toSet());

        assertThat(varied).isEqualTo(stored);
    }

    static Stream<Arguments> setters() {
        return Stream.of(
                Arguments.of("leaseDuration", (SetterCall) LockOptions.Builder::leaseDuration),
                Arguments.of("renewInterval", (SetterCall) LockOptions.Builder::renewInterval),
                Arguments.of("readyTimeout", (SetterCall) LockOptions.Builder::readyTimeout),
                Arguments.of("releaseTimeout", (SetterCall) LockOptions.Builder::releaseTimeout),
                Arguments.of("takeoverGrace", (SetterCall) LockOptions.Builder::takeoverGrace),
                Arguments.of("foreignLease", (SetterCall) LockOptions.Builder::foreignLease),
                Arguments.of("fallbackPollInterval", (SetterCall) LockOptions.Builder::fallbackPollInterval));
    }

    interface SetterCall {
        LockOptions.Builder set(LockOptions.Builder builder, Duration value);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setters")
    void everySetterRejectsNullZeroAndNegative(String field, SetterCall setter) {
        Consumer<Duration> call = value -> setter.set(LockOptions.builder(), value);

        assertThatThrownBy(() -> call.accept(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage(field + " must not be null");
        assertThatThrownBy(() -> call.accept(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(field + " must be positive, got PT0S");
        assertThatThrownBy(() -> call.accept(Duration.ofSeconds(-3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(field + " must be positive, got PT-3S");
    }

    @Test
    void buildRejectsARenewIntervalNotShorterThanTheLease() {
        LockOptions.Builder builder =
                LockOptions.builder().leaseDuration(Duration.ofSeconds(10)).renewInterval(Duration.ofSeconds(10));

        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("renewInterval PT10S must be shorter than leaseDuration PT10S");
    }
}
