package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockLostException;
import io.github.replicalock.LockNotHeldException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueEntry;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.LockWrite;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An operator's force-release (docs/lock-protocol.md section 10.8) on the fake cluster in virtual
 * time: what is written and recorded, what the broken holder hears, and what is refused.
 */
class ForceReleaseTest {
    private static final Duration LONG = Duration.ofHours(1);
    private static final String REASON = "builder wedged on a stuck mount, INC-1234";

    private final VirtualClusterFixture fixture =
            new VirtualClusterFixture(Duration.ofMillis(200), Duration.ofMillis(100));
    private final LockTarget target = fixture.target;

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    private String annotation(String key) {
        return fixture.cluster.deployment(target).annotations().get(key);
    }

    private List<String> podNames() {
        return fixture.cluster.deployment(target).pods().stream()
                .map(DeploymentSnapshot.Pod::name)
                .toList();
    }

    @Test
    void theHoldIsBrokenRecordedAndTheHolderLearnsWhoAndWhy() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        AtomicReference<LockLostException> heard = new AtomicReference<>();
        held.onLost(heard::set);
        ReplicaLocks operator = fixture.locks("ops-alice");
        Instant before = fixture.cluster.clock().now();

        LockStatus broken = operator.forceRelease(target, REASON);
        Instant after = fixture.cluster.clock().now();

