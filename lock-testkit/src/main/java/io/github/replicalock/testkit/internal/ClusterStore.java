package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.QueueWrite;
import io.github.replicalock.testkit.RequestKind;
import io.github.replicalock.testkit.internal.FaultState.Permission;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The fake API server: the Deployments and their lock annotations, and the server's side of every
 * client request (admission through the client's connection, RBAC and injected faults; reads;
 * writes conditional on the resource version). The other roles are cut out of it by role: the
 * test's {@link Kubectl}, the {@link DeploymentController}, the {@link WatchRegistry}, the request
 * {@link FaultState}, the {@link ClusterHistory}; the client's side (retries, conflicts, lost
 * responses) is {@code FakeBackend}'s with {@link RequestRetry}.
 *
 * <p>One lock guards all state, as one API server serialises writes: a write conditional on the
 * resource version is atomic because it runs under it. Watch listeners and the lock-write listener
 * are always called after it is released, so that they may call back into the cluster.
 */
public final class ClusterStore {
    /** Events kept per Deployment; older ones are dropped, as the API server expires them. */
    public static final int MAX_EVENTS = 1000;

    private final ReentrantLock lock = new ReentrantLock();
    private final LockClock clock;
    private final Runnable touch;
    private final FaultState faults = new FaultState();
    private final WatchRegistry watches;
    private final DeploymentController controller;
    private final ClusterHistory history;
    private final ConditionalWrites writes = new ConditionalWrites(this);

