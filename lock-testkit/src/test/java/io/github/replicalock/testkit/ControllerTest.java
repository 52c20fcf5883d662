package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The simulated deployment controller, step by step on a manual clock. */
class ControllerTest {
    private static final Duration LEASE = Duration.ofSeconds(30);

    private final VirtualClock clock = VirtualClock.manual();
    private final FakeCluster cluster = FakeCluster.builder()
            .clock(clock)
            .podReadyDelay(Duration.ofSeconds(5))
            .podTerminationDelay(Duration.ofSeconds(3))
            .build();
    private final FakeBackend backend = cluster.backend();

    @AfterEach
    void close() {
        cluster.close();
        clock.close();
    }

    @Test
    void walksThroughEveryReadyColumnOfALockCycle() throws InterruptedException {
        LockTarget target = cluster.createDeployment("ci", "builder");
        assertThat(cluster.ready(target)).isEqualTo("0/0");

        LockFields free = backend.read(target).fields();
        LockFields held = free.heldBy("me", 1, clock.now(), LEASE);
        assertThat(backend.compareAndSet(target, free, held)).isTrue();
        assertThat(cluster.ready(target)).isEqualTo("0/1");
        assertThat(cluster.deployment(target).pods()).singleElement().satisfies(pod -> {
            assertThat(pod.phase()).isEqualTo("Pending");
            assertThat(pod.waitingReason()).isEqualTo("ContainerCreating");
        });

        clock.advance(Duration.ofSeconds(4));
        assertThat(cluster.ready(target)).isEqualTo("0/1");
        clock.advance(Duration.ofSeconds(1));
        assertThat(cluster.ready(target)).isEqualTo("1/1");
        assertThat(backend.read(target).pods()).singleElement().satisfies(pod -> {
            assertThat(pod.usable()).isTrue();
            assertThat(pod.detail()).isEqualTo("Running; Ready=True");
        });

        assertThat(backend.compareAndSet(target, held, held.released())).isTrue();
        assertThat(cluster.ready(target)).isEqualTo("1/0");
        assertThat(backend.read(target).pods()).singleElement().satisfies(pod -> {
            assertThat(pod.terminating()).isTrue();
            assertThat(pod.usable()).isFalse();
        });

        clock.advance(Duration.ofSeconds(3));
        assertThat(cluster.ready(target)).isEqualTo("0/0");
        assertThat(backend.read(target).pods()).isEmpty();
    }

    @Test
    void withZeroDelaysPodsComeAndGoWithinTheWrite() throws InterruptedException {
        try (FakeCluster instant = FakeCluster.create()) {
            LockTarget target = instant.createDeployment("ci", "builder");

            instant.scale("ci", "builder", 1);
            assertThat(instant.ready(target)).isEqualTo("1/1");

            instant.scale("ci", "builder", 0);
            assertThat(instant.ready(target)).isEqualTo("0/0");
            assertThat(instant.deployment(target).pods()).isEmpty();
        }
    }

    @Test
    void namesPodsAfterTheirDeploymentWithARandomSuffixAndSelectsThemByApp() throws InterruptedException {
        LockTarget target = cluster.createDeployment("ci", "buildah-external");
        cluster.scale(target, 1);

        LockRecord record = backend.read(target);

        assertThat(record.selector()).isEqualTo("app=buildah-external");
        assertThat(record.pods())
                .singleElement()
                .extracting(PodSnapshot::name)
                .asString()
                .matches("buildah-external-[a-z0-9]{5}");
    }

