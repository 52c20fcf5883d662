package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The simulated deployment controller and kubelet: keeps each Deployment's pods in line with its
 * replicas, starts them (Ready after the pod ready delay), terminates them (gone after the
 * termination delay), and plays the per-deployment pod faults (pods never Ready, pods stuck
 * terminating).
 *
 * <p>It works on the store's state under the store's lock: methods marked "lock held" are called
 * by the store inside a write, the delayed transitions take the lock themselves on the cluster
 * clock and tell the watches after releasing it. With zero delays every transition happens inside
 * the write that caused it.
 */
final class DeploymentController {
    private static final String NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
    private static final long NAME_SEED = 0x5EEDL;

    private final ClusterStore store;
    private final ReentrantLock lock;
    private final WatchRegistry watches;
    private final Duration podReadyDelay;
    private final Duration podTerminationDelay;

    // All guarded by the store's lock.
    private final Set<String> podNames = new HashSet<>();
    private final Map<LockTarget, String> neverReady = new HashMap<>();
    private final Set<LockTarget> stuckTerminating = new HashSet<>();
    private final SplittableRandom random = new SplittableRandom(NAME_SEED);

    DeploymentController(
            ClusterStore store,
            ReentrantLock lock,
            WatchRegistry watches,
            Duration podReadyDelay,
            Duration podTerminationDelay) {
        this.store = store;
        this.lock = lock;
        this.watches = watches;
        this.podReadyDelay = Objects.requireNonNull(podReadyDelay, "podReadyDelay");
        this.podTerminationDelay = Objects.requireNonNull(podTerminationDelay, "podTerminationDelay");
    }

    // ================================================================ reconciling

    /**
     * Keeps the number of non-terminating pods equal to replicas: creates pods on scale-up, marks
     * the surplus terminating on scale-down (pods that are not ready first, then the newest, as
     * the ReplicaSet controller does). Lock held.
     */
    void reconcile(StoredDeployment deployment) {
        int live = 0;
        for (StoredPod pod : deployment.pods.values()) {
            if (!pod.terminating) {
                live++;
            }
        }
        if (live == deployment.replicas) {
            return;
        }
        while (live < deployment.replicas) {
            createPod(deployment);
            live++;
        }
        if (live > deployment.replicas) {
            List<StoredPod> candidates = new ArrayList<>();
            for (StoredPod pod : deployment.pods.values()) {
                if (!pod.terminating) {
                    candidates.add(0, pod);
                }
            }
            // Stable: among equally ready pods the newest stays first.
            candidates.sort((a, b) -> Boolean.compare(a.ready, b.ready));
            for (StoredPod pod : candidates.subList(0, live - deployment.replicas)) {
                terminate(deployment, pod);
            }
        }
        podsChanged(deployment);
    }

    /** Sets the deletion timestamp; the pod goes after the termination delay unless stuck. Lock held. */
    void terminate(StoredDeployment deployment, StoredPod pod) {
        pod.terminating = true;
        finishTermination(deployment, pod);
    }

    /** The controller's status write: ready replicas, and a new resource version. Lock held. */
    void podsChanged(StoredDeployment deployment) {
        int ready = 0;
        for (StoredPod pod : deployment.pods.values()) {
            if (pod.ready) {
                ready++;
            }
        }
        deployment.readyReplicas = ready;
        deployment.podCache = null;
        deployment.resourceVersion = store.nextResourceVersion();
    }

    /** Cascading deletion, without the wait: the pods go with their Deployment. Lock held. */
    void deleted(StoredDeployment deployment) {
        for (StoredPod pod : deployment.pods.values()) {
            podNames.remove(podKey(deployment.target, pod.name));
        }
        deployment.pods.clear();
    }

    private void createPod(StoredDeployment deployment) {
        LockTarget target = deployment.target;
        String name;
        do {
            StringBuilder suffix = new StringBuilder(target.name().length() + 6)
                    .append(target.name())
                    .append('-');
            for (int i = 0; i < 5; i++) {
                suffix.append(NAME_ALPHABET.charAt(random.nextInt(NAME_ALPHABET.length())));
            }
            name = suffix.toString();
        } while (!podNames.add(podKey(target, name)));
        StoredPod pod = new StoredPod(name);
        deployment.pods.put(name, pod);
        startContainer(deployment, pod);
    }