    private final Map<LockTarget, StoredDeployment> deployments = new HashMap<>();
    private final Set<LockClock.Cancellable> scheduled = new HashSet<>();
    private long resourceVersion;
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
        this.clock = Objects.requireNonNull(clock, "clock");
        this.touch = Objects.requireNonNull(touch, "touch");
        this.history = new ClusterHistory(historyLimit, writeListener);
        this.watches = new WatchRegistry(() -> !closed, this::schedule);
        this.controller = new DeploymentController(this, lock, watches, podReadyDelay, podTerminationDelay);
    }

    public LockClock clock() {
        return clock;
    }

    public FaultState faults() {
        return faults;
    }

    ClusterHistory history() {
        return history;
    }

    // ================================================================ faults

    public void podsNeverReady(LockTarget target, String waitingReason) {
        controller.podsNeverReady(target, waitingReason);
    }

    public void clearPodsNeverReady(LockTarget target) {
        controller.clearPodsNeverReady(target);
    }

    public void podsStuckTerminating(LockTarget target) {
        controller.podsStuckTerminating(target);
    }

    public void clearPodsStuckTerminating(LockTarget target) {
        controller.clearPodsStuckTerminating(target);
    }

    /** Drops every open watch; they come back after {@code downFor} on the cluster clock. */
    public void dropWatches(Duration downFor) {
        checkOpen();
        watches.drop(downFor);
    }

    /** Re-establishes every dropped watch now, each calling its listener once. */
    public void restoreWatches() {
        watches.restoreAll();
    }

    /** Clears every fault: counters, latency, forbidden verbs, pod faults, dropped watches. */
    public void clearAllFaults() {
        faults.clearConflicts();
        faults.clearFailures();
        faults.clearLostResponses();
        faults.latency(Duration.ZERO);
        faults.allowAll();
        controller.clearPodFaults();
        watches.restoreAll();
    }

    // ================================================================ the server's side of requests

    /** A new client of the cluster; see {@code FakeBackend}. */
    public ClusterClient newClient(@Nullable String name) {
        lock.lock();
        try {
            clients++;
            return new ClusterClient(name != null ? name : "client-" + clients);
        } finally {
            lock.unlock();
        }
    }

    /**
     * One attempt of a request reaches the server through the client's connection: refused if the
     * client or the cluster is closed or the client cut off; delayed by the injected latency;
     * refused by RBAC; failed by an injected transient error.
     *
     * @throws TransientFailure for an injected transient error, which the client retries
     */
    public void admit(ClusterClient client, LockTarget target, RequestKind kind) throws InterruptedException {
        touch.run();
        if (client.isClosed()) {
            throw new IllegalStateException("the fake backend '" + client.name() + "' is closed");
        }
        if (closed) {
            throw new LockBackendUnavailableException(
                    target, "cannot reach the API server: the cluster is closed", null);
        }
        if (!client.isConnected()) {
            throw new LockBackendUnavailableException(
                    target, "cannot reach the API server: client '" + client.name() + "' is disconnected", null);
        }
        Duration latency = faults.latency();
        if (!latency.isZero()) {
            RequestRetry.sleep(clock, latency);
        }
        Permission denied = faults.firstForbidden(kind);
        if (denied != null) {
            throw new LockAccessDeniedException(target, denied.verb(), denied.resource(), null);
        }
        if (faults.takeFailure()) {
            throw new TransientFailure("HTTP 503 Service Unavailable (injected transient error)");
        }
    }

    /** A copy of the Deployment's annotations, as stored now. */
    public Map<String, String> annotations(LockTarget target) {
        lock.lock();
        try {
            return Map.copyOf(found(target).annotations);
        } finally {
            lock.unlock();
        }
    }

    /** GET of the Deployment and LIST of its pods, as one answer. */
    public LockRecord read(LockTarget target) {
        lock.lock();
        try {
            StoredDeployment deployment = found(target);
            return new LockRecord(
                    deployment.lockFields(),
                    deployment.readyReplicas,
                    deployment.selector,
                    deployment.podSnapshots(),
                    deployment.queue());
        } finally {
            lock.unlock();
        }
    }

    /** The lock fields with the resource version they were read at. */
    public record Versioned(long resourceVersion, LockFields fields) {}

    /** GET of the Deployment's lock fields, for a write conditional on its resource version. */
    public Versioned lockFields(LockTarget target) {
        lock.lock();
        try {
            StoredDeployment deployment = found(target);
            return new Versioned(deployment.resourceVersion, deployment.lockFields());
        } finally {
            lock.unlock();
        }
    }

    /** The server's side of conditional writes; see {@link ConditionalWrites}. */
    public ConditionalWrites writes() {
        return writes;
    }

    public Subscription openWatch(ClusterClient client, LockTarget target, Runnable onChange) {
        return watches.open(client, target, Objects.requireNonNull(onChange, "onChange"));
    }

    /** Deletes the named pods (graceful: they terminate); a pod already gone is no error, as a 404. */
    public void deletePods(LockTarget target, Collection<String> podNames) {
        lock.lock();
        try {
            StoredDeployment deployment = found(target);
            for (String name : podNames) {
                StoredPod pod = deployment.pods.get(name);
                if (pod != null && !pod.terminating) {
                    controller.terminate(deployment, pod);
                }
            }
            controller.reconcile(deployment);
            controller.podsChanged(deployment);
        } finally {
            lock.unlock();
        }
        watches.changed(target);
    }

    public void recordEvent(String client, LockTarget target, LockEvent event) {
        history.recordEvent(new ClusterEvent(clock.now(), target, client, event.kind(), event.message()), MAX_EVENTS);
    }

    // ================================================================ inspection

    public List<ClusterEvent> events(LockTarget target) {
        touch.run();
        return history.events(target);
    }

    public List<LockWrite> lockWrites() {
        touch.run();
        return history.lockWrites();
    }

    public List<QueueWrite> queueWrites(LockTarget target) {
        touch.run();
        return history.queueWrites(target);
    }

    public long droppedLockWrites() {
        return history.droppedLockWrites();
    }

    public long requests(RequestKind kind) {
        return history.requests(kind);
    }

    // ================================================================ plumbing

    ReentrantLock lock() {
        return lock;
    }

    Runnable touch() {
        return touch;
    }

    DeploymentController controller() {
        return controller;
    }

    WatchRegistry watches() {
        return watches;
    }

    /** The Deployments by target. Lock held. */
    Map<LockTarget, StoredDeployment> deployments() {
        return deployments;
    }

    /** Lock held. */
    long nextResourceVersion() {
        return ++resourceVersion;
    }

    /** For the test's side: a missing Deployment is the test's mistake. Lock held. */
    StoredDeployment existing(LockTarget target) {
        StoredDeployment deployment = deployments.get(target);
        if (deployment == null) {
            throw new IllegalStateException("deployment " + target + " does not exist");
        }
        return deployment;
    }

    /** For backend requests: a missing Deployment is the SPI's not-found exception. Lock held. */
    StoredDeployment found(LockTarget target) {
        StoredDeployment deployment = deployments.get(target);
        if (deployment == null) {
            throw new LockTargetNotFoundException(target, null);
        }
        return deployment;
    }

    /** Lock held. */
    @Nullable
    StoredDeployment deploymentOrNull(LockTarget target) {
        return deployments.get(target);
    }

    /** Whether {@code deployment} is still the one stored, in an open cluster. Lock held. */
    boolean isCurrent(StoredDeployment deployment) {
        return !closed && deployments.get(deployment.target) == deployment;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the fake cluster is closed");
        }
    }

    /** Runs {@code task} on the cluster clock; never if the cluster closes first. */
    void schedule(Duration delay, Runnable task) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
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
        } finally {
            lock.unlock();
        }
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
}
