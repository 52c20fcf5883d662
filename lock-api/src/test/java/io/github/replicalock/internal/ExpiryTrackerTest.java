package io.github.replicalock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ExpiryTrackerTest {
    private static final LockTarget TARGET = LockTarget.of("apps", "buildah-external");
    private static final long SECOND = 1_000_000_000L;
    private static final Instant WALL = Instant.parse("2026-11-25T10:00:00Z");

    private final ExpiryTracker tracker = new ExpiryTracker(
            LockOptions.builder().takeoverGrace(Duration.ofSeconds(5)).build());

    private static LockFields held(String holder, long token, Instant renewed) {
        return new LockFields(1, holder, token, WALL, renewed, Duration.ofSeconds(30));
    }

    @Test
    void countsTheLeaseFromTheFirstSightingOnTheLocalClock() {
        // The holder's wall clock says it renewed long ago; only our own observation counts.
        LockFields fields = held("a", 3, WALL.minusSeconds(3600));

        assertThat(tracker.remainingNanos(TARGET, fields, 100 * SECOND, 100 * SECOND))
                .isEqualTo(35 * SECOND);
        assertThat(tracker.remainingNanos(TARGET, fields, 120 * SECOND, 120 * SECOND))
                .isEqualTo(15 * SECOND);
        assertThat(tracker.remainingNanos(TARGET, fields, 140 * SECOND, 140 * SECOND))
                .isEqualTo(-5 * SECOND);
    }

    @Test
    void aRenewalRestartsTheCount() {
        tracker.remainingNanos(TARGET, held("a", 3, WALL), 0, 0);

        assertThat(tracker.remainingNanos(TARGET, held("a", 3, WALL.plusSeconds(10)), 10 * SECOND, 10 * SECOND))
                .isEqualTo(35 * SECOND);
    }

    @Test
    void aNewTokenOrHolderRestartsTheCount() {
        tracker.remainingNanos(TARGET, held("a", 3, WALL), 0, 0);

        assertThat(tracker.remainingNanos(TARGET, held("a", 4, WALL), 7 * SECOND, 7 * SECOND))
                .isEqualTo(35 * SECOND);
        assertThat(tracker.remainingNanos(TARGET, held("b", 4, WALL), 8 * SECOND, 8 * SECOND))
                .isEqualTo(35 * SECOND);
    }

    @Test
    void legacyHoldersNeverExpireUnlessAForeignLeaseIsConfigured() {
        LockFields legacy = new LockFields(1, null, 0, null, null, null);

        assertThat(tracker.remainingNanos(TARGET, legacy, 0, 0)).isEqualTo(ExpiryTracker.NEVER);

        ExpiryTracker withForeignLease = new ExpiryTracker(LockOptions.builder()
                .foreignLease(Duration.ofMinutes(1))
                .takeoverGrace(Duration.ofSeconds(5))
                .build());
        assertThat(withForeignLease.remainingNanos(TARGET, legacy, 0, 0)).isEqualTo(65 * SECOND);
    }

    @Test
    void freeLocksAreForgotten() {
        tracker.remainingNanos(TARGET, held("a", 3, WALL), 0, 0);
        tracker.remainingNanos(TARGET, LockFields.free(3), 50 * SECOND, 50 * SECOND);

        assertThat(tracker.remainingNanos(TARGET, held("a", 3, WALL), 60 * SECOND, 60 * SECOND))
                .isEqualTo(35 * SECOND);
    }

    @Test
    void countsOnlyDifferencesSoAnyClockOriginWorks() {
        long[] origins = {Long.MIN_VALUE, -(1L << 62), -1, 0, Long.MAX_VALUE - 10 * SECOND, Long.MAX_VALUE};
        for (long origin : origins) {
            ExpiryTracker fresh = new ExpiryTracker(
                    LockOptions.builder().takeoverGrace(Duration.ofSeconds(5)).build());
            LockFields fields = held("a", 1, WALL);
            LockFields legacy = new LockFields(1, null, 0, null, null, null);
            LockTarget shell = LockTarget.of("apps", "shell-held");

            fresh.remainingNanos(TARGET, fields, origin, origin);
            fresh.remainingNanos(shell, legacy, origin, origin);

            // 40 s later: past the 30 s lease and 5 s grace, even where origin + 40 s wraps.
            assertThat(fresh.remainingNanos(TARGET, fields, origin + 40 * SECOND, origin + 40 * SECOND))
                    .as("origin %d", origin)
                    .isEqualTo(-5 * SECOND);
            assertThat(fresh.remainingNanos(shell, legacy, origin + 40 * SECOND, origin + 40 * SECOND))
                    .as("origin %d", origin)
                    .isEqualTo(ExpiryTracker.NEVER);
        }
    }

    @Test
    void aLeaseTooLongForNanosecondsNeverExpires() {
        LockFields centuries = new LockFields(1, "a", 1, WALL, WALL, Duration.ofDays(365L * 1000));

        assertThat(tracker.remainingNanos(TARGET, centuries, 0, 0)).isEqualTo(ExpiryTracker.NEVER);
    }

    @Test
    void aLeaseAnnotationOfLongMaxSecondsNeverExpires() {
        LockFields forever = new LockFields(1, "a", 1, WALL, WALL, Duration.ofSeconds(Long.MAX_VALUE));

        assertThat(tracker.remainingNanos(TARGET, forever, 0, 0)).isEqualTo(ExpiryTracker.NEVER);
    }

    @Test
    void aPauseAfterTheReadDoesNotCountAgainstTheHolder() {
        LockFields fields = held("a", 3, WALL);
        tracker.remainingNanos(TARGET, fields, 0, 0);

        // Read at 1 s, then the process stopped for a minute before judging: the read still only
        // proves that nothing changed for 1 s.
        assertThat(tracker.remainingNanos(TARGET, fields, SECOND, 61 * SECOND)).isEqualTo(34 * SECOND);
    }

    @Test
    void aHoldFirstSeenIsDatedAtTheEndOfItsRead() {
        LockFields fields = held("a", 3, WALL);

        // The read took 5 s: the holder may have renewed just before it returned.
        assertThat(tracker.remainingNanos(TARGET, fields, 0, 5 * SECOND)).isEqualTo(40 * SECOND);
    }
}