        assertThat(broken.holder()).contains("drone-build-41");
        assertThat(broken.fencingToken()).isEqualTo(held.fencingToken());
        assertThat(fixture.cluster.deployment(target).replicas()).isZero();
        ForceRelease record = ForceRelease.parse(target, annotation(ForceRelease.ANNOTATION));
        assertThat(record).isNotNull();
        assertThat(record.token()).isEqualTo(held.fencingToken());
        assertThat(record.holder()).isEqualTo("drone-build-41");
        assertThat(record.by()).isEqualTo("ops-alice");
        assertThat(record.reason()).isEqualTo(REASON);
        assertThat(record.at()).isBetween(before.minusSeconds(1), after);
        assertThat(fixture.cluster.events(target))
                .filteredOn(e -> e.kind() == LockEvent.Kind.FORCE_RELEASED)
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.severity()).isEqualTo(LockEvent.Severity.WARNING);
                    assertThat(e.client()).isEqualTo("ops-alice");
                    assertThat(e.message())
                            .contains("'drone-build-41'", "token " + held.fencingToken(), "ops-alice", REASON);
                });

        await().atMost(20, TimeUnit.SECONDS).until(() -> heard.get() != null);
        assertThat(heard.get().getMessage()).contains("force-released by ops-alice at ", ": " + REASON);
        assertThat(heard.get().fencingToken()).isEqualTo(held.fencingToken());
        assertThat(held.isHeld()).isFalse();
        assertThatThrownBy(held::close)
                .isInstanceOf(LockLostException.class)
                .hasMessageContaining("force-released by ops-alice")
                .hasMessageContaining(REASON);
        assertThat(fixture.cluster.events(target))
                .filteredOn(e -> e.kind() == LockEvent.Kind.LOST)
                .singleElement()
                .extracting(ClusterEvent::message)
                .asString()
                .contains(REASON);
    }

    @Test
    void theNextHolderGetsTheNextTokenAndAFreshPodAndTheRecordStays() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        List<String> wedged = held.pods();
        fixture.locks("ops-alice").forceRelease(target, REASON);
        String recorded = annotation(ForceRelease.ANNOTATION);

        try (ReplicaLock next = fixture.locks("drone-build-42").acquire(target, LONG)) {
            assertThat(next.fencingToken()).isEqualTo(held.fencingToken() + 1);
            assertThat(next.pods()).doesNotContainAnyElementsOf(wedged);
            assertThat(podNames()).doesNotContainAnyElementsOf(wedged);
        }
        // The audit trail outlives the next hold's acquisition, renewals and release.
        assertThat(annotation(ForceRelease.ANNOTATION)).isEqualTo(recorded);
        assertThatThrownBy(held::close).isInstanceOf(LockLostException.class);
    }

    @Test
    void theHoldersPodsAreDeletedAtOnceNotOnlyScaledAway() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        fixture.locks("ops-alice").forceRelease(target, REASON);

        assertThat(fixture.cluster.deployment(target).pods())
                .as("the wedged builder pod is terminating as soon as forceRelease returns")
                .allMatch(DeploymentSnapshot.Pod::terminating);
        assertThatThrownBy(held::close).isInstanceOf(LockLostException.class);
    }

    @Test
    void anInterruptWhileDeletingThePodsStillReportsTheBrokenHoldAndRecordsIt() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        ForwardingBackend interrupting = new ForwardingBackend(fixture.cluster.backend("ops-alice")) {
            @Override
            public void deletePods(LockTarget t, Collection<String> podNames) throws InterruptedException {
                throw new InterruptedException("interrupted while deleting " + podNames);
            }
        };
        ReplicaLocks operator = fixture.locks(interrupting, "ops-alice", LockOptions.defaults());

        LockStatus broken;
        try {
            broken = operator.forceRelease(target, REASON);
            assertThat(Thread.currentThread().isInterrupted())
                    .as("the interrupt is kept")
                    .isTrue();
        } finally {
            Thread.interrupted();
        }

        assertThat(broken.fencingToken()).isEqualTo(held.fencingToken());
        assertThat(fixture.cluster.deployment(target).replicas()).isZero();
        assertThat(fixture.cluster.events(target)).anyMatch(e -> e.kind() == LockEvent.Kind.FORCE_RELEASED);
        assertThatThrownBy(held::close).isInstanceOf(LockLostException.class);
    }

    @Test
    void aFreeLockIsRefusedAndNothingIsWritten() throws Exception {
        try (ReplicaLock lock = fixture.locks("drone-build-41").acquire(target, LONG)) {
            assertThat(lock.isHeld()).isTrue();
        }
        int writes = fixture.cluster.lockWrites().size();

        assertThatThrownBy(() -> fixture.locks("ops-alice").forceRelease(target, REASON))
                .isInstanceOfSatisfying(
                        LockNotHeldException.class,
                        e -> assertThat(e.status().state()).isIn(LockState.IDLE, LockState.RELEASING))
                .hasMessageContaining(target.toString())
                .hasMessageContaining("nothing to force-release")
                .hasMessageContaining("replicas 0");
        assertThat(fixture.cluster.lockWrites()).hasSize(writes);
        assertThat(annotation(ForceRelease.ANNOTATION)).isNull();
        assertThat(fixture.cluster.events(target)).noneMatch(e -> e.kind() == LockEvent.Kind.FORCE_RELEASED);
    }

    @Test
    void aHoldThatBeganAfterTheReadIsNotBroken() throws Exception {
        ReplicaLock first = fixture.locks("drone-build-41").acquire(target, LONG);
        LockRecord seenByOperator = fixture.cluster.backend("peek").readFresh(target);
        first.close();
        ReplicaLock second = fixture.locks("drone-build-42").acquire(target, LONG);
        // The operator's read answers with the first hold: as if the second began between its read and its write.
        ForwardingBackend stale = new ForwardingBackend(fixture.cluster.backend("ops-alice")) {
            @Override
            public LockRecord readFresh(LockTarget t) throws InterruptedException {
                return seenByOperator;
            }
        };
        ReplicaLocks operator = fixture.locks(stale, "ops-alice", LockOptions.defaults());

        assertThatThrownBy(() -> operator.forceRelease(target, REASON))
                .isInstanceOf(LockNotHeldException.class)
                .hasMessageContaining("'drone-build-41' with token " + first.fencingToken())
                .hasMessageContaining("ended before the force-release landed")
                .hasMessageContaining("nothing was changed");
        assertThat(second.isHeld()).isTrue();
        assertThat(fixture.cluster.deployment(target).replicas()).isEqualTo(1);
        assertThat(annotation(ForceRelease.ANNOTATION)).isNull();
        second.close();
    }

    @Test
    void withATokenOnlyThatHoldIsBroken() throws Exception {
        ReplicaLock first = fixture.locks("drone-build-41").acquire(target, LONG);
        long seenToken = first.fencingToken();
        first.close();
        ReplicaLock second = fixture.locks("drone-build-42").acquire(target, LONG);
        ReplicaLocks operator = fixture.locks("ops-alice");

        assertThatThrownBy(() -> operator.forceRelease(target, seenToken, REASON))
                .isInstanceOfSatisfying(
                        LockNotHeldException.class,
                        e -> assertThat(e.status().fencingToken()).isEqualTo(second.fencingToken()))
                .hasMessageContaining("held by 'drone-build-42' with token " + second.fencingToken())
                .hasMessageContaining("not token " + seenToken)
                .hasMessageContaining("nothing was changed");
        assertThat(second.isHeld()).isTrue();

        LockStatus broken = operator.forceRelease(target, second.fencingToken(), REASON);
        assertThat(broken.holder()).contains("drone-build-42");
        assertThat(fixture.cluster.deployment(target).replicas()).isZero();
        assertThatThrownBy(second::close).isInstanceOf(LockLostException.class);
    }

    @Test
    void reasonsThatCannotBeRecordedAreRefusedBeforeAnythingIsRead() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        ReplicaLocks operator = fixture.locks("ops-alice");
        int writes = fixture.cluster.lockWrites().size();

        for (String bad : List.of("", "   ", "two\nlines", "x".repeat(ForceRelease.MAX_REASON_LENGTH + 1))) {
            assertThatThrownBy(() -> operator.forceRelease(target, bad))
                    .as("reason '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(target.toString())
                    .hasMessageContaining("force-release reason");
        }
        assertThatThrownBy(() -> operator.forceRelease(target, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("reason");
        assertThat(fixture.cluster.lockWrites()).hasSize(writes);
        assertThat(held.isHeld()).isTrue();
        held.close();
    }

    @Test
    void theShellStepsHoldCanBeBrokenToo() throws Exception {
        fixture.cluster.scale(target, 1); // kubectl scale --replicas=1: no holder annotation

        LockStatus broken = fixture.locks("ops-alice").forceRelease(target, REASON);

        assertThat(broken.fencingToken()).isZero();
        assertThat(fixture.cluster.deployment(target).replicas()).isZero();
        ForceRelease record = ForceRelease.parse(target, annotation(ForceRelease.ANNOTATION));
        assertThat(record).isNotNull();
        assertThat(record.holder()).isNull();
        try (ReplicaLock next = fixture.locks("drone-build-42").acquire(target, LONG)) {
            assertThat(next.fencingToken()).isEqualTo(1);
        }
    }

    @Test
    void theHeadOfTheQueueAcquiresNextWithTheQueueUntouchedByTheWrite() throws Exception {
        ReplicaLock held = fixture.locks("drone-build-41").acquire(target, LONG);
        AtomicReference<Object> waiter = new AtomicReference<>();
        Thread waiting = new Thread(() -> {
            try {
                waiter.set(fixture.locks("drone-build-42").acquire(target, LONG));
            } catch (Throwable t) {
                waiter.set(t);
            }
        });
        waiting.start();
        await().atMost(20, TimeUnit.SECONDS)
                .until(() ->
                        LockQueue.parse(
                                        target,
                                        fixture.cluster.deployment(target).annotations())
                                .entries()
                                .stream()
                                .map(QueueEntry::waiter)
                                .toList()
                                .equals(List.of("drone-build-42")));

        fixture.locks("ops-alice").forceRelease(target, REASON);
        waiting.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(waiter.get()).isInstanceOf(ReplicaLock.class);
        ReplicaLock next = (ReplicaLock) waiter.get();
        assertThat(next.fencingToken()).isEqualTo(held.fencingToken() + 1);
        LockWrite breaking = fixture.cluster.lockWrites().stream()
                .filter(w -> w.after().forceReleased() != null)
                .findFirst()
                .orElseThrow();
        assertThat(breaking.client()).isEqualTo("ops-alice");
        assertThat(breaking.before().holder()).isEqualTo("drone-build-41");
        next.close();
        assertThatThrownBy(held::close).isInstanceOf(LockLostException.class);
    }

    @Test
    void aMissingDeploymentOrOneThatIsNotALockIsATypedError() throws Exception {
        ReplicaLocks operator = fixture.locks("ops-alice");
        LockTarget missing = LockTarget.of(VirtualClusterFixture.NAMESPACE, "no-such-builder");
        assertThatThrownBy(() -> operator.forceRelease(missing, REASON))
                .isInstanceOf(LockTargetNotFoundException.class)
                .hasMessageContaining("no-such-builder");

        fixture.cluster.scale(target, 2);
        assertThatThrownBy(() -> operator.forceRelease(target, REASON))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("replicas is 2");
        assertThat(fixture.cluster.deployment(target).replicas()).isEqualTo(2);
    }
}
