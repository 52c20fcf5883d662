package io.github.replicalock.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.Instant;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ForceReleaseTest {
    private static final LockTarget TARGET = LockTarget.of("ci", "builder");
    private static final Instant AT = Instant.parse("2026-12-03T09:12:00Z");
    private static final ForceRelease ACT =
            new ForceRelease(7, "drone-build-41", AT, "ops-alice", "builder wedged on a stuck mount, INC-1234");

    @Test
    void isWrittenAsOneKeyValueLinePerField() {
        assertThat(ACT.text())
                .isEqualTo("token: 7\nholder: drone-build-41\nat: 2026-12-03T09:12:00Z\nby: ops-alice\n"
                        + "reason: builder wedged on a stuck mount, INC-1234");
        assertThat(ACT.describe())
                .isEqualTo("force-released by ops-alice at 2026-12-03T09:12:00Z: builder wedged on a stuck mount,"
                        + " INC-1234");
    }

    @Test
    void parsingWhatWasWrittenGivesTheSameRecord() {
        ForceRelease legacyHold = new ForceRelease(0, null, AT.plusNanos(1), "ops bob ", "shell step never cleaned up");
        ForceRelease spaced = new ForceRelease(Long.MAX_VALUE, " build 9 ", AT, "a: b", "reason: with a colon ");

        for (ForceRelease act : new ForceRelease[] {ACT, legacyHold, spaced}) {
            assertThat(ForceRelease.parse(TARGET, act.text())).isEqualTo(act);
        }
        assertThat(legacyHold.text()).contains("\nholder: \n");
    }

    @Test
    void absentEmptyAndBlankTextsMeanNeverForceReleased() {
        for (@Nullable String blank : Arrays.asList(null, "", " \n ")) {
            assertThat(ForceRelease.parse(TARGET, blank)).isNull();
        }
    }

    @Test
    void otherKeysBlankLinesAndKeyOrderAreTolerated() {
        String text =
                "reason: stuck\r\n\nticket: INC-9\nby: ops\nat:  2026-12-03T10:12:00+01:00 \ntoken: 7 \nholder: b";

        assertThat(ForceRelease.parse(TARGET, text)).isEqualTo(new ForceRelease(7, "b", AT, "ops", "stuck"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiterString = "|",
            value = {
                "token: seven                 | token 'seven' is not a non-negative decimal integer",
                "token: -7                    | token '-7' is not a non-negative decimal integer",
                "at: yesterday                | at 'yesterday' is not an RFC 3339 instant",
                "at: 2026-12-03T09:12:00      | at '2026-12-03T09:12:00' is not an RFC 3339 instant",
                "by:                          | by '' must be 1 to 253 characters",
                "'reason:  '                  | force-release reason ' ' must be 1 to 1024 characters",
                "token: 8                     | token' appears twice",
            })
    void aMalformedFieldIsRejectedNamingKeyValueAndExpectation(String replacement, String problem) {
        String key = replacement.substring(0, replacement.indexOf(':'));
        String text = problem.contains("twice")
                ? ACT.text() + "\n" + replacement
                : ACT.text().replaceFirst("(?m)^" + key + ":.*$", replacement);

        assertThatThrownBy(() -> ForceRelease.parse(TARGET, text))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageStartingWith(
                        "ci/builder: annotation replicalock.io/force-released has value '" + text + "', expected")
                .hasMessageContaining("'token: <token>', 'holder: <holder>', 'at: <RFC 3339 instant>'")
                .hasMessageContaining(problem);
    }

    @ParameterizedTest
    @ValueSource(strings = {"token", "holder", "at", "by", "reason"})
    void everyKeyIsRequired(String key) {
        String text = ACT.text().replaceFirst("(?m)^" + key + ":.*(\n|$)", "");

        assertThatThrownBy(() -> ForceRelease.parse(TARGET, text))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("'" + key + ": ' is missing");
    }

    @Test
    void aReasonMustBeOneShortLine() {
        assertThat(ForceRelease.checkReason("x".repeat(1024))).hasSize(1024);
        for (String bad : new String[] {"", "   ", "x".repeat(1025), "two\nlines", "bell\u0007"}) {
            assertThatThrownBy(() -> ForceRelease.checkReason(bad))
                    .as("'%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must be 1 to 1024 characters, not blank, on one line");
        }
        assertThatThrownBy(() -> ForceRelease.checkReason(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("reason");
    }

    @Test
    void whatAReadWouldRejectIsNeverWritten() {
        assertThatThrownBy(() -> new ForceRelease(-1, "h", AT, "ops", "why"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> new ForceRelease(1, "h", AT, " ", "why"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("by ' '");
        assertThatThrownBy(() -> new ForceRelease(1, "h\n", AT, "ops", "why"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holder");
        assertThatThrownBy(() -> new ForceRelease(1, "h", AT, "ops", "two\nlines"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
