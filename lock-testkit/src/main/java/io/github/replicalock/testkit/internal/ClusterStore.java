package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.DeploymentSnapshot;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.RequestKind;
import io.github.replicalock.testkit.internal.FaultState.Permission;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The fake cluster's state: Deployments, their pods, the simulated deployment controller, the
 * request path of the fake clients with their faults, watches, events and the write history.
 *
 * <p>One lock guards all state, as one API server serialises writes: a compare-and-set is atomic
 * because it runs under it. Watch listeners are always called after the lock is released, so that
 * a listener may call back into the cluster. Pod transitions with a delay are tasks on the
 * cluster's clock; with zero delays they happen inside the write that caused them.
 */
public final class ClusterStore {
    private static final System.Logger LOG = System.getLogger(ClusterStore.class.getName());

    /** The client name in the history for writes a test made as {@code kubectl} would. */
    public static final String KUBECTL = "kubectl";

    /** Attempts per request when transient errors are injected, as resilience4j's default. */
    public static final int MAX_ATTEMPTS = 3;

    /** The first backoff after a transient error; doubled after each further one. */
    public static final Duration FIRST_BACKOFF = Duration.ofMillis(10);

    /**
     * Conflicts a compare-and-set absorbs before it gives up. A real API server under a controller
     * writing status sees one or two in a row; ten means something is badly wrong.
     */
    public static final int MAX_CONFLICTS = 10;

    /** Events kept per Deployment; older ones are dropped, as the API server expires them. */
    public static final int MAX_EVENTS = 1000;

    private static final String CONTAINER = "builder";
    private static final String PENDING = "Pending";
    private static final String RUNNING = "Running";
    private static final String CONTAINER_CREATING = "ContainerCreating";
    private static final String NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
    private static final long NAME_SEED = 0x5EEDL;

    private static final Map<RequestKind, List<Permission>> PERMISSIONS = permissions();

    private final ReentrantLock lock = new ReentrantLock();
    private final LockClock clock;
    private final Runnable touch;
    private final Duration podReadyDelay;
    private final Duration podTerminationDelay;
    private final int historyLimit;
    private final FaultState faults = new FaultState();

    private final Map<LockTarget, Deployment> deployments = new HashMap<>();
    private final Set<String> podNames = new HashSet<>();
    private final Map<LockTarget, String> neverReady = new HashMap<>();
    private final Set<LockTarget> stuckTerminating = new HashSet<>();
    private final Map<LockTarget, ArrayDeque<ClusterEvent>> events = new HashMap<>();
    private final ArrayDeque<LockWrite> history = new ArrayDeque<>();
    private final @Nullable Consumer<? super LockWrite> writeListener;
    /** Writes recorded but not yet given to the listener; guarded by {@link #lock}. */
    private final ArrayDeque<LockWrite> undelivered = new ArrayDeque<>();
    /** Held while delivering, so that the listener hears the writes one at a time, in order. */
    private final ReentrantLock delivery = new ReentrantLock();

    private final Set<LockClock.Cancellable> scheduled = new HashSet<>();
    private final Map<LockTarget, CopyOnWriteArrayList<Watch>> watches = new ConcurrentHashMap<>();
    private final Map<RequestKind, LongAdder> requests = new EnumMap<>(RequestKind.class);
    private final SplittableRandom random = new SplittableRandom(NAME_SEED);

    private long resourceVersion;
    private long droppedHistory;
    private long dropEpoch;
    private int clients;
    private volatile boolean closed;

    /**
     * @param touch called on every request and test-side change: the virtual clock's activity
     *     marker, so that time does not jump while the cluster is being used
     * @param writeListener hears every accepted lock write on the writing thread, after the cluster's
     *     lock is released and before the writer goes on; null for none
     */
    public ClusterStore(
            LockClock clock,
            Runnable touch,
            Duration podReadyDelay,
            Duration podTerminationDelay,
            int historyLimit,
            @Nullable Consumer<? super LockWrite> writeListener) {
        this.writeListener = writeListener;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.touch = Objects.requireNonNull(touch, "touch");
        this.podReadyDelay = Objects.requireNonNull(podReadyDelay, "podReadyDelay");
        this.podTerminationDelay = Objects.requireNonNull(podTerminationDelay, "podTerminationDelay");
        this.historyLimit = historyLimit;
        for (RequestKind kind : RequestKind.values()) {
            requests.put(kind, new LongAdder());
        }
    }

