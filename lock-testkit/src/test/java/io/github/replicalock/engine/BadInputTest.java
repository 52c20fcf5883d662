package io.github.replicalock.engine;

import static io.github.replicalock.engine.VirtualClusterFixture.NAME;
import static io.github.replicalock.engine.VirtualClusterFixture.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.LocksClosedException;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Section 6 of the protocol: every misuse and every non-lock gets a typed error naming the target, and nothing is left held. */
class BadInputTest {
    private final VirtualClusterFixture fixture = new VirtualClusterFixture();
    private final ReplicaLocks locks = fixture.locks("build-1");

    @AfterEach
    void nothingIsLeftHeldAndTheClusterIsClosed() throws Exception {
        assertThat(fixture.cluster.deployment(fixture.target).annotations())
                .doesNotContainKey(LockFields.HOLDER_ANNOTATION);
        fixture.close();
    }

    @Test
    void aMissingDeploymentIsNamedWhenAcquiringAndUnknownInStatus() {
        LockTarget missing = LockTarget.of(NAMESPACE, "buildah-missing");

        assertThatThrownBy(() -> locks.tryAcquire(missing))
                .isInstanceOf(LockTargetNotFoundException.class)
                .hasMessageContaining("deployment 'buildah-missing' not found in namespace 'apps--droneio--prd'");
        assertThatThrownBy(() -> locks.acquire(missing, Duration.ofMinutes(1)))
                .isInstanceOf(LockTargetNotFoundException.class);
        LockStatus status = locks.status(missing);
        assertThat(status.state()).isEqualTo(LockState.UNKNOWN);
        assertThat(status.reason()).hasValue("deployment not found");
    }

    @Test
    void replicasAboveOneAreRefusedLoudlyAndUnknownInStatus() {
        fixture.cluster.scale(NAMESPACE, NAME, 3);

        assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(1)))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external")
                .hasMessageContaining("replicas is 3, expected 0 (free) or 1 (held)");
        assertThat(locks.status(fixture.target).state()).isEqualTo(LockState.UNKNOWN);
        assertThat(fixture.cluster.deployment(fixture.target).replicas()).isEqualTo(3);
        fixture.cluster.scale(NAMESPACE, NAME, 0);
    }

    @Test
    void aDeploymentWithoutSelectorIsRefused() {
        fixture.cluster.clearSelector(NAMESPACE, NAME);

        assertThatThrownBy(() -> locks.tryAcquire(fixture.target))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining("no selector");
        assertThat(locks.status(fixture.target).reason().orElseThrow()).contains("no selector");
    }

    @Test
    void aForbiddenVerbIsNamedWithItsResource() {
        fixture.cluster.faults().forbid("patch", "deployments");

        assertThatThrownBy(() -> locks.tryAcquire(fixture.target))
                .isInstanceOf(LockAccessDeniedException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external")
                .satisfies(e -> {
                    assertThat(((LockAccessDeniedException) e).verb()).isEqualTo("patch");
                    assertThat(((LockAccessDeniedException) e).resource()).isEqualTo("deployments");
                });
        assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
    }

    @Test
    void anUnreachableClusterIsAnUnavailableError() {
        FakeBackend cutOff = fixture.cluster.backend("build-2");
        ReplicaLocks unreachable = fixture.locks(cutOff, "build-2", LockOptions.defaults());
        cutOff.disconnect();

        assertThatThrownBy(() -> unreachable.acquire(fixture.target, Duration.ofMinutes(1)))
                .isInstanceOf(LockBackendUnavailableException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external");
    }

    @Test
    void transientErrorsBeyondTheRetriesAreUnavailableAndLeaveNothingHeld() {
        fixture.cluster.faults().failNextRequests(1_000);

        assertThatThrownBy(() -> locks.tryAcquire(fixture.target)).isInstanceOf(LockBackendUnavailableException.class);

        fixture.cluster.faults().clearFailures();
        assertThat(fixture.cluster.deployment(fixture.target).replicas()).isZero();
    }

    @Test
    void timeoutsMustBePresentAndPositive() {
        assertThatThrownBy(() -> locks.acquire(fixture.target, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external: acquire timeout must not be null");
        assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("acquire timeout must be positive, got PT0S");
        assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got PT-1S");
    }

    @Test
    void nullTargetsAndBuilderArgumentsAreNamed() {
        assertThatThrownBy(() -> locks.tryAcquire(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("target must not be null");
        assertThatThrownBy(() -> locks.status(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("target must not be null");
        assertThatThrownBy(() -> ReplicaLocks.builder().backend(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("backend must not be null");
        assertThatThrownBy(() -> ReplicaLocks.builder().holder(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holder ' '");
        assertThatThrownBy(() -> ReplicaLocks.builder().build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("backend(...) is required");
    }

    @Test
    void acquiringFromAClosedInstanceIsRefused() {
        locks.close();

        assertThatThrownBy(() -> locks.tryAcquire(fixture.target))
                .isInstanceOf(LocksClosedException.class)
                .hasMessageContaining("apps--droneio--prd/buildah-external")
                .hasMessageContaining("'build-1'");
        assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(1)))
                .isInstanceOf(LocksClosedException.class);
    }

    @Test
    void closingWhileAnotherThreadAcquiresStopsItAndLeavesNothingHeld() throws Exception {
        try (VirtualClusterFixture stopped = VirtualClusterFixture.stoppedTime()) {
            stopped.cluster.scale(NAMESPACE, NAME, 1); // held by the shell: the acquirer has to wait
            ReplicaLocks closing = stopped.locks("build-9");
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread acquirer = new Thread(() -> {
                try {
                    outcome.set(closing.acquire(stopped.target, Duration.ofHours(1)));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            long watches = stopped.cluster.requests(RequestKind.WATCH);
            acquirer.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> stopped.cluster.requests(RequestKind.WATCH) > watches);

            closing.close();
            acquirer.join(10_000);

            assertThat(outcome.get())
                    .isInstanceOf(LocksClosedException.class)
                    .hasToString(LocksClosedException.class.getName()
                            + ": apps--droneio--prd/buildah-external: ReplicaLocks of holder 'build-9' is closed;"
                            + " build a new one");
            assertThat(stopped.cluster.deployment(stopped.target).annotations())
                    .doesNotContainKey(LockFields.HOLDER_ANNOTATION);
        }
    }
}
