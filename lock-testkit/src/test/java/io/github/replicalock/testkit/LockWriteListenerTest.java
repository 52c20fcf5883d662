package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link FakeCluster.Builder#onLockWrite}: every accepted write, as it happens, outside the cluster's lock. */
class LockWriteListenerTest {
    private static final Instant NOW = Instant.parse("2030-01-01T10:00:00Z");

    @Test
    void hearsEveryAcceptedWriteInOrderAndMayCallTheCluster() throws Exception {
        List<LockWrite> heard = new CopyOnWriteArrayList<>();
        List<String> readyWhenHeard = new CopyOnWriteArrayList<>();
        FakeCluster[] self = new FakeCluster[1];
        try (FakeCluster cluster = FakeCluster.builder()
                .historyLimit(1)
                .onLockWrite(write -> {
                    heard.add(write);
                    // Outside the cluster's lock: calling back in does not deadlock.
                    readyWhenHeard.add(self[0].ready(write.target()));
                })
                .build()) {
            self[0] = cluster;
            LockTarget target = cluster.createDeployment("ci", "builder");
            FakeBackend backend = cluster.backend("build-1");
            LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, Duration.ofSeconds(30));

            assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();
            assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isFalse(); // not applied: not heard
            cluster.scale(target, 0);
            cluster.annotate("ci", "builder", LockFields.HOLDER_ANNOTATION, null);

            assertThat(heard)
                    .extracting(LockWrite::client)
                    .containsExactly("build-1", FakeCluster.KUBECTL, FakeCluster.KUBECTL);
            assertThat(heard.get(0).after().token()).isEqualTo(1);
            assertThat(readyWhenHeard).containsExactly("1/1", "0/0", "0/0");
            // The history keeps one; the listener heard them all.
            assertThat(cluster.lockWrites()).containsExactly(heard.get(2));
        }
    }

    @Test
    void aFailingListenerNeverFailsTheWrite() throws Exception {
        try (FakeCluster cluster = FakeCluster.builder()
                .onLockWrite(write -> {
                    throw new IllegalStateException("listener bug");
                })
                .build()) {
            LockTarget target = cluster.createDeployment("ci", "builder");
            LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, Duration.ofSeconds(30));

            assertThat(cluster.backend().compareAndSet(target, LockFields.free(0), held))
                    .isTrue();
            assertThat(cluster.deployment(target).replicas()).isEqualTo(1);
        }
    }
}
