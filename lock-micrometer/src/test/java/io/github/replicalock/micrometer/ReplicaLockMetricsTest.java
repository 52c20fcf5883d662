package io.github.replicalock.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockListener;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReplicaLockMetricsTest {
    private static final LockTarget BUILDER = LockTarget.of("apps--droneio--prd", "buildah-external");
    private static final LockTarget OTHER = LockTarget.of("ci", "other");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ReplicaLockMetrics metrics = new ReplicaLockMetrics(Tags.of("app", "drone"));
    private final LockListener listener = metrics.listener();

    private double counter(String name, LockTarget target) {
        return registry.get(name)
                .tags("namespace", target.namespace(), "deployment", target.name(), "app", "drone")
                .counter()
                .count();
    }

    /** The calls the engine makes for one build's life: wait, takeover, hold, renewal trouble, loss. */
    @Test
    void everyMeterReadsBackWhatTheEngineReported() {
        metrics.bindTo(registry);

        listener.onQueueObserved(BUILDER, 3);
        listener.onAcquired(BUILDER, 7, Duration.ofSeconds(40));
        listener.onReleased(BUILDER, 7, Duration.ofMinutes(5));
        listener.onTakeover(BUILDER, "build-7", 8);
        listener.onAcquired(BUILDER, 8, Duration.ofSeconds(20));
        listener.onRenewalFailed(BUILDER, 8, new LockBackendUnavailableException(BUILDER, "503 after retries", null));
        listener.onLost(BUILDER, new LockLostException(BUILDER, "build-8", 8, "taken over"), Duration.ofMinutes(1));
        listener.onReadyTimeout(
                BUILDER,
                new PodNotReadyException(BUILDER, Duration.ofSeconds(120), "ImagePullBackOff"),
                Duration.ofSeconds(121));
        listener.onQueueObserved(BUILDER, 2);

        Tags tags = Tags.of("namespace", "apps--droneio--prd", "deployment", "buildah-external", "app", "drone");
        var wait = registry.get(ReplicaLockMetrics.WAIT).tags(tags).timer();
        assertThat(wait.count()).isEqualTo(2);
        assertThat(wait.totalTime(TimeUnit.SECONDS)).isEqualTo(60.0);
        assertThat(wait.max(TimeUnit.SECONDS)).isEqualTo(40.0);
        var released = registry.get(ReplicaLockMetrics.HOLD)
                .tags(tags.and("outcome", "released"))
                .timer();
        assertThat(released.count()).isEqualTo(1);
        assertThat(released.totalTime(TimeUnit.SECONDS)).isEqualTo(300.0);
        var lost = registry.get(ReplicaLockMetrics.HOLD)
                .tags(tags.and("outcome", "lost"))
                .timer();
        assertThat(lost.count()).isEqualTo(1);
        assertThat(lost.totalTime(TimeUnit.SECONDS)).isEqualTo(60.0);
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH)
                        .tags(tags)
                        .gauge()
                        .value())
                .isEqualTo(2.0);
        assertThat(counter(ReplicaLockMetrics.ACQUISITIONS, BUILDER)).isEqualTo(2.0);
        assertThat(counter(ReplicaLockMetrics.TAKEOVERS, BUILDER)).isEqualTo(1.0);
        assertThat(counter(ReplicaLockMetrics.LOSSES, BUILDER)).isEqualTo(1.0);
        assertThat(counter(ReplicaLockMetrics.RENEWAL_FAILURES, BUILDER)).isEqualTo(1.0);
        assertThat(counter(ReplicaLockMetrics.READY_TIMEOUTS, BUILDER)).isEqualTo(1.0);
    }

    @Test
    void eachLockHasItsOwnMeters() {
        metrics.bindTo(registry);

        listener.onAcquired(BUILDER, 1, Duration.ofSeconds(1));
        listener.onAcquired(OTHER, 1, Duration.ofSeconds(1));
        listener.onAcquired(OTHER, 2, Duration.ofSeconds(1));
        listener.onQueueObserved(BUILDER, 5);
        listener.onQueueObserved(OTHER, 0);

        assertThat(counter(ReplicaLockMetrics.ACQUISITIONS, BUILDER)).isEqualTo(1.0);
        assertThat(counter(ReplicaLockMetrics.ACQUISITIONS, OTHER)).isEqualTo(2.0);
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH)
                        .tags("deployment", "buildah-external")
                        .gauge()
                        .value())
                .isEqualTo(5.0);
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH)
                        .tags("deployment", "other")
                        .gauge()
                        .value())
                .isEqualTo(0.0);
    }

    @Test
    void beforeBindingOnlyTheLastQueueLengthIsKept() {
        listener.onAcquired(BUILDER, 1, Duration.ofSeconds(1));
        listener.onQueueObserved(BUILDER, 4);

        metrics.bindTo(registry);

        assertThat(registry.find(ReplicaLockMetrics.ACQUISITIONS).counter()).isNull();
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH).gauge().value())
                .isEqualTo(4.0);
        listener.onQueueObserved(BUILDER, 1);
        assertThat(registry.get(ReplicaLockMetrics.QUEUE_LENGTH).gauge().value())
                .isEqualTo(1.0);
    }

    @Test
    void everyBoundRegistryRecords() {
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        metrics.bindTo(second);
        metrics.bindTo(registry); // binding twice does not double-count

        listener.onTakeover(BUILDER, null, 3);

        assertThat(counter(ReplicaLockMetrics.TAKEOVERS, BUILDER)).isEqualTo(1.0);
        assertThat(second.get(ReplicaLockMetrics.TAKEOVERS).counter().count()).isEqualTo(1.0);
    }
}
