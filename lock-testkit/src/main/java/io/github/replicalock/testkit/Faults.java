package io.github.replicalock.testkit;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.testkit.internal.ClusterStore;
import io.github.replicalock.testkit.internal.RequestRetry;
import java.time.Duration;
import java.util.Objects;

/**
 * The faults a test can script on a {@link FakeCluster}, each of which can be cleared. They apply
 * to the requests of every {@link FakeBackend} of the cluster, never to the test's own
 * {@code createDeployment}, {@code scale} or inspection calls.
 *
 * <pre>{@code
 * cluster.faults()
 *         .conflictOnNextWrites(2)                              // absorbed by the backend's retry
 *         .failNextRequests(1)                                  // a 503, retried
 *         .latency(Duration.ofMillis(50))                       // on the cluster clock
 *         .podsNeverReady("ci", "builder", "ImagePullBackOff")
 *         .forbid("patch", "deployments");                      // LockAccessDeniedException
 * ...
 * cluster.faults().clearAll();
 * }</pre>
 *
 * <p>Thread-safe: a test may change faults while the code under test runs.
 */
public final class Faults {
    /** How long dropped watches stay down by default before they re-establish. */
    public static final Duration DEFAULT_WATCH_DOWNTIME = Duration.ofMillis(100);

    private final ClusterStore store;

    Faults(ClusterStore store) {
        this.store = store;
    }

    /**
     * The next {@code count} conditional writes find the Deployment changed by someone else (as when
     * the controller writes status between the backend's read and its write). The backend re-reads
     * and retries while the lock fields still match, so they never surface as a lost race; ten in a
     * row make the write fail with {@link LockBackendUnavailableException}.
     */
    public Faults conflictOnNextWrites(int count) {
        store.faults().addConflicts(nonNegative("count", count));
        return this;
    }

    /** Conflicts injected but not yet consumed. */
    public int remainingConflicts() {
        return store.faults().remainingConflicts();
    }

    public Faults clearConflicts() {
        store.faults().clearConflicts();
        return this;
    }

    /**
     * The next {@code count} request attempts fail transiently (HTTP 503). The backend retries each
     * request up to {@value RequestRetry#MAX_ATTEMPTS} attempts with a backoff on the cluster clock,
     * then throws {@link LockBackendUnavailableException}.
     */
    public Faults failNextRequests(int count) {
        store.faults().addFailures(nonNegative("count", count));
        return this;
    }

    /** Transient errors injected but not yet consumed. */
    public int remainingFailures() {
        return store.faults().remainingFailures();
    }

    public Faults clearFailures() {
        store.faults().clearFailures();
        return this;
    }

    /**
     * The next {@code count} successful conditional writes are applied, but their response is lost
     * (a timeout). The backend retries as for any transient error: the retry re-reads, finds the
     * lock fields no longer equal to {@code expected} but equal to {@code desired}, and answers
     * true, as {@link io.github.replicalock.spi.LockBackend#compareAndSet} requires of a write whose
     * answer was lost.
     */
    public Faults loseNextResponses(int count) {
        store.faults().addLostResponses(nonNegative("count", count));
        return this;
    }

    /** Lost responses injected but not yet consumed. */
    public int remainingLostResponses() {
        return store.faults().remainingLostResponses();
    }

    public Faults clearLostResponses() {
        store.faults().clearLostResponses();
        return this;
    }

    /**
     * Every request attempt waits this long on the cluster clock before it reaches the cluster:
     * virtual time in virtual time. Zero clears it.
     */
    public Faults latency(Duration perRequest) {
        Objects.requireNonNull(perRequest, "perRequest must not be null");
        if (perRequest.isNegative()) {
            throw new IllegalArgumentException("latency must not be negative, got " + perRequest);
        }
        store.faults().latency(perRequest);
        return this;
    }

    public Faults clearLatency() {
        return latency(Duration.ZERO);
    }

    /**
     * Pods of this Deployment stay Pending, not Ready, with their container waiting for {@code
     * waitingReason} (such as {@code ImagePullBackOff} or {@code CreateContainerConfigError}): the
     * ones not ready yet and every new one. Pods already Ready stay Ready. The Deployment need not
     * exist yet.
     */
    public Faults podsNeverReady(String namespace, String name, String waitingReason) {
        return podsNeverReady(LockTarget.of(namespace, name), waitingReason);
    }

