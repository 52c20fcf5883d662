package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.testkit.DeploymentSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One Deployment as the fake API server stores it; guarded by the store's lock. */
final class StoredDeployment {
    final LockTarget target;
    final Map<String, String> annotations = new LinkedHashMap<>();
    final Map<String, StoredPod> pods = new LinkedHashMap<>();
    int replicas;
    int readyReplicas;

    @Nullable
    String selector;

    long resourceVersion;
    /** The parsed lock fields; null when the annotations or replicas changed since. */
    @Nullable
    LockFields fieldsCache;
    /** The parsed queue of waiters; null when the annotations changed since. */
    @Nullable
    LockQueue queueCache;
    /** The pods as the SPI shows them; null when a pod changed since. */
    @Nullable
    List<PodSnapshot> podCache;

    StoredDeployment(LockTarget target) {
        this.target = target;
        this.selector = "app=" + target.name();
    }

    /**
     * The lock fields, parsed by {@link LockAnnotations} at most once per change.
     *
     * @throws LockTargetInvalidException if an annotation does not parse
     */
    LockFields lockFields() {
        LockFields cached = fieldsCache;
        if (cached != null) {
            return cached;
        }
        LockFields parsed = LockAnnotations.parse(target, replicas, annotations);
        fieldsCache = parsed;
        return parsed;
    }

    /**
     * The queue of waiters, parsed by {@link LockQueue} at most once per change.
     *
     * @throws LockTargetInvalidException if the queue annotation does not parse
     */
    LockQueue queue() {
        LockQueue cached = queueCache;
        if (cached != null) {
            return cached;
        }
        LockQueue parsed = LockQueue.parse(target, annotations);
        queueCache = parsed;
        return parsed;
    }

    /** The lock fields, or null if an annotation does not parse. */
    @Nullable
    LockFields lockFieldsOrNull() {
        try {
            return lockFields();
        } catch (LockTargetInvalidException e) {
            return null;
        }
    }

    /** The pods as the SPI shows them; none without a selector (no way to tell which are ours). */
    List<PodSnapshot> podSnapshots() {
        List<PodSnapshot> cached = podCache;
        if (cached != null) {
            return cached;
        }
        List<PodSnapshot> list = new ArrayList<>(pods.size());
        if (selector != null) {
            for (StoredPod pod : pods.values()) {
                list.add(new PodSnapshot(pod.name, pod.ready, pod.terminating, pod.detail()));
            }
        }
        List<PodSnapshot> snapshots = List.copyOf(list);
        podCache = snapshots;
        return snapshots;
    }

    /** What {@code kubectl get} shows. */
    DeploymentSnapshot snapshot() {
        List<DeploymentSnapshot.Pod> list = new ArrayList<>(pods.size());
        for (StoredPod pod : pods.values()) {
            list.add(new DeploymentSnapshot.Pod(pod.name, pod.phase, pod.ready, pod.terminating, pod.waitingReason));
        }
        return new DeploymentSnapshot(
                target, replicas, readyReplicas, annotations, selector, Long.toString(resourceVersion), list);
    }
}