    /** A pod that is not ready yet: ready now, ready later, or never (the fault). Lock held. */
    private void startContainer(StoredDeployment deployment, StoredPod pod) {
        String stuckReason = neverReady.get(deployment.target);
        if (stuckReason != null) {
            pod.waitingReason = stuckReason;
        } else if (podReadyDelay.isZero()) {
            pod.makeReady();
        } else {
            pod.waitingReason = StoredPod.CONTAINER_CREATING;
            later(podReadyDelay, deployment, pod, () -> {
                if (!pod.ready && !pod.terminating && !neverReady.containsKey(deployment.target)) {
                    pod.makeReady();
                    return true;
                }
                return false;
            });
        }
    }

    private void finishTermination(StoredDeployment deployment, StoredPod pod) {
        if (stuckTerminating.contains(deployment.target)) {
            return;
        }
        if (podTerminationDelay.isZero()) {
            removePod(deployment, pod);
            return;
        }
        later(podTerminationDelay, deployment, pod, () -> {
            if (!stuckTerminating.contains(deployment.target)) {
                removePod(deployment, pod);
                return true;
            }
            return false;
        });
    }

    /** A pod transition that needs the cluster clock, skipped if the pod is gone by then. */
    private interface Transition {
        /** Lock held; true if it changed the pod. */
        boolean apply();
    }

    private void later(Duration delay, StoredDeployment deployment, StoredPod pod, Transition transition) {
        store.schedule(delay, () -> {
            LockTarget changed = null;
            lock.lock();
            try {
                if (store.isCurrent(deployment) && deployment.pods.get(pod.name) == pod && transition.apply()) {
                    podsChanged(deployment);
                    changed = deployment.target;
                }
            } finally {
                lock.unlock();
            }
            watches.changed(changed);
        });
    }

    private void removePod(StoredDeployment deployment, StoredPod pod) {
        deployment.pods.remove(pod.name);
        podNames.remove(podKey(deployment.target, pod.name));
    }

    private static String podKey(LockTarget target, String pod) {
        return target.namespace() + '/' + pod;
    }

    // ================================================================ pod faults

    void podsNeverReady(LockTarget target, String waitingReason) {
        Objects.requireNonNull(waitingReason, "waitingReason");
        lock.lock();
        try {
            store.checkOpen();
            neverReady.put(target, waitingReason);
            StoredDeployment deployment = store.deploymentOrNull(target);
            if (deployment != null) {
                for (StoredPod pod : deployment.pods.values()) {
                    if (!pod.ready && !pod.terminating) {
                        pod.waitingReason = waitingReason;
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        watches.changed(target);
    }

    void clearPodsNeverReady(LockTarget target) {
        lock.lock();
        try {
            store.checkOpen();
            if (neverReady.remove(target) == null) {
                return;
            }
            StoredDeployment deployment = store.deploymentOrNull(target);
            if (deployment != null) {
                for (StoredPod pod : deployment.pods.values()) {
                    if (!pod.ready && !pod.terminating) {
                        startContainer(deployment, pod);
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        watches.changed(target);
    }

    void podsStuckTerminating(LockTarget target) {
        lock.lock();
        try {
            store.checkOpen();
            stuckTerminating.add(target);
        } finally {
            lock.unlock();
        }
    }

    void clearPodsStuckTerminating(LockTarget target) {
        lock.lock();
        try {
            store.checkOpen();
            if (!stuckTerminating.remove(target)) {
                return;
            }
            StoredDeployment deployment = store.deploymentOrNull(target);
            if (deployment != null) {
                for (StoredPod pod : List.copyOf(deployment.pods.values())) {
                    if (pod.terminating) {
                        finishTermination(deployment, pod);
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        watches.changed(target);
    }

    /** Ends every pod fault. */
    void clearPodFaults() {
        List<LockTarget> targets;
        lock.lock();
        try {
            targets = new ArrayList<>(neverReady.keySet());
            targets.addAll(stuckTerminating);
        } finally {
            lock.unlock();
        }
        for (LockTarget target : targets) {
            clearPodsNeverReady(target);
            clearPodsStuckTerminating(target);
        }
    }
}
