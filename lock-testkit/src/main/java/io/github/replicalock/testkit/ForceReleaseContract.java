package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The force-release record of {@link LockBackendContract} (docs/lock-protocol.md section 10.8),
 * kept apart so that the contract reads as a list of what a backend must do.
 */
final class ForceReleaseContract {
    private ForceReleaseContract() {}

    /**
     * The breaking write is an ordinary conditional write carrying the record; the record reads back
     * from this backend and another, and later writes without one leave it stored.
     */
    static void theRecordIsWrittenWithTheBreakingWriteAndKept(LockBackend backend, LockBackend other, LockTarget target)
            throws Exception {
        assertThat(backend.read(target).fields().forceReleased()).isNull();
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        LockFields held = LockFields.free(0).heldBy("drone-build-41", 7, now, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();
        ForceRelease act = new ForceRelease(7, "drone-build-41", now, "ops-alice", "builder wedged: INC-1234");

        LockFields wrongToken = new LockFields(1, "drone-build-41", 6, now, now, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(target, wrongToken, wrongToken.forceReleasedBy(act)))
                .as("tested on the hold seen, like every conditional write")
                .isFalse();
        assertThat(backend.readFresh(target).fields().forceReleased()).isNull();

        assertThat(backend.compareAndSet(target, held, held.forceReleasedBy(act)))
                .isTrue();
        LockFields broken = backend.readFresh(target).fields();
        assertThat(broken.sameLockAs(LockFields.free(7))).isTrue();
        assertThat(broken.forceReleased()).isEqualTo(act);
        assertThat(other.readFresh(target).fields().forceReleased()).isEqualTo(act);

        LockFields next = broken.heldBy("drone-build-42", 8, now, Duration.ofSeconds(30));
        assertThat(next.forceReleased())
                .as("a write that is not a force-release carries none")
                .isNull();
        assertThat(backend.compareAndSet(target, broken, next)).isTrue();
        assertThat(backend.compareAndSet(target, next, next.released())).isTrue();
        assertThat(backend.readFresh(target).fields().forceReleased())
                .as("the audit trail outlives later writes")
                .isEqualTo(act);
        assertThat(other.readFresh(target).fields().forceReleased()).isEqualTo(act);
    }
}
