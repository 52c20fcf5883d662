package io.github.replicalock.engine;

import static io.github.replicalock.engine.VirtualClusterFixture.NAME;
import static io.github.replicalock.engine.VirtualClusterFixture.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
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
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.RequestKind;
import io.github.replicalock.testkit.Simulation;
import io.github.replicalock.testkit.Timing;
import io.github.replicalock.testkit.VirtualClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Section 6 of the protocol, as a catalogue: every misuse of the public API and the test kit, and
 * every cluster state that is not a lock, gets a typed exception whose message names the target
 * (where there is one) and the offending value, and leaves no lock held. The details of name and
 * duration validation are {@code LockTargetTest}'s and {@code LockOptionsTest}'s (lock-api); here is
 * one case of each kind, at every entry point that takes them.
 */
class BadInputCatalogueTest {
    private static final String TARGET = NAMESPACE + "/" + NAME;

    /** One bad input: what to call on a fresh cluster, and what it must throw. */
    record Case(String name, Call call, Class<? extends Throwable> type, List<String> messageNames) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Call {
        void on(VirtualClusterFixture fixture, ReplicaLocks locks) throws Exception;
    }

    private static Case of(String name, Class<? extends Throwable> type, Call call, String... messageNames) {
        return new Case(name, call, type, List.of(messageNames));
    }

