package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Reads and conditional writes through the SPI, as the lock algorithm makes them. */
class CompareAndSetTest {
    private static final Instant NOW = Instant.parse("2030-01-01T10:00:00.250Z");
    private static final Duration LEASE = Duration.ofSeconds(30);

    private final FakeCluster cluster = FakeCluster.create();
    private final FakeBackend backend = cluster.backend("build-1");
    private final LockTarget target = cluster.createDeployment("ci", "builder");

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void aFreshDeploymentReadsAsAFreeLockWithTokenZero() throws InterruptedException {
        LockRecord record = backend.read(target);

        assertThat(record.fields()).isEqualTo(LockFields.free(0));
        assertThat(record.readyReplicas()).isZero();
        assertThat(record.selector()).isEqualTo("app=builder");
        assertThat(record.pods()).isEmpty();
    }

    @Test
    void anAppliedWriteStoresEveryFieldAsAnnotations() throws InterruptedException {
        LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, Duration.ofMillis(29_001));

        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();

        DeploymentSnapshot deployment = cluster.deployment(target);
        assertThat(deployment.replicas()).isEqualTo(1);
        assertThat(deployment.annotations())
                .containsEntry(LockFields.HOLDER_ANNOTATION, "build-1")
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1")
                .containsEntry(LockFields.ACQUIRED_ANNOTATION, "2030-01-01T10:00:00.250Z")
                .containsEntry(LockFields.RENEWED_ANNOTATION, "2030-01-01T10:00:00.250Z")
                .containsEntry(LockFields.LEASE_ANNOTATION, "30"); // rounded up, never down
        assertThat(backend.read(target).fields()).isEqualTo(new LockFields(1, "build-1", 1, NOW, NOW, LEASE));
    }

    @Test
    void aReleaseEmptiesTheHolderRemovesTheTimesAndKeepsTheToken() throws InterruptedException {
        LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, LEASE);
        backend.compareAndSet(target, LockFields.free(0), held);

        assertThat(backend.compareAndSet(target, held, held.released())).isTrue();

        assertThat(cluster.deployment(target).annotations())
                .containsOnlyKeys(LockFields.HOLDER_ANNOTATION, LockFields.TOKEN_ANNOTATION)
                .containsEntry(LockFields.HOLDER_ANNOTATION, "")
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1");
        assertThat(backend.read(target).fields()).isEqualTo(LockFields.free(1));
    }

    @Test
    void aWriteWhoseLockFieldsDifferIsRejectedAndChangesNothing() throws InterruptedException {
        LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, LEASE);
        backend.compareAndSet(target, LockFields.free(0), held);
        String version = cluster.deployment(target).resourceVersion();

        FakeBackend other = cluster.backend("build-2");
        boolean won = other.compareAndSet(
                target, LockFields.free(0), LockFields.free(0).heldBy("build-2", 1, NOW, LEASE));

        assertThat(won).isFalse();
        assertThat(backend.read(target).fields()).isEqualTo(held);
        assertThat(cluster.deployment(target).resourceVersion()).isEqualTo(version);
        assertThat(cluster.lockWrites()).singleElement().satisfies(write -> {
            assertThat(write.client()).isEqualTo("build-1");
            assertThat(write.before()).isEqualTo(LockFields.free(0));
            assertThat(write.after()).isEqualTo(held);
        });
    }

    @Test
    void onlyReplicasHolderAndTokenAreCompared() throws InterruptedException {
        LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, LEASE);
        backend.compareAndSet(target, LockFields.free(0), held);

        // A stale view of renewed and lease, same replicas/holder/token: still the same lock.
        LockFields staleView = new LockFields(1, "build-1", 1, null, null, null);
        assertThat(backend.compareAndSet(target, staleView, held.renewedAt(NOW.plusSeconds(10))))
                .isTrue();
    }

    @Test
    void injectedConflictsAreRetriedNotReportedAsALostRace() throws InterruptedException {
        cluster.faults().conflictOnNextWrites(3);
        String version = cluster.deployment(target).resourceVersion();

        boolean won = backend.compareAndSet(
                target, LockFields.free(0), LockFields.free(0).heldBy("build-1", 1, NOW, LEASE));

        assertThat(won).isTrue();
        assertThat(cluster.faults().remainingConflicts()).isZero();
        assertThat(Long.parseLong(cluster.deployment(target).resourceVersion()))
                .isGreaterThan(Long.parseLong(version) + 3);
        assertThat(cluster.requests(RequestKind.COMPARE_AND_SET)).isEqualTo(1);
    }

    @Test
    void endlessConflictsEndInUnavailable() {
        cluster.faults().conflictOnNextWrites(50);

        assertThatThrownBy(() -> backend.compareAndSet(
                        target, LockFields.free(0), LockFields.free(0).heldBy("b", 1, NOW, LEASE)))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("ci/builder")
                .hasMessageContaining("conflicted");
    }

    @Test
    void aMissingDeploymentIsNotFound() {
        cluster.deleteDeployment("ci", "builder");

        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOf(LockTargetNotFoundException.class)
                .hasMessageContaining("'builder'")
                .hasMessageContaining("'ci'");
        assertThatThrownBy(() -> backend.compareAndSet(target, LockFields.free(0), LockFields.free(1)))
                .isInstanceOf(LockTargetNotFoundException.class);
    }

    @Test
    void anAnnotationThatDoesNotParseIsNamedWithItsValue() {
        cluster.annotate("ci", "builder", LockFields.TOKEN_ANNOTATION, "seven");

        assertThatThrownBy(() -> backend.read(target))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining(LockFields.TOKEN_ANNOTATION)
                .hasMessageContaining("'seven'");

        cluster.annotate("ci", "builder", LockFields.TOKEN_ANNOTATION, null);
        cluster.annotate("ci", "builder", LockFields.RENEWED_ANNOTATION, "yesterday");
        assertThatThrownBy(() -> backend.compareAndSet(target, LockFields.free(0), LockFields.free(1)))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining(LockFields.RENEWED_ANNOTATION)
                .hasMessageContaining("'yesterday'");
    }

    @Test
    void handWrittenAnnotationsParseAsRfc3339WithOffsets() throws InterruptedException {
        cluster.annotate("ci", "builder", LockFields.HOLDER_ANNOTATION, "");
        cluster.annotate("ci", "builder", LockFields.ACQUIRED_ANNOTATION, "2030-01-01T12:00:00+02:00");
        cluster.annotate("ci", "builder", LockFields.LEASE_ANNOTATION, "45");

        LockFields fields = backend.read(target).fields();

        assertThat(fields.holder()).isNull();
        assertThat(fields.acquired()).isEqualTo(Instant.parse("2030-01-01T10:00:00Z"));
        assertThat(fields.lease()).isEqualTo(Duration.ofSeconds(45));
    }

    @Test
    void aDeploymentWithoutSelectorShowsNoSelectorAndNoPods() throws InterruptedException {
        cluster.scale(target, 1);
        cluster.clearSelector("ci", "builder");

        LockRecord record = backend.read(target);

        assertThat(record.selector()).isNull();
        assertThat(record.pods()).isEmpty();
        assertThat(record.readyReplicas()).isEqualTo(1);
    }

    @Test
    void countsRequestsByKind() throws InterruptedException {
        backend.read(target);
        backend.read(target);
        backend.compareAndSet(target, LockFields.free(0), LockFields.free(0));
        backend.watch(target, () -> {}).close();
        backend.deletePods(target, java.util.List.of());
        backend.recordEvent(target, new LockEvent(LockEvent.Kind.ACQUIRED, "by build-1"));

        assertThat(cluster.requests(RequestKind.READ)).isEqualTo(2);
        assertThat(cluster.requests(RequestKind.COMPARE_AND_SET)).isEqualTo(1);
        assertThat(cluster.requests(RequestKind.WATCH)).isEqualTo(1);
        assertThat(cluster.requests(RequestKind.DELETE_PODS)).isEqualTo(1);
        assertThat(cluster.requests(RequestKind.EVENT)).isEqualTo(1);
    }

    @Test
    void recordsEventsWithTheClientAndTheClusterTime() {
        backend.recordEvent(target, new LockEvent(LockEvent.Kind.ACQUIRED, "lock acquired by build-1 with token 1"));

        assertThat(cluster.events("ci", "builder")).singleElement().satisfies(event -> {
            assertThat(event.reason()).isEqualTo("Acquired");
            assertThat(event.severity()).isEqualTo(LockEvent.Severity.NORMAL);
            assertThat(event.message()).isEqualTo("lock acquired by build-1 with token 1");
            assertThat(event.client()).isEqualTo("build-1");
            assertThat(event.time()).isNotNull();
        });
    }

    @Test
    void keepsTheSeverityTheEventWasRecordedWith() {
        backend.recordEvent(target, new LockEvent(LockEvent.Kind.LOST, "lock lost"));
        backend.recordEvent(target, new LockEvent(LockEvent.Kind.TAKEN_OVER, "lock taken over"));

        assertThat(cluster.events(target))
                .extracting(ClusterEvent::reason, ClusterEvent::severity)
                .containsExactly(
                        tuple("Lost", LockEvent.Severity.WARNING), tuple("TakenOver", LockEvent.Severity.NORMAL));
    }
}
