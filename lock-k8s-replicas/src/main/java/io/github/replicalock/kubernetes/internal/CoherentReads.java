package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Reads of the lock that stay coherent with what this backend already knows: from the watch's
 * caches while a watch is open and synced, from the server otherwise, and never a copy older than
 * one already seen (the answer to our own last write or GET).
 *
 * <p>It also remembers the last {@link ObservedLock} seen per target: the stored text a
 * conditional write tests, and the uid events refer to.
 */
public final class CoherentReads {
    /** How long a new watch's first list is waited for instead of reading from the server beside it. */
    private static final Duration WATCH_STARTUP = Duration.ofSeconds(2);

    private final KubernetesClient client;
    private final Requests requests;
    private final TargetWatches watches;
    private final Map<LockTarget, ObservedLock> lastSeen = new ConcurrentHashMap<>();
    // The newest Deployment the server itself answered (GET, or our own write), per watched target.
    private final Map<LockTarget, Deployment> newest = new ConcurrentHashMap<>();

    /** @param watches the watches; tell {@link #forget} of every target whose watch stops */
    public CoherentReads(KubernetesClient client, Requests requests, TargetWatches watches) {
        this.client = client;
        this.requests = requests;
        this.watches = watches;
    }

    /** The lock fields and status, and the pods of the Deployment's selector. */
    public LockRecord read(LockTarget target) throws InterruptedException {
        return read(target, watches.of(target));
    }

    /**
     * {@link #read} from the server alone, a GET and a LIST (see {@link
     * io.github.replicalock.spi.LockBackend#readFresh}); the answer is learned as the newest copy, so
     * that cached reads after it never go back to an older one.
     */
    public LockRecord readFresh(LockTarget target) throws InterruptedException {
        return read(target, null);
    }

    /** @param watch the watch whose caches may answer; null to ask the server */
    private LockRecord read(LockTarget target, @Nullable TargetWatch watch) throws InterruptedException {
        Deployment deployment = current(target, watch);
        ObservedLock observed = seen(target, deployment);
        LockFields fields = observed.fields(target);
        LabelSelector labelSelector =
                deployment.getSpec() == null ? null : deployment.getSpec().getSelector();
        String selector = Selectors.render(target, labelSelector);
        int ready = deployment.getStatus() == null || deployment.getStatus().getReadyReplicas() == null
                ? 0
                : deployment.getStatus().getReadyReplicas();
        return new LockRecord(
                fields,
                ready,
                selector,
                selector == null || labelSelector == null ? List.of() : pods(target, watch, selector, labelSelector),
                LockQueue.parse(target, observed.annotationsOrEmpty()));
    }

    /** The lock as last seen stored, by a read, a GET or our own write; null if never. */
    public @Nullable ObservedLock lastSeen(LockTarget target) {
        return lastSeen.get(target);
    }

    /** Remembers {@code deployment} as the last seen stored lock of {@code target}. */
    public ObservedLock seen(LockTarget target, Deployment deployment) {
        ObservedLock observed = ObservedLock.of(deployment);
        lastSeen.put(target, observed);
        return observed;
    }

    /**
     * The newest copy of the Deployment we can vouch for without asking the server: the watch's, or
     * the one our own last write or GET returned when the watch has not caught up with it yet. A copy
     * older than one we already saw must never be served: after our own write the engine would think
     * the lock lost, after a lost race it would try the same write again. Without a connected, synced
     * watch, and whenever a resourceVersion is not a number, the server is asked.
     */
    private Deployment current(LockTarget target, @Nullable TargetWatch watch) throws InterruptedException {
        if (watch != null) {
            Deployment cached = watch.cachedDeployment(WATCH_STARTUP);
            if (cached != null) {
                long cachedVersion = Versions.of(cached);
                Deployment known = newest.get(target);
                long knownVersion = Versions.of(known);
                if (cachedVersion != Versions.UNKNOWN) {
                    if (known == null || (knownVersion != Versions.UNKNOWN && cachedVersion >= knownVersion)) {
                        return cached;
                    }
                    if (knownVersion > cachedVersion) {
                        return known;
                    }
                }
            }
        }
        return get(target);
    }

    /**
     * Remembers {@code deployment} as the newest copy seen straight from the server, unless one newer
     * is known. Only while a watch is open: without one every read asks the server, and a watch
     * opened later lists a state at least as new as any answer we had before.
     */
    public void learned(LockTarget target, Deployment deployment) {
        if (watches.of(target) == null) {
            return;
        }
        long version = Versions.of(deployment);
        newest.compute(target, (t, known) -> {
            if (version == Versions.UNKNOWN) {
                return null; // nothing to compare with from now on: the next reads ask the server
            }
            long knownVersion = Versions.of(known);
            return known == null || knownVersion == Versions.UNKNOWN || version >= knownVersion ? deployment : known;
        });
    }

    /** Forgets the newest copy of a target whose watch stopped. */
    public void forget(LockTarget target) {
        newest.remove(target);
    }

    /** A GET of the Deployment from the server, learned as the newest copy. */
    public Deployment get(LockTarget target) throws InterruptedException {
        Deployment deployment = requests.call(
                target,
                "get",
                "deployments",
                () -> client.apps()
                        .deployments()
                        .inNamespace(target.namespace())
                        .withName(target.name())
                        .get());
        if (deployment == null) {
            newest.remove(target);
            throw new LockTargetNotFoundException(target, null);
        }
        learned(target, deployment);
        return deployment;
    }

    private List<PodSnapshot> pods(
            LockTarget target, @Nullable TargetWatch watch, String selector, LabelSelector labelSelector)
            throws InterruptedException {
        if (watch != null) {
            watch.ensurePodWatch(selector);
            List<Pod> cached = watch.cachedPods(selector, WATCH_STARTUP);
            if (cached != null) {
                return PodViews.snapshots(matching(cached, labelSelector), watch.deletedHere());
            }
        }
        List<Pod> listed = requests.call(
                target,
                "list",
                "pods",
                () -> client.pods()
                        .inNamespace(target.namespace())
                        .withLabelSelector(selector)
                        .list()
                        .getItems());
        return PodViews.snapshots(matching(listed, labelSelector), Set.of());
    }

    private static List<Pod> matching(List<Pod> pods, LabelSelector selector) {
        return pods.stream()
                .filter(p -> Selectors.matches(selector, p.getMetadata().getLabels()))
                .toList();
    }
}