    static Stream<Case> catalogue() {
        Duration minute = Duration.ofMinutes(1);
        LockTarget missing = LockTarget.of(NAMESPACE, "buildah-missing");
        return Stream.of(
                // ---- names (LockTargetTest has the rules in detail)
                of(
                        "upper case namespace",
                        IllegalArgumentException.class,
                        (f, l) -> LockTarget.of("Apps", NAME),
                        "namespace 'Apps'"),
                of(
                        "dots in a namespace",
                        IllegalArgumentException.class,
                        (f, l) -> LockTarget.of("apps.ci", NAME),
                        "namespace 'apps.ci'"),
                of(
                        "empty deployment name",
                        IllegalArgumentException.class,
                        (f, l) -> LockTarget.of(NAMESPACE, ""),
                        "deployment name ''",
                        "namespace '" + NAMESPACE + "'"),
                of(
                        "deployment name of 254 characters",
                        IllegalArgumentException.class,
                        (f, l) -> LockTarget.of(NAMESPACE, "b".repeat(254)),
                        "got 254"),
                of(
                        "null namespace",
                        NullPointerException.class,
                        (f, l) -> LockTarget.of(null, NAME),
                        "namespace must not be null"),
                of(
                        "testkit: upper case deployment",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.createDeployment(NAMESPACE, "Buildah"),
                        "deployment name 'Buildah'"),
                of(
                        "testkit: namespace of 64 characters",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.createDeployment("n".repeat(64), NAME),
                        "got 64"),
                of(
                        "testkit: a deployment created twice",
                        IllegalStateException.class,
                        (f, l) -> f.cluster.createDeployment(NAMESPACE, NAME),
                        TARGET,
                        "already exists"),
                of(
                        "testkit: faults for an invalid name",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.faults().podsNeverReady("Apps", NAME, "ImagePullBackOff"),
                        "namespace 'Apps'"),
                // ---- durations and counts (LockOptionsTest has every setter)
                of(
                        "zero lease",
                        IllegalArgumentException.class,
                        (f, l) -> LockOptions.builder().leaseDuration(Duration.ZERO),
                        "leaseDuration",
                        "PT0S"),
                of(
                        "negative ready timeout",
                        IllegalArgumentException.class,
                        (f, l) -> LockOptions.builder().readyTimeout(Duration.ofSeconds(-1)),
                        "readyTimeout",
                        "PT-1S"),
                of(
                        "null grace",
                        NullPointerException.class,
                        (f, l) -> LockOptions.builder().takeoverGrace(null),
                        "takeoverGrace must not be null"),
                of(
                        "a lease not longer than its renew interval",
                        IllegalArgumentException.class,
                        (f, l) -> LockOptions.builder()
                                .leaseDuration(Duration.ofSeconds(10))
                                .renewInterval(Duration.ofSeconds(10))
                                .build(),
                        "renewInterval PT10S",
                        "leaseDuration PT10S"),
                of(
                        "acquire timeout null",
                        NullPointerException.class,
                        (f, l) -> l.acquire(f.target, null),
                        TARGET,
                        "acquire timeout must not be null"),
                of(
                        "acquire timeout zero",
                        IllegalArgumentException.class,
                        (f, l) -> l.acquire(f.target, Duration.ZERO),
                        TARGET,
                        "got PT0S"),
                of(
                        "acquire timeout negative",
                        IllegalArgumentException.class,
                        (f, l) -> l.acquire(f.target, Duration.ofSeconds(-1)),
                        TARGET,
                        "got PT-1S"),
                of(
                        "testkit: negative pod ready delay",
                        IllegalArgumentException.class,
                        (f, l) -> FakeCluster.builder().podReadyDelay(Duration.ofSeconds(-1)),
                        "podReadyDelay",
                        "PT-1S"),
                of(
                        "testkit: negative latency",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.faults().latency(Duration.ofMillis(-5)),
                        "latency",
                        "PT-0.005S"),
                of(
                        "testkit: negative fault count",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.faults().failNextRequests(-1),
                        "count",
                        "got -1"),
                of(
                        "testkit: scale to -1",
                        IllegalArgumentException.class,
                        (f, l) -> f.cluster.scale(f.target, -1),
                        TARGET,
                        "got -1"),
                of(
                        "testkit: zero quiet period",
                        IllegalArgumentException.class,
                        (f, l) -> VirtualClock.builder().quietPeriod(Duration.ZERO),
                        "quietPeriod",
                        "PT0S"),
                of(
                        "testkit: a simulation of one client",
                        IllegalArgumentException.class,
                        (f, l) -> Simulation.builder().maxClients(1),
                        "maxClients",
                        "got 1"),
                // ---- nulls and missing settings
                of(
                        "null target to tryAcquire",
                        NullPointerException.class,
                        (f, l) -> l.tryAcquire(null),
                        "target must not be null"),
                of(
                        "null target to status",
                        NullPointerException.class,
                        (f, l) -> l.status(null),
                        "target must not be null"),
                of(
                        "null backend",
                        NullPointerException.class,
                        (f, l) -> ReplicaLocks.builder().backend(null),
                        "backend must not be null"),
                of(
                        "no backend",
                        IllegalStateException.class,
                        (f, l) -> ReplicaLocks.builder().build(),
                        "backend(...) is required"),
                of(
                        "blank holder",
                        IllegalArgumentException.class,
                        (f, l) -> ReplicaLocks.builder().holder(" "),
                        "holder ' '"),
                of(
                        "null lost-listener",
                        NullPointerException.class,
                        (f, l) -> {
                            try (ReplicaLock lock = l.acquire(f.target, minute)) {
                                lock.onLost(null);
                            }
                        },
                        "listener must not be null"),
                of(
                        "testkit: null write listener",
                        NullPointerException.class,
                        (f, l) -> FakeCluster.builder().onLockWrite(null),
                        "listener must not be null"),
                // ---- cluster states that are not a lock
                of(
                        "acquire on a missing deployment",
                        LockTargetNotFoundException.class,
                        (f, l) -> l.acquire(missing, minute),
                        "deployment 'buildah-missing' not found",
                        "namespace '" + NAMESPACE + "'"),
                of(
                        "tryAcquire on a missing deployment",
                        LockTargetNotFoundException.class,
                        (f, l) -> l.tryAcquire(missing),
                        "buildah-missing",
                        NAMESPACE),
                of(
                        "replicas 3",
                        LockTargetInvalidException.class,
                        (f, l) -> {
                            f.cluster.scale(f.target, 3);
                            l.acquire(f.target, minute);
                        },
                        TARGET,
                        "replicas is 3"),
                of(
                        "no selector",
                        LockTargetInvalidException.class,
                        (f, l) -> {
                            f.cluster.clearSelector(f.target);
                            l.tryAcquire(f.target);
                        },
                        TARGET,
                        "no selector"),
                of(
                        "a token annotation that is not a number",
                        LockTargetInvalidException.class,
                        (f, l) -> {
                            f.cluster.annotate(f.target, LockFields.TOKEN_ANNOTATION, "seven");
                            l.tryAcquire(f.target);
                        },
                        TARGET,
                        LockFields.TOKEN_ANNOTATION,
                        "'seven'"),
                of(
                        "403 on patch",
                        LockAccessDeniedException.class,
                        (f, l) -> {
                            f.cluster.faults().forbid("patch", "deployments");
                            l.tryAcquire(f.target);
                        },
                        TARGET,
                        "patch",
                        "deployments"),
                of(
                        "403 on watch",
                        LockAccessDeniedException.class,
                        (f, l) -> {
                            f.cluster.faults().forbid("watch", "pods");
                            l.acquire(f.target, minute);
                        },
                        TARGET,
                        "watch",
                        "pods"),
                // ---- an API server that cannot be reached
                of(
                        "a client cut off",
                        LockBackendUnavailableException.class,
                        (f, l) -> {
                            FakeBackend cutOff = f.cluster.backend("build-2");
                            ReplicaLocks unreachable = f.locks(cutOff, "build-2", LockOptions.defaults());
                            cutOff.disconnect();
                            unreachable.acquire(f.target, minute);
                        },
                        TARGET,
                        "disconnected"),
                of(
                        "transient errors beyond the retries",
                        LockBackendUnavailableException.class,
                        (f, l) -> {
                            f.cluster.faults().failNextRequests(1_000);
                            try {
                                l.tryAcquire(f.target);
                            } finally {
                                f.cluster.faults().clearFailures();
                            }
                        },
                        TARGET,
                        "3 times in a row"),
                // ---- a closed ReplicaLocks
                of(
                        "acquire after ReplicaLocks.close()",
                        LocksClosedException.class,
                        (f, l) -> {
                            l.close();
                            l.acquire(f.target, minute);
                        },
                        TARGET,
                        "'build-1'",
                        "closed"),
                of(
                        "tryAcquire after ReplicaLocks.close()",
                        LocksClosedException.class,
                        (f, l) -> {
                            l.close();
                            l.tryAcquire(f.target);
                        },
                        TARGET,
                        "'build-1'"),
                of(
                        "ReplicaLocks.close() from another thread while acquiring",
                        LocksClosedException.class,
                        BadInputCatalogueTest::closeWhileAcquiring,
                        TARGET,
                        "'build-9'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogue")
    void aTypedErrorNamingTheTargetAndTheValueAndNothingHeld(Case bad) throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            ReplicaLocks locks = fixture.locks("build-1");

            Throwable thrown = catchThrowable(() -> bad.call().on(fixture, locks));

            assertThat(thrown).as(bad.name()).isInstanceOf(bad.type());
            for (String named : bad.messageNames()) {
                assertThat(thrown).as(bad.name()).hasMessageContaining(named);
            }
            assertThat(fixture.cluster
                            .deployment(fixture.target)
                            .annotations()
                            .getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                    .as("%s: nothing left held", bad.name())
                    .isEmpty();
        }
    }

    @Test
    void statusNeverThrowsForAClusterStateButSaysWhy() throws Exception {
        try (VirtualClusterFixture fixture = new VirtualClusterFixture()) {
            ReplicaLocks locks = fixture.locks("build-1");
            LockStatus missing = locks.status(LockTarget.of(NAMESPACE, "buildah-missing"));
            fixture.cluster.scale(fixture.target, 3);
            LockStatus three = locks.status(fixture.target);
            fixture.cluster.scale(fixture.target, 0);
            fixture.cluster.clearSelector(fixture.target);
            LockStatus noSelector = locks.status(fixture.target);

            assertThat(List.of(missing, three, noSelector))
                    .extracting(LockStatus::state)
                    .containsOnly(LockState.UNKNOWN);
            assertThat(missing.reason()).hasValue("deployment not found");
            assertThat(three.reason().orElseThrow()).contains("replicas is 3");
            assertThat(noSelector.reason().orElseThrow()).contains("no selector");
        }
    }

    /** The waiter is blocked (the shell holds the lock) in stopped time, so only close() can end it. */
    private static void closeWhileAcquiring(VirtualClusterFixture unused, ReplicaLocks ignored) throws Exception {
        try (VirtualClusterFixture stopped = VirtualClusterFixture.stoppedTime()) {
            stopped.cluster.scale(stopped.target, 1);
            ReplicaLocks closing = stopped.locks("build-9");
            AtomicReference<@Nullable Throwable> outcome = new AtomicReference<>();
            Thread acquirer = new Thread(() -> {
                try {
                    outcome.set(null);
                    closing.acquire(stopped.target, Duration.ofHours(1)).close();
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            long watches = stopped.cluster.requests(RequestKind.WATCH);
            acquirer.start();
            await().atMost(Timing.scaled(Duration.ofSeconds(10)))
                    .until(() -> stopped.cluster.requests(RequestKind.WATCH) > watches);

            closing.close();
            acquirer.join(Timing.scaled(Duration.ofSeconds(10)).toMillis());

            assertThat(stopped.cluster
                            .deployment(stopped.target)
                            .annotations()
                            .getOrDefault(LockFields.HOLDER_ANNOTATION, ""))
                    .as("holder")
                    .isEmpty();
            Throwable thrown = outcome.get();
            if (thrown instanceof Exception e) {
                throw e;
            }
            throw new AssertionError("acquire returned after close(): " + thrown);
        }
    }
}
