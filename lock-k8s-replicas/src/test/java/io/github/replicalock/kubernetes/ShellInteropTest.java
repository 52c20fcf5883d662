package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The old shell steps, replayed with fabric8 against the same server while the backend holds the
 * lock: {@code kubectl get -o jsonpath='{.spec.replicas}'} is a plain GET, {@code kubectl scale} an
 * unconditional scale.
 */
class ShellInteropTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

    private MockCluster cluster;
    private KubernetesReplicaBackend backend;

    @BeforeEach
    void setUp() {
        cluster = MockCluster.crud();
        cluster.createBuilder(BUILDER);
        backend = KubernetesReplicaBackendTest.backend(cluster);
    }

    @AfterEach
    void tearDown() {
        backend.close();
        cluster.close();
    }

    private int shellGetReplicas() {
        return cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .get()
                .getSpec()
                .getReplicas();
    }

    private void shellScale(int replicas) {
        cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .scale(replicas);
    }

    @Test
    void theShellSeesALockHeldThroughTheBackendAsHeld() throws Exception {
        LockFields held = LockFields.free(0).heldBy("build-42", 1, NOW, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(TARGET, backend.read(TARGET).fields(), held))
                .isTrue();

        // The shell's check: replicas 1 means busy, so it does not scale.
        assertThat(shellGetReplicas()).isEqualTo(1);
    }

    @Test
    void theShellCleanupScalingToZeroMakesTheHoldersNextRenewalFail() throws Exception {
        LockFields held = LockFields.free(0).heldBy("build-42", 1, NOW, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(TARGET, backend.read(TARGET).fields(), held))
                .isTrue();

        shellScale(0);

        assertThat(backend.compareAndSet(TARGET, held, held.renewedAt(NOW.plusSeconds(10))))
                .isFalse();
        LockFields after = backend.read(TARGET).fields();
        assertThat(after.replicas()).isZero();
        // scale leaves the annotations: the engine must treat replicas 0 as free whatever the holder says.
        assertThat(after.holder()).isEqualTo("build-42");
        LockFields next = after.heldBy("build-43", after.token() + 1, NOW.plusSeconds(20), Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(TARGET, after, next)).isTrue();
        assertThat(shellGetReplicas()).isEqualTo(1);
    }

    @Test
    void aShellAcquisitionBetweenReadAndWriteMakesTheBackendLoseTheRace() throws Exception {
        LockFields free = backend.read(TARGET).fields();
        assertThat(shellGetReplicas()).isZero();

        shellScale(1); // the shell took it: check-then-act, no annotations

        LockFields mine = free.heldBy("build-42", free.token() + 1, NOW, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(TARGET, free, mine)).isFalse();
        LockFields legacy = backend.read(TARGET).fields();
        assertThat(legacy.replicas()).isEqualTo(1);
        assertThat(legacy.holder()).isNull();
    }
}
