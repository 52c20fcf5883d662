package io.github.replicalock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.QueueEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LockStatesTest {
    private static final LockTarget TARGET = LockTarget.of("apps", "buildah-external");
    private static final PodSnapshot READY = new PodSnapshot("buildah-external-a1b2c", true, false, "Running");
    private static final PodSnapshot STARTING = new PodSnapshot(
            "buildah-external-d3e4f", false, false, "Pending; container builder waiting: ImagePullBackOff");
    private static final PodSnapshot TERMINATING = new PodSnapshot("buildah-external-g5h6i", true, true, "Running");

    private static LockRecord record(int replicas, String holder, List<PodSnapshot> pods) {
        LockFields fields = new LockFields(
                replicas, holder, 4, Instant.EPOCH, Instant.EPOCH, holder == null ? null : Duration.ofSeconds(30));
        return new LockRecord(
                fields, (int) pods.stream().filter(PodSnapshot::ready).count(), "app=buildah-external", pods);
    }

    @Test
    void followsTheKubectlReadyColumn() {
        assertThat(LockStates.state(record(0, null, List.of()))).isEqualTo(LockState.IDLE);
        assertThat(LockStates.state(record(1, "a", List.of()))).isEqualTo(LockState.STARTING);
        assertThat(LockStates.state(record(1, "a", List.of(STARTING)))).isEqualTo(LockState.STARTING);
        assertThat(LockStates.state(record(1, "a", List.of(READY)))).isEqualTo(LockState.ACTIVE);
        assertThat(LockStates.state(record(0, null, List.of(TERMINATING)))).isEqualTo(LockState.RELEASING);
        // A ready pod that is terminating belongs to the previous hold, never to the new one.
        assertThat(LockStates.state(record(1, "a", List.of(TERMINATING)))).isEqualTo(LockState.STARTING);
    }

    @Test
    void replicasAboveOneAndMissingSelectorsAreUnknownWithAReason() {
        LockStatus three = LockStates.status(TARGET, record(3, null, List.of()), Instant.EPOCH);
        LockRecord noSelector = new LockRecord(LockFields.free(0), 0, null, List.of());

        assertThat(three.state()).isEqualTo(LockState.UNKNOWN);
        assertThat(three.reason()).hasValue("replicas is 3, expected 0 (free) or 1 (held)");
        assertThat(LockStates.status(TARGET, noSelector, Instant.EPOCH).reason().orElseThrow())
                .contains("no selector");
        assertThatThrownBy(() -> LockStates.requireLock(TARGET, noSelector))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageStartingWith("apps/buildah-external: not a replica lock");
    }

    @Test
    void aHoldWithoutHolderAnnotationIsShownAsUnknownHolder() {
        LockStatus legacy = LockStates.status(TARGET, record(1, null, List.of(READY)), Instant.EPOCH);

        assertThat(legacy.holder()).hasValue("unknown");
        assertThat(legacy.ready()).isEqualTo("1/1");
        assertThat(LockStates.status(TARGET, record(0, null, List.of()), Instant.EPOCH)
                        .holder())
                .isEmpty();
    }

    @Test
    void theQueueIsShownHeadFirstWithHowLongEachHasWaited() {
        Instant now = Instant.parse("2026-12-03T09:05:00Z");
        LockQueue queue = LockQueue.empty()
                .enqueue(QueueEntry.joining("drone-build-41", now.minusSeconds(240), Duration.ofSeconds(2)))
                .enqueue(QueueEntry.joining("ci-runner-7", now.plusSeconds(3), Duration.ofSeconds(2)));
        LockRecord record = new LockRecord(
                new LockFields(1, "a", 4, now, now, Duration.ofSeconds(30)),
                1,
                "app=buildah-external",
                List.of(READY),
                queue);

        LockStatus status = LockStates.status(TARGET, record, now);

        assertThat(status.waiters())
                .containsExactly(
                        new LockStatus.Waiter("drone-build-41", now.minusSeconds(240), Duration.ofMinutes(4)),
                        // A waiter whose clock runs ahead of the reader's has waited for no time, never less.
                        new LockStatus.Waiter("ci-runner-7", now.plusSeconds(3), Duration.ZERO));
        assertThat(status.toString()).contains("waiters=2");
        assertThat(LockStates.status(TARGET, record(0, null, List.of()), now).waiters())
                .isEmpty();
    }

    @Test
    void explainsWhyNoPodIsReady() {
        assertThat(LockStates.whyNotReady(record(1, "a", List.of(STARTING, TERMINATING)), Set.of(TERMINATING.name())))
                .isEqualTo("buildah-external-d3e4f: Pending; container builder waiting: ImagePullBackOff");
        assertThat(LockStates.whyNotReady(record(1, "a", List.of()), Set.of()))
                .startsWith("no builder pod was created for selector app=buildah-external");
    }
}