    private static Map<RequestKind, List<Permission>> permissions() {
        Map<RequestKind, List<Permission>> map = new EnumMap<>(RequestKind.class);
        map.put(RequestKind.READ, List.of(new Permission("get", "deployments"), new Permission("list", "pods")));
        map.put(
                RequestKind.COMPARE_AND_SET,
                List.of(new Permission("get", "deployments"), new Permission("patch", "deployments")));
        map.put(RequestKind.WATCH, List.of(new Permission("watch", "deployments"), new Permission("watch", "pods")));
        map.put(RequestKind.DELETE_PODS, List.of(new Permission("delete", "pods")));
        map.put(RequestKind.EVENT, List.of(new Permission("create", "events")));
        return map;
    }

    public LockClock clock() {
        return clock;
    }

    // ================================================================ the test's side (kubectl)

    public LockTarget createDeployment(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        lock.lock();
        try {
            checkOpen();
            touch.run();
            if (deployments.containsKey(target)) {
                throw new IllegalStateException("deployment " + target + " already exists");
            }
            Deployment deployment = new Deployment(target);
            deployment.resourceVersion = ++resourceVersion;
            deployments.put(target, deployment);
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
        return target;
    }

    public void deleteDeployment(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        lock.lock();
        try {
            checkOpen();
            touch.run();
            Deployment deployment = existing(target);
            deployments.remove(target);
            // Cascading deletion, without the wait: the pods go with their Deployment.
            for (Pod pod : deployment.pods.values()) {
                podNames.remove(podKey(target, pod.name));
            }
            deployment.pods.clear();
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
    }

    public void clearSelector(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        lock.lock();
        try {
            checkOpen();
            touch.run();
            Deployment deployment = existing(target);
            deployment.selector = null;
            deployment.podCache = null;
            deployment.resourceVersion = ++resourceVersion;
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
    }

    public void scale(String namespace, String name, int replicas) {
        LockTarget target = LockTarget.of(namespace, name);
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must not be negative, got " + replicas + " for " + target);
        }
        lock.lock();
        try {
            checkOpen();
            touch.run();
            Deployment deployment = existing(target);
            LockFields before = parsedOrNull(deployment);
            deployment.replicas = replicas;
            deployment.resourceVersion = ++resourceVersion;
            deployment.fieldsCache = null;
            recordKubectlWrite(deployment, before);
            reconcile(deployment);
        } finally {
            lock.unlock();
        }
        deliverWrites();
        notifyWatches(target);
    }

    public void annotate(String namespace, String name, String key, @Nullable String value) {
        LockTarget target = LockTarget.of(namespace, name);
        Objects.requireNonNull(key, "key");
        lock.lock();
        try {
            checkOpen();
            touch.run();
            Deployment deployment = existing(target);
            LockFields before = parsedOrNull(deployment);
            if (value == null) {
                deployment.annotations.remove(key);
            } else {
                deployment.annotations.put(key, value);
            }
            deployment.resourceVersion = ++resourceVersion;
            deployment.fieldsCache = null;
            recordKubectlWrite(deployment, before);
        } finally {
            lock.unlock();
        }
        deliverWrites();
        notifyWatches(target);
    }

    private void recordKubectlWrite(Deployment deployment, @Nullable LockFields before) {
        LockFields after = parsedOrNull(deployment);
        // Only changes of parseable lock fields are lock writes; an annotation a test broke on
        // purpose has no "after" to record.
        if (before != null && after != null && !before.equals(after)) {
            recordWrite(deployment.target, KUBECTL, before, after);
        }
    }

    // ================================================================ per-deployment faults

    public void podsNeverReady(LockTarget target, String waitingReason) {
        Objects.requireNonNull(waitingReason, "waitingReason");
        lock.lock();
        try {
            checkOpen();
            neverReady.put(target, waitingReason);
            Deployment deployment = deployments.get(target);
            if (deployment != null) {
                for (Pod pod : deployment.pods.values()) {
                    if (!pod.ready && !pod.terminating) {
                        pod.waitingReason = waitingReason;
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
    }

    public void clearPodsNeverReady(LockTarget target) {
        lock.lock();
        try {
            checkOpen();
            if (neverReady.remove(target) == null) {
                return;
            }
            Deployment deployment = deployments.get(target);
            if (deployment != null) {
                for (Pod pod : deployment.pods.values()) {
                    if (!pod.ready && !pod.terminating) {
                        startContainer(deployment, pod);
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
    }

    public void podsStuckTerminating(LockTarget target) {
        lock.lock();
        try {
            checkOpen();
            stuckTerminating.add(target);
        } finally {
            lock.unlock();
        }
    }

    public void clearPodsStuckTerminating(LockTarget target) {
        lock.lock();
        try {
            checkOpen();
            if (!stuckTerminating.remove(target)) {
                return;
            }
            Deployment deployment = deployments.get(target);
            if (deployment != null) {
                for (Pod pod : List.copyOf(deployment.pods.values())) {
                    if (pod.terminating) {
                        finishTermination(deployment, pod);
                    }
                }
                podsChanged(deployment);
            }
        } finally {
            lock.unlock();
        }
        notifyWatches(target);
    }

    public FaultState faults() {
        return faults;
    }

    /** Clears every fault: counters, latency, forbidden verbs, pod faults, dropped watches. */
    public void clearAllFaults() {
        faults.clearConflicts();
        faults.clearFailures();
        faults.clearLostResponses();
        faults.latency(Duration.ZERO);
        faults.allowAll();
        List<LockTarget> pods;
        lock.lock();
        try {
            pods = new ArrayList<>(neverReady.keySet());
            pods.addAll(stuckTerminating);
        } finally {
            lock.unlock();
        }
        for (LockTarget target : pods) {
            clearPodsNeverReady(target);
            clearPodsStuckTerminating(target);
        }
        restoreWatches();
    }

    // ================================================================ the simulated controller

    /**
     * Keeps the number of non-terminating pods equal to replicas: creates pods on scale-up, marks
     * the surplus terminating on scale-down (pods that are not ready first, then the newest, as
     * the ReplicaSet controller does). Lock held.
     */
    private void reconcile(Deployment deployment) {
        int live = 0;
        for (Pod pod : deployment.pods.values()) {
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
            List<Pod> candidates = new ArrayList<>();
            for (Pod pod : deployment.pods.values()) {
                if (!pod.terminating) {
                    candidates.add(0, pod);
                }
            }
            // Stable: among equally ready pods the newest stays first.
            candidates.sort((a, b) -> Boolean.compare(a.ready, b.ready));
            for (Pod pod : candidates.subList(0, live - deployment.replicas)) {
                terminate(deployment, pod);
            }
        }
        podsChanged(deployment);
    }

    private void createPod(Deployment deployment) {
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
        Pod pod = new Pod(name);
        deployment.pods.put(name, pod);
        startContainer(deployment, pod);
    }

    /** A pod that is not ready yet: ready now, ready later, or never (the fault). Lock held. */
    private void startContainer(Deployment deployment, Pod pod) {
        String stuckReason = neverReady.get(deployment.target);
        if (stuckReason != null) {
            pod.waitingReason = stuckReason;
        } else if (podReadyDelay.isZero()) {
            pod.makeReady();
        } else {
            pod.waitingReason = CONTAINER_CREATING;
            schedule(podReadyDelay, () -> {
                LockTarget changed = null;
                lock.lock();
                try {
                    if (isCurrent(deployment, pod)
                            && !pod.ready
                            && !pod.terminating
                            && !neverReady.containsKey(deployment.target)) {
                        pod.makeReady();
                        podsChanged(deployment);
                        changed = deployment.target;
                    }
                } finally {
                    lock.unlock();
                }
                notifyWatches(changed);
            });
        }
    }

    /** Sets the deletion timestamp; the pod goes after the termination delay unless stuck. */
    private void terminate(Deployment deployment, Pod pod) {
        pod.terminating = true;
        finishTermination(deployment, pod);
    }

    private void finishTermination(Deployment deployment, Pod pod) {
        if (stuckTerminating.contains(deployment.target)) {
            return;
        }
        if (podTerminationDelay.isZero()) {
            removePod(deployment, pod);
            return;
        }
        schedule(podTerminationDelay, () -> {
            LockTarget changed = null;
            lock.lock();
            try {
                if (isCurrent(deployment, pod) && !stuckTerminating.contains(deployment.target)) {
                    removePod(deployment, pod);
                    podsChanged(deployment);
                    changed = deployment.target;
                }
            } finally {
                lock.unlock();
            }
            notifyWatches(changed);
        });
    }

    private void removePod(Deployment deployment, Pod pod) {
        deployment.pods.remove(pod.name);
        podNames.remove(podKey(deployment.target, pod.name));
    }

    private boolean isCurrent(Deployment deployment, Pod pod) {
        return !closed && deployments.get(deployment.target) == deployment && deployment.pods.get(pod.name) == pod;
    }

    /** The controller's status write: ready replicas, and a new resource version. Lock held. */
    private void podsChanged(Deployment deployment) {
        int ready = 0;
        for (Pod pod : deployment.pods.values()) {
            if (pod.ready) {
                ready++;
            }
        }
        deployment.readyReplicas = ready;
        deployment.podCache = null;
        deployment.resourceVersion = ++resourceVersion;
    }

    /** Runs {@code task} on the cluster clock; cancelled if the cluster closes first. Lock held. */
    private void schedule(Duration delay, Runnable task) {
        LockClock.Cancellable[] handle = new LockClock.Cancellable[1];
        handle[0] = clock.schedule(delay, () -> {
            lock.lock();
            try {
                // The lock was held while scheduling, so handle[0] is set by now.
                if (closed || !scheduled.remove(handle[0])) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            task.run();
        });
        scheduled.add(handle[0]);
    }

    // ================================================================ the backend's side

    /** A fake client of the cluster; see {@code FakeBackend}. */
    public Client newClient(@Nullable String name) {
        lock.lock();
        try {
            clients++;
            return new Client(name != null ? name : "client-" + clients);
        } finally {
            lock.unlock();
        }
    }

    public LockRecord read(Client client, LockTarget target) throws InterruptedException {
        return call(client, target, RequestKind.READ, () -> {
            lock.lock();
            try {
                Deployment deployment = found(target);
                return new LockRecord(
                        fields(deployment), deployment.readyReplicas, deployment.selector, podSnapshots(deployment));
            } finally {
                lock.unlock();
            }
        });
    }

    /**
     * As the real backend: read the version, write conditional on it, and on a conflict re-read
     * and retry while the lock fields still match, so that a status write between the two never
     * looks like a lost race.
     */
    public boolean compareAndSet(Client client, LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        // Set when an attempt may have been applied without our hearing of it.
        AtomicBoolean maybeApplied = new AtomicBoolean();
        return call(client, target, RequestKind.COMPARE_AND_SET, () -> {
            for (int conflicts = 0; ; conflicts++) {
                long version;
                lock.lock();
                try {
                    Deployment deployment = found(target);
                    LockFields current = fields(deployment);
                    if (!current.sameLockAs(expected)) {
                        // Our own lost write, found by the retry: as LockBackend#compareAndSet says, it counts.
                        return maybeApplied.get() && current.sameLockAs(desired);
                    }
                    version = deployment.resourceVersion;
                } finally {
                    lock.unlock();
                }
                if (writeIfVersion(client, target, version, desired)) {
                    if (faults.takeLostResponse()) {
                        // Applied, but the answer never arrived, as a real client's timeout.
                        maybeApplied.set(true);
                        throw new TransientFailure("timeout waiting for the response (injected lost response)");
                    }
                    return true;
                }
                if (conflicts + 1 >= MAX_CONFLICTS) {
                    throw new LockBackendUnavailableException(
                            target, "the write conflicted " + MAX_CONFLICTS + " times in a row; giving up", null);
                }
            }
        });
    }

    private boolean writeIfVersion(Client client, LockTarget target, long version, LockFields desired) {
        // Formatted before taking the lock: every other client's request waits while it is held.
        Map<String, @Nullable String> text = new LinkedHashMap<>(8);
        LockAnnotations.write(desired, text::put);
        LockFields stored = LockAnnotations.stored(desired);
        boolean applied = false;
        lock.lock();
        try {
            Deployment deployment = found(target);
            if (faults.takeConflict()) {
                // What a real conflict is: someone (the controller) wrote in between.
                deployment.resourceVersion = ++resourceVersion;
            } else if (deployment.resourceVersion == version) {
                LockFields before = fields(deployment);
                LockFields after = store(deployment, stored, text);
                recordWrite(target, client.name, before, after);
                reconcile(deployment);
                applied = true;
            }
        } finally {
            lock.unlock();
        }
        deliverWrites();
        notifyWatches(target);
        return applied;
    }

    /** Writes the lock fields in the text {@link LockAnnotations} gave, as every backend stores them. Lock held. */
    private LockFields store(Deployment deployment, LockFields stored, Map<String, @Nullable String> text) {
        Map<String, String> annotations = deployment.annotations;
        deployment.replicas = stored.replicas();
        for (Map.Entry<String, @Nullable String> annotation : text.entrySet()) {
            String value = annotation.getValue();
            if (value == null) {
                annotations.remove(annotation.getKey());
            } else {
                annotations.put(annotation.getKey(), value);
            }
        }
        deployment.resourceVersion = ++resourceVersion;
        deployment.fieldsCache = stored;
        return stored;
    }

    public Subscription watch(Client client, LockTarget target, Runnable onChange) {
        Objects.requireNonNull(onChange, "onChange");
        try {
            return call(client, target, RequestKind.WATCH, () -> {
                Watch watch = new Watch(client, target, onChange);
                watches.computeIfAbsent(target, t -> new CopyOnWriteArrayList<>())
                        .add(watch);
                client.watches.add(watch);
                return watch;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockBackendUnavailableException(target, "interrupted while opening a watch", e);
        }
    }

    public void deletePods(Client client, LockTarget target, Collection<String> podNames) throws InterruptedException {
        List<String> names = List.copyOf(podNames);
        call(client, target, RequestKind.DELETE_PODS, () -> {
            lock.lock();
            try {
                Deployment deployment = found(target);
                for (String name : names) {
                    Pod pod = deployment.pods.get(name);
                    // A pod already gone is what the caller wanted: no error, as the real backend
                    // ignores 404 on delete.
                    if (pod != null && !pod.terminating) {
                        terminate(deployment, pod);
                    }
                }
                reconcile(deployment);
                podsChanged(deployment);
            } finally {
                lock.unlock();
            }
            notifyWatches(target);
            return Boolean.TRUE;
        });
    }

    public void recordEvent(Client client, LockTarget target, String reason, String message) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        try {
            call(client, target, RequestKind.EVENT, () -> {
                lock.lock();
                try {
                    ArrayDeque<ClusterEvent> list = events.computeIfAbsent(target, t -> new ArrayDeque<>());
                    list.add(new ClusterEvent(clock.now(), target, client.name, reason, message));
                    if (list.size() > MAX_EVENTS) {
                        list.removeFirst();
                    }
                } finally {
                    lock.unlock();
                }
                return Boolean.TRUE;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Best effort, as the SPI promises: a failed event never fails the lock.
            LOG.log(Level.DEBUG, () -> "event " + reason + " on " + target + " dropped: " + e.getMessage());
        }
    }

    @FunctionalInterface
    private interface Attempt<T> {
        T run() throws InterruptedException;
    }

    /** Thrown inside the request path for an injected transient error; never leaves this class. */
    private static final class TransientFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TransientFailure(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * One request: counted once, then tried up to {@link #MAX_ATTEMPTS} times while it fails
     * transiently, with a doubling backoff on the cluster clock, as the real backend's retry does.
     */
    private <T> T call(Client client, LockTarget target, RequestKind kind, Attempt<T> attempt)
            throws InterruptedException {
        Objects.requireNonNull(target, "target");
        counter(kind).increment();
        Duration backoff = FIRST_BACKOFF;
        for (int attempts = 1; ; attempts++) {
            try {
                enter(client, target, kind);
                return attempt.run();
            } catch (TransientFailure e) {
                if (attempts >= MAX_ATTEMPTS) {
                    throw new LockBackendUnavailableException(
                            target,
                            describe(kind) + " failed " + attempts + " times in a row; last: " + e.getMessage(),
                            e);
                }
                sleep(backoff);
                backoff = backoff.multipliedBy(2);
            }
        }
    }

    private void enter(Client client, LockTarget target, RequestKind kind) throws InterruptedException {
        touch.run();
        if (client.closed) {
            throw new IllegalStateException("the fake backend '" + client.name + "' is closed");
        }
        if (closed) {
            throw new LockBackendUnavailableException(
                    target, "cannot reach the API server: the cluster is closed", null);
        }
        if (!client.connected) {
            throw new LockBackendUnavailableException(
                    target, "cannot reach the API server: client '" + client.name + "' is disconnected", null);
        }
        Duration latency = faults.latency();
        if (!latency.isZero()) {
            sleep(latency);
        }
        Permission denied = faults.firstForbidden(PERMISSIONS.getOrDefault(kind, List.of()));
        if (denied != null) {
            throw new LockAccessDeniedException(target, denied.verb(), denied.resource(), null);
        }
        if (faults.takeFailure()) {
            throw new TransientFailure("HTTP 503 Service Unavailable (injected transient error)");
        }
    }

    private static String describe(RequestKind kind) {
        return switch (kind) {
            case READ -> "read";
            case COMPARE_AND_SET -> "compare-and-set";
            case WATCH -> "watch";
            case DELETE_PODS -> "delete pods";
            case EVENT -> "record event";
        };
    }

    /** Waits on the cluster clock: virtual in virtual time. */
    private void sleep(Duration duration) throws InterruptedException {
        clock.newWakeup().awaitUntil(clock.nanoTime() + duration.toNanos());
    }

    // ================================================================ watches

    private void notifyWatches(@Nullable LockTarget target) {
        if (target == null) {
            return;
        }
        List<Watch> list = watches.get(target);
        if (list == null) {
            return;
        }
        for (Watch watch : list) {
            if (watch.isConnected()) {
                watch.fire();
            }
        }
    }

    /** Drops every open watch; they come back after {@code downFor} on the cluster clock. */
    public void dropWatches(Duration downFor) {
        long epoch;
        lock.lock();
        try {
            checkOpen();
            epoch = ++dropEpoch;
            for (List<Watch> list : watches.values()) {
                for (Watch watch : list) {
                    watch.droppedIn = epoch;
                }
            }
            schedule(downFor, () -> restoreWatches(epoch));
        } finally {
            lock.unlock();
        }
    }

    /** Re-establishes every dropped watch now. */
    public void restoreWatches() {
        restoreWatches(0);
    }

    /** Re-establishes the watches dropped in {@code epoch} (0: all), each calling its listener once. */
    private void restoreWatches(long epoch) {
        List<Watch> restored = new ArrayList<>();
        lock.lock();
        try {
            for (List<Watch> list : watches.values()) {
                for (Watch watch : list) {
                    if (watch.droppedIn != 0 && (epoch == 0 || watch.droppedIn == epoch)) {
                        watch.droppedIn = 0;
                        restored.add(watch);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        for (Watch watch : restored) {
            if (watch.isConnected()) {
                watch.fire();
            }
        }
    }

    /** A client's connection to the cluster. */
    public static final class Client {
        private final String name;
        private final List<Watch> watches = new CopyOnWriteArrayList<>();
        private volatile boolean connected = true;
        private volatile boolean closed;

        private Client(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public boolean isConnected() {
            return connected;
        }

        public void disconnect() {
            connected = false;
        }

        /** Reconnects; each open watch re-establishes and calls its listener once. */
        public void reconnect() {
            if (connected) {
                return;
            }
            connected = true;
            for (Watch watch : watches) {
                if (watch.isConnected()) {
                    watch.fire();
                }
            }
        }

        public void close() {
            closed = true;
            for (Watch watch : watches) {
                watch.close();
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final class Watch implements Subscription {
        private final Client client;
        private final LockTarget target;
        private final Runnable onChange;
        private volatile boolean closed;
        /** The drop that took this watch down, 0 while it is up. */
        private volatile long droppedIn;

        Watch(Client client, LockTarget target, Runnable onChange) {
            this.client = client;
            this.target = target;
            this.onChange = onChange;
        }

        @Override
        public boolean isConnected() {
            return !closed && droppedIn == 0 && client.connected && !ClusterStore.this.closed;
        }

        void fire() {
            try {
                onChange.run();
            } catch (RuntimeException e) {
                // A listener's bug must not fail the write that triggered it.
                LOG.log(Level.WARNING, "watch listener on " + target + " of client " + client.name + " failed", e);
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            List<Watch> list = watches.get(target);
            if (list != null) {
                list.remove(this);
            }
            client.watches.remove(this);
        }

        @Override
        public String toString() {
            return "watch of " + target + " by " + client.name + (isConnected() ? "" : " (disconnected)");
        }
    }

    // ================================================================ reading state

    /** The lock fields, parsed from the annotations at most once per change. Lock held. */
    private LockFields fields(Deployment deployment) {
        LockFields cached = deployment.fieldsCache;
        if (cached != null) {
            return cached;
        }
        LockFields parsed = LockAnnotations.parse(deployment.target, deployment.replicas, deployment.annotations);
        deployment.fieldsCache = parsed;
        return parsed;
    }

    private @Nullable LockFields parsedOrNull(Deployment deployment) {
        try {
            return fields(deployment);
        } catch (LockTargetInvalidException e) {
            return null;
        }
    }

    private List<PodSnapshot> podSnapshots(Deployment deployment) {
        List<PodSnapshot> cached = deployment.podCache;
        if (cached != null) {
            return cached;
        }
        List<PodSnapshot> pods;
        if (deployment.selector == null) {
            // No selector, no way to tell which pods are the Deployment's.
            pods = List.of();
        } else {
            List<PodSnapshot> list = new ArrayList<>(deployment.pods.size());
            for (Pod pod : deployment.pods.values()) {
                list.add(new PodSnapshot(pod.name, pod.ready, pod.terminating, pod.detail()));
            }
            pods = List.copyOf(list);
        }
        deployment.podCache = pods;
        return pods;
    }

    public DeploymentSnapshot snapshot(LockTarget target) {
        touch.run();
        lock.lock();
        try {
            Deployment deployment = existing(target);
            List<DeploymentSnapshot.Pod> pods = new ArrayList<>();
            for (Pod pod : deployment.pods.values()) {
                pods.add(
                        new DeploymentSnapshot.Pod(pod.name, pod.phase, pod.ready, pod.terminating, pod.waitingReason));
            }
            return new DeploymentSnapshot(
                    target,
                    deployment.replicas,
                    deployment.readyReplicas,
                    deployment.annotations,
                    deployment.selector,
                    Long.toString(deployment.resourceVersion),
                    pods);
        } finally {
            lock.unlock();
        }
    }

    public String ready(LockTarget target) {
        touch.run();
        lock.lock();
        try {
            Deployment deployment = existing(target);
            return deployment.readyReplicas + "/" + deployment.replicas;
        } finally {
            lock.unlock();
        }
    }

    public List<ClusterEvent> events(LockTarget target) {
        touch.run();
        lock.lock();
        try {
            ArrayDeque<ClusterEvent> list = events.get(target);
            return list == null ? List.of() : List.copyOf(list);
        } finally {
            lock.unlock();
        }
    }

    private void recordWrite(LockTarget target, String client, LockFields before, LockFields after) {
        LockWrite write = new LockWrite(clock.now(), target, client, before, after);
        if (writeListener != null) {
            undelivered.add(write);
        }
        if (historyLimit == 0) {
            droppedHistory++;
            return;
        }
        history.add(write);
        if (history.size() > historyLimit) {
            history.removeFirst();
            droppedHistory++;
        }
    }

    /**
     * Gives the listener the writes recorded so far, in the order they were applied. Called after
     * the cluster's lock is released, so that the listener may call the cluster; a listener's
     * exception is logged, never thrown at the writer.
     */
    private void deliverWrites() {
        Consumer<? super LockWrite> listener = writeListener;
        if (listener == null) {
            return;
        }
        delivery.lock();
        try {
            while (true) {
                LockWrite next;
                lock.lock();
                try {
                    next = undelivered.poll();
                } finally {
                    lock.unlock();
                }
                if (next == null) {
                    return;
                }
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "lock write listener failed on " + next, e);
                }
            }
        } finally {
            delivery.unlock();
        }
    }

    public List<LockWrite> lockWrites() {
        touch.run();
        lock.lock();
        try {
            return List.copyOf(history);
        } finally {
            lock.unlock();
        }
    }

    public long droppedLockWrites() {
        lock.lock();
        try {
            return droppedHistory;
        } finally {
            lock.unlock();
        }
    }

    public long requests(RequestKind kind) {
        return counter(Objects.requireNonNull(kind, "kind")).sum();
    }

    // ================================================================ plumbing

    private LongAdder counter(RequestKind kind) {
        return Objects.requireNonNull(requests.get(kind), "every kind has a counter");
    }

    private Deployment existing(LockTarget target) {
        Deployment deployment = deployments.get(target);
        if (deployment == null) {
            throw new IllegalStateException("deployment " + target + " does not exist");
        }
        return deployment;
    }

    /** For backend requests: a missing Deployment is the SPI's not-found exception. */
    private Deployment found(LockTarget target) {
        Deployment deployment = deployments.get(target);
        if (deployment == null) {
            throw new LockTargetNotFoundException(target, null);
        }
        return deployment;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the fake cluster is closed");
        }
    }

    private static String podKey(LockTarget target, String pod) {
        return target.namespace() + '/' + pod;
    }

    /** Stops the controller: pending pod transitions and watch re-connections never happen. */
    public void close() {
        List<LockClock.Cancellable> pending;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            pending = List.copyOf(scheduled);
            scheduled.clear();
        } finally {
            lock.unlock();
        }
        for (LockClock.Cancellable task : pending) {
            task.cancel();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    private static final class Deployment {
        final LockTarget target;
        final Map<String, String> annotations = new LinkedHashMap<>();
        final Map<String, Pod> pods = new LinkedHashMap<>();
        int replicas;
        int readyReplicas;

        @Nullable
        String selector;

        long resourceVersion;
        /** The parsed lock fields; null when the annotations or replicas changed since. */
        @Nullable
        LockFields fieldsCache;
        /** The pods as the SPI shows them; null when a pod changed since. */
        @Nullable
        List<PodSnapshot> podCache;

        Deployment(LockTarget target) {
            this.target = target;
            this.selector = "app=" + target.name();
        }
    }

    private static final class Pod {
        final String name;
        String phase = PENDING;
        boolean ready;
        boolean terminating;

        @Nullable
        String waitingReason;

        Pod(String name) {
            this.name = name;
        }

        void makeReady() {
            phase = RUNNING;
            ready = true;
            waitingReason = null;
        }

        /** As {@code kubectl describe pod} would summarise it, for error messages. */
        String detail() {
            StringBuilder detail = new StringBuilder(phase).append("; Ready=").append(ready ? "True" : "False");
            if (waitingReason != null) {
                detail.append("; container ")
                        .append(CONTAINER)
                        .append(" waiting: ")
                        .append(waitingReason);
            }
            if (terminating) {
                detail.append("; Terminating");
            }
            return detail.toString();
        }
    }
}