    @Test
    void scalingDownStopsPodsThatAreNotReadyFirst() {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.scale(target, 1);
        clock.advance(Duration.ofSeconds(5));
        cluster.scale(target, 2); // one Ready, one Pending

        cluster.scale(target, 1);

        assertThat(cluster.deployment(target).pods())
                .extracting(DeploymentSnapshot.Pod::ready, DeploymentSnapshot.Pod::terminating)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(true, false),
                        org.assertj.core.groups.Tuple.tuple(false, true));
    }

    @Test
    void replacesDeletedPodsWhileTheOldOnesTerminate() throws InterruptedException {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.scale(target, 1);
        clock.advance(Duration.ofSeconds(5));
        String old = backend.read(target).pods().get(0).name();

        backend.deletePods(target, List.of(old, "builder-gone1"));

        List<PodSnapshot> pods = backend.read(target).pods();
        assertThat(pods).hasSize(2);
        assertThat(pods.get(0)).satisfies(pod -> {
            assertThat(pod.name()).isEqualTo(old);
            assertThat(pod.terminating()).isTrue();
        });
        assertThat(pods.get(1).name()).isNotEqualTo(old);
        assertThat(pods.get(1).ready()).isFalse();
        assertThat(cluster.ready(target)).isEqualTo("1/1");

        clock.advance(Duration.ofSeconds(5));
        assertThat(backend.read(target).pods()).singleElement().satisfies(pod -> {
            assertThat(pod.name()).isNotEqualTo(old);
            assertThat(pod.usable()).isTrue();
        });
    }

    @Test
    void podsThatNeverBecomeReadySayWhyUntilTheFaultIsCleared() throws InterruptedException {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.faults().podsNeverReady("ci", "builder", "ImagePullBackOff");
        cluster.scale(target, 1);

        clock.advance(Duration.ofMinutes(5));

        assertThat(cluster.ready(target)).isEqualTo("0/1");
        assertThat(backend.read(target).pods())
                .singleElement()
                .extracting(PodSnapshot::detail)
                .isEqualTo("Pending; Ready=False; container builder waiting: ImagePullBackOff");

        cluster.faults().clearPodsNeverReady("ci", "builder");
        clock.advance(Duration.ofSeconds(5));
        assertThat(cluster.ready(target)).isEqualTo("1/1");
    }

    @Test
    void theNeverReadyFaultAlsoCatchesPodsAlreadyStarting() {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.scale(target, 1);
        cluster.faults().podsNeverReady("ci", "builder", "ErrImagePull");

        clock.advance(Duration.ofSeconds(10));

        assertThat(cluster.deployment(target).pods())
                .singleElement()
                .extracting(DeploymentSnapshot.Pod::waitingReason)
                .isEqualTo("ErrImagePull");
    }

    @Test
    void podsStuckTerminatingKeepTheLockReleasingUntilTheFaultIsCleared() {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.scale(target, 1);
        clock.advance(Duration.ofSeconds(5));
        cluster.faults().podsStuckTerminating("ci", "builder");

        cluster.scale(target, 0);
        clock.advance(Duration.ofMinutes(10));
        assertThat(cluster.ready(target)).isEqualTo("1/0");

        cluster.faults().clearPodsStuckTerminating("ci", "builder");
        clock.advance(Duration.ofSeconds(3));
        assertThat(cluster.ready(target)).isEqualTo("0/0");
    }

    @Test
    void scaleIsUnconditionalAndLeavesAnnotationsAlone() throws InterruptedException {
        LockTarget target = cluster.createDeployment("ci", "builder");
        LockFields free = backend.read(target).fields();
        LockFields held = free.heldBy("build-7", 7, clock.now(), LEASE);
        backend.compareAndSet(target, free, held);

        cluster.scale(target, 0); // the shell pipeline's cleanup step

        LockFields after = backend.read(target).fields();
        assertThat(after.replicas()).isZero();
        assertThat(after.holder()).isEqualTo("build-7");
        assertThat(after.token()).isEqualTo(7);
        assertThat(cluster.lockWrites()).last().satisfies(write -> {
            assertThat(write.client()).isEqualTo(FakeCluster.KUBECTL);
            assertThat(write.before().replicas()).isEqualTo(1);
            assertThat(write.after().replicas()).isZero();
        });
    }

    @Test
    void createDeploymentValidatesNamesAndRefusesDuplicates() {
        cluster.createDeployment("ci", "builder");

        assertThatThrownBy(() -> cluster.createDeployment("ci", "builder"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ci/builder");
        assertThatThrownBy(() -> cluster.createDeployment("CI", "builder"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'CI'");
        assertThatThrownBy(() -> cluster.scale("ci", "missing", 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ci/missing");
        assertThatThrownBy(() -> cluster.scale("ci", "builder", -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
    }

    @Test
    void aDeletedDeploymentTakesItsPodsWithIt() {
        LockTarget target = cluster.createDeployment("ci", "builder");
        cluster.scale(target, 1);

        cluster.deleteDeployment("ci", "builder");
        clock.advance(Duration.ofSeconds(10)); // the pending ready transition finds nothing

        assertThatThrownBy(() -> cluster.deployment(target)).isInstanceOf(IllegalStateException.class);
        LockTarget again = cluster.createDeployment("ci", "builder");
        assertThat(cluster.ready(again)).isEqualTo("0/0");
    }
}