    /** {@link #podsNeverReady(String, String, String)} for a target. */
    public Faults podsNeverReady(LockTarget target, String waitingReason) {
        Objects.requireNonNull(target, "target must not be null");
        Objects.requireNonNull(waitingReason, "waitingReason must not be null");
        store.podsNeverReady(target, waitingReason);
        return this;
    }

    /** Ends {@link #podsNeverReady}: waiting pods become Ready after the pod ready delay. */
    public Faults clearPodsNeverReady(String namespace, String name) {
        return clearPodsNeverReady(LockTarget.of(namespace, name));
    }

    /** {@link #clearPodsNeverReady(String, String)} for a target. */
    public Faults clearPodsNeverReady(LockTarget target) {
        store.clearPodsNeverReady(Objects.requireNonNull(target, "target must not be null"));
        return this;
    }

    /**
     * Pods of this Deployment that start terminating stay terminating (a finalizer that never
     * finishes, a node that is gone), so the lock stays {@code RELEASING}.
     */
    public Faults podsStuckTerminating(String namespace, String name) {
        return podsStuckTerminating(LockTarget.of(namespace, name));
    }

    /** {@link #podsStuckTerminating(String, String)} for a target. */
    public Faults podsStuckTerminating(LockTarget target) {
        store.podsStuckTerminating(Objects.requireNonNull(target, "target must not be null"));
        return this;
    }

    /** Ends {@link #podsStuckTerminating}: terminating pods go after the termination delay. */
    public Faults clearPodsStuckTerminating(String namespace, String name) {
        return clearPodsStuckTerminating(LockTarget.of(namespace, name));
    }

    /** {@link #clearPodsStuckTerminating(String, String)} for a target. */
    public Faults clearPodsStuckTerminating(LockTarget target) {
        store.clearPodsStuckTerminating(Objects.requireNonNull(target, "target must not be null"));
        return this;
    }

    /**
     * Requests that need this RBAC verb on this resource throw {@link LockAccessDeniedException}
     * naming both, as a Role lacking it would. What each request needs: read {@code get
     * deployments}, {@code list pods}; compareAndSet {@code get deployments}, {@code patch
     * deployments}; watch {@code watch deployments}, {@code watch pods}; deletePods {@code delete
     * pods}; recordEvent {@code create events} (dropped silently).
     */
    public Faults forbid(String verb, String resource) {
        store.faults().forbid(Objects.requireNonNull(verb, "verb"), Objects.requireNonNull(resource, "resource"));
        return this;
    }

    /** Grants a verb {@link #forbid} took away. */
    public Faults allow(String verb, String resource) {
        store.faults().allow(Objects.requireNonNull(verb, "verb"), Objects.requireNonNull(resource, "resource"));
        return this;
    }

    /** Drops every open watch for {@link #DEFAULT_WATCH_DOWNTIME}; see {@link #dropWatches(Duration)}. */
    public Faults dropWatches() {
        return dropWatches(DEFAULT_WATCH_DOWNTIME);
    }

    /**
     * Drops every open watch, as an API server restart does: they report {@code isConnected() ==
     * false} and deliver nothing until, {@code downFor} later on the cluster clock, they
     * re-establish and call their listener once. Watches opened meanwhile are unaffected.
     */
    public Faults dropWatches(Duration downFor) {
        Objects.requireNonNull(downFor, "downFor must not be null");
        if (downFor.isNegative()) {
            throw new IllegalArgumentException("downFor must not be negative, got " + downFor);
        }
        store.dropWatches(downFor);
        return this;
    }

    /** Re-establishes dropped watches now, each calling its listener once. */
    public Faults restoreWatches() {
        store.restoreWatches();
        return this;
    }

    /** Clears every fault above and re-establishes dropped watches. */
    public Faults clearAll() {
        store.clearAllFaults();
        return this;
    }

    private static int nonNegative(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, got " + value);
        }
        return value;
    }
}
