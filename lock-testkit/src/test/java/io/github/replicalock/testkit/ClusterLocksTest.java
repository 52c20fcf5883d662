package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link FakeCluster#locks}: a builder on a client of the cluster and on the cluster's clock. */
class ClusterLocksTest {
    @Test
    void locksWaitOnTheClustersVirtualClock() throws Exception {
        try (FakeCluster cluster = FakeCluster.builder().virtualTime().build()) {
            LockTarget target = cluster.createDeployment("ci", "builder");
            cluster.faults().podsNeverReady(target, "ImagePullBackOff");

            try (ReplicaLocks locks = cluster.locks("build-1").build()) {
                // The default 120 s ready timeout: on the system clock this would take two minutes.
                assertThatThrownBy(() -> locks.tryAcquire(target)).isInstanceOf(PodNotReadyException.class);
            }

            assertThat(cluster.virtualClock().elapsed()).isGreaterThanOrEqualTo(Duration.ofMinutes(2));
        }
    }

    @Test
    void theClientNameIsTheHolderUnlessTheBuilderSaysOtherwise() throws Exception {
        try (FakeCluster cluster = FakeCluster.builder().virtualTime().build()) {
            LockTarget target = cluster.createDeployment("ci", "builder");

            try (ReplicaLocks named = cluster.locks("build-1").build();
                    ReplicaLock lock = named.acquire(target, Duration.ofMinutes(1))) {
                assertThat(lock.holder()).isEqualTo("build-1");
            }
            try (ReplicaLocks renamed =
                            cluster.locks("client-7").holder("build-2").build();
                    ReplicaLock lock = renamed.acquire(target, Duration.ofMinutes(1))) {
                assertThat(lock.holder()).isEqualTo("build-2");
            }
            assertThat(cluster.lockWrites()).extracting(LockWrite::client).contains("build-1", "client-7");
        }
    }
}
