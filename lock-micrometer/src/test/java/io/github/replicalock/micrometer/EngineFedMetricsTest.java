package io.github.replicalock.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.testkit.FakeCluster;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The meters are fed by the engine through {@code ReplicaLocks.Builder.listener}, in virtual time. */
class EngineFedMetricsTest {

    @Test
    void anAcquisitionAndAReleaseOnAFakeClusterShowInTheMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ReplicaLockMetrics metrics = new ReplicaLockMetrics();
        metrics.bindTo(registry);
        try (FakeCluster cluster = FakeCluster.builder()
                .virtualTime()
                .podReadyDelay(Duration.ofSeconds(3))
                .build()) {
            LockTarget target = cluster.createDeployment("apps--droneio--prd", "buildah-external");
            try (ReplicaLocks locks = ReplicaLocks.builder()
                    .backend(cluster.backend("build-1"))
                    .clock(cluster.clock())
                    .holder("build-1")
                    .listener(metrics.listener())
                    .shutdownHook(false)
                    .build()) {
                ReplicaLock lock = locks.acquire(target, Duration.ofMinutes(1));
                cluster.clock()
                        .newWakeup()
                        .awaitUntil(cluster.clock().nanoTime()
                                + Duration.ofSeconds(60).toNanos());
                lock.close();
            }
        }

        Tags tags = Tags.of("namespace", "apps--droneio--prd", "deployment", "buildah-external");
        var wait = registry.get(ReplicaLockMetrics.WAIT).tags(tags).timer();
        assertThat(wait.count()).isEqualTo(1);
        assertThat(wait.totalTime(TimeUnit.SECONDS))
                .as("the wait for the Ready pod")
                .isEqualTo(3.0);
        var held = registry.get(ReplicaLockMetrics.HOLD)
                .tags(tags.and("outcome", "released"))
                .timer();
        assertThat(held.count()).isEqualTo(1);
        assertThat(held.totalTime(TimeUnit.SECONDS)).isGreaterThanOrEqualTo(63.0);
        assertThat(registry.get(ReplicaLockMetrics.ACQUISITIONS)
                        .tags(tags)
                        .counter()
                        .count())
                .isEqualTo(1.0);
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH)
                        .tags(tags)
                        .gauge()
                        .value())
                .isZero();
    }
}
