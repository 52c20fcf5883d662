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

        assertThat(tracker.observe(TARGET, fields, 100 * SECOND)).isEqualTo(135 * SECOND);
        assertThat(tracker.observe(TARGET, fields, 120 * SECOND)).isEqualTo(135 * SECOND);
    }

    @Test
    void aRenewalRestartsTheCount() {
        tracker.observe(TARGET, held("a", 3, WALL), 0);

        assertThat(tracker.observe(TARGET, held("a", 3, WALL.plusSeconds(10)), 10 * SECOND))
                .isEqualTo(45 * SECOND);
    }

    @Test
    void aNewTokenOrHolderRestartsTheCount() {
        tracker.observe(TARGET, held("a", 3, WALL), 0);

        assertThat(tracker.observe(TARGET, held("a", 4, WALL), 7 * SECOND)).isEqualTo(42 * SECOND);
        assertThat(tracker.observe(TARGET, held("b", 4, WALL), 8 * SECOND)).isEqualTo(43 * SECOND);
    }

    @Test
    void legacyHoldersNeverExpireUnlessAForeignLeaseIsConfigured() {
        LockFields legacy = new LockFields(1, null, 0, null, null, null);

        assertThat(tracker.observe(TARGET, legacy, 0)).isEqualTo(ExpiryTracker.NEVER);

        ExpiryTracker withForeignLease = new ExpiryTracker(LockOptions.builder()
                .foreignLease(Duration.ofMinutes(1))
                .takeoverGrace(Duration.ofSeconds(5))
                .build());
        assertThat(withForeignLease.observe(TARGET, legacy, 0)).isEqualTo(65 * SECOND);
    }

    @Test
    void freeLocksAreForgotten() {
        tracker.observe(TARGET, held("a", 3, WALL), 0);
        tracker.observe(TARGET, LockFields.free(3), 50 * SECOND);

        assertThat(tracker.observe(TARGET, held("a", 3, WALL), 60 * SECOND)).isEqualTo(95 * SECOND);
    }

    @Test
    void farFutureSightingsSaturateInsteadOfOverflowing() {
        assertThat(tracker.observe(TARGET, held("a", 1, WALL), Long.MAX_VALUE - SECOND))
                .isEqualTo(ExpiryTracker.NEVER);
    }
}
