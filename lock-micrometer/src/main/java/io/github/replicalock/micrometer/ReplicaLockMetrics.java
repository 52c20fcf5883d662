package io.github.replicalock.micrometer;

import io.github.replicalock.LockException;
import io.github.replicalock.LockListener;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer meters for replica-lock, fed by a {@link LockListener}: bind it to your registry, and
 * give its {@link #listener()} to the locks it measures. Every meter is tagged {@code namespace}
 * and {@code deployment} (the lock's {@link LockTarget}), plus the common tags given here.
 *
 * <pre>{@code
 * ReplicaLockMetrics metrics = new ReplicaLockMetrics(Tags.of("app", "drone"));
 * metrics.bindTo(meterRegistry);                  // or let Spring Boot bind every MeterBinder bean
 * ReplicaLocks locks = ReplicaLocks.builder()
 *         .backend(backend)
 *         .listener(metrics.listener())             // the lock engine feeds the meters
 *         .build();
 * }</pre>
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@value #WAIT}</td><td>timer</td><td>from the call to {@code acquire} or {@code
 *       tryAcquire} until the lock was held with a Ready pod</td></tr>
 *   <tr><td>{@value #HOLD}</td><td>timer, tag {@code outcome} = {@code released} or {@code
 *       lost}</td><td>from the acquisition until the release, or until the loss was found</td></tr>
 *   <tr><td>{@value #QUEUE_LENGTH}</td><td>gauge</td><td>the waiters in the lock's queue at the
 *       last read (dead entries not yet removed included)</td></tr>
 *   <tr><td>{@value #ACQUISITIONS}</td><td>counter</td><td>locks acquired, takeovers
 *       included</td></tr>
 *   <tr><td>{@value #TAKEOVERS}</td><td>counter</td><td>expired holds taken over</td></tr>
 *   <tr><td>{@value #LOSSES}</td><td>counter</td><td>held locks lost</td></tr>
 *   <tr><td>{@value #RENEWAL_FAILURES}</td><td>counter</td><td>renewals that failed after their
 *       retries</td></tr>
 *   <tr><td>{@value #READY_TIMEOUTS}</td><td>counter</td><td>acquisitions rolled back because no
 *       builder pod became Ready</td></tr>
 * </table>
 *
 * <p>Events heard before the first {@link #bindTo} are not recorded, except the last queue length,
 * which the gauge shows once bound. Binding to several registries records into each. Thread-safe.
 */
public final class ReplicaLockMetrics implements MeterBinder {
    public static final String WAIT = "replicalock.wait";
    public static final String HOLD = "replicalock.hold";
    public static final String QUEUE_LENGTH = "replicalock.queue.length";
    public static final String ACQUISITIONS = "replicalock.acquisitions";
    public static final String TAKEOVERS = "replicalock.takeovers";
    public static final String LOSSES = "replicalock.losses";
    public static final String RENEWAL_FAILURES = "replicalock.renewal.failures";
    public static final String READY_TIMEOUTS = "replicalock.ready.timeouts";

    private final Tags commonTags;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<LockTarget, AtomicInteger> queueLengths = new ConcurrentHashMap<>();
    private final LockListener listener = new Recorder();

    /** Meters tagged by namespace and deployment only. */
    public ReplicaLockMetrics() {
        this(Tags.empty());
    }

    /** Meters tagged by namespace, deployment and {@code commonTags}. */
    public ReplicaLockMetrics(Iterable<Tag> commonTags) {
        this.commonTags = Tags.of(Objects.requireNonNull(commonTags, "commonTags"));
    }

    /** Registers the meters of every lock heard so far, and records every later event into it too. */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (!registries.contains(registry)) {
            registries.add(registry);
        }
        // After adding the registry: a target first heard meanwhile is registered by one side or both
        // (registering a gauge twice returns the first).
        queueLengths.forEach((target, length) -> registerQueueGauge(registry, target, length));
    }

    /** The listener that feeds these meters; the same instance on every call. */
    public LockListener listener() {
        return listener;
    }

    private Tags tags(LockTarget target) {
        return commonTags.and("namespace", target.namespace(), "deployment", target.name());
    }

    private void count(String name, String description, LockTarget target) {
        Tags tags = tags(target);
        for (MeterRegistry registry : registries) {
            Counter.builder(name)
                    .description(description)
                    .tags(tags)
                    .register(registry)
                    .increment();
        }
    }

    private void time(String name, String description, Tags tags, Duration duration) {
        for (MeterRegistry registry : registries) {
            Timer.builder(name)
                    .description(description)
                    .tags(tags)
                    .register(registry)
                    .record(duration);
        }
    }

    private void hold(LockTarget target, String outcome, Duration held) {
        time(HOLD, "How long locks were held", tags(target).and("outcome", outcome), held);
    }

    private void registerQueueGauge(MeterRegistry registry, LockTarget target, AtomicInteger length) {
        Gauge.builder(QUEUE_LENGTH, length, AtomicInteger::get)
                .description("Waiters in the lock's queue at the last read")
                .tags(tags(target))
                .register(registry);
    }

    /** The listener: each callback is one meter update in every bound registry. */
    private final class Recorder implements LockListener {
        @Override
        public void onAcquired(LockTarget target, long fencingToken, Duration waited) {
            time(WAIT, "How long acquisitions waited until the lock was held with a Ready pod", tags(target), waited);
            count(ACQUISITIONS, "Locks acquired, takeovers included", target);
        }

        @Override
        public void onTakeover(LockTarget target, @Nullable String previousHolder, long fencingToken) {
            count(TAKEOVERS, "Expired holds taken over", target);
        }

        @Override
        public void onReleased(LockTarget target, long fencingToken, Duration held) {
            hold(target, "released", held);
        }

        @Override
        public void onLost(LockTarget target, LockLostException cause, Duration held) {
            hold(target, "lost", held);
            count(LOSSES, "Held locks lost", target);
        }

        @Override
        public void onRenewalFailed(LockTarget target, long fencingToken, LockException cause) {
            count(RENEWAL_FAILURES, "Renewals that failed after their retries", target);
        }

        @Override
        public void onReadyTimeout(LockTarget target, PodNotReadyException cause, Duration waited) {
            count(READY_TIMEOUTS, "Acquisitions rolled back because no builder pod became Ready", target);
        }

        @Override
        public void onQueueObserved(LockTarget target, int length) {
            AtomicInteger stored = queueLengths.get(target);
            if (stored == null) {
                AtomicInteger fresh = new AtomicInteger(length);
                stored = queueLengths.putIfAbsent(target, fresh);
                if (stored == null) {
                    for (MeterRegistry registry : registries) {
                        registerQueueGauge(registry, target, fresh);
                    }
                    return;
                }
            }
            stored.set(length);
        }
    }
}
