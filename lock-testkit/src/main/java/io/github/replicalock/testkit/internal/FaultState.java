package io.github.replicalock.testkit.internal;

import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The request-level faults: counters and settings read on every request without the cluster lock,
 * so that the fault-free fast path costs a few volatile reads, and the RBAC verbs each kind of
 * request needs. Per-deployment faults (never ready, stuck terminating) change pods and live in
 * {@link DeploymentController}; dropped watches in {@link WatchRegistry}.
 */
public final class FaultState {
    /** The RBAC verbs each request needs, as the Kubernetes backend's requests do. */
    private static final Map<RequestKind, List<Permission>> PERMISSIONS = permissions();

    private final AtomicInteger conflicts = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger lostResponses = new AtomicInteger();
    private final Set<String> forbidden = ConcurrentHashMap.newKeySet();
    private volatile Duration latency = Duration.ZERO;

    public void addConflicts(int count) {
        conflicts.addAndGet(count);
    }

    /** True if this write must fail with a conflict, consuming one. */
    public boolean takeConflict() {
        return conflicts.get() > 0 && conflicts.getAndUpdate(FaultState::takeOne) > 0;
    }

    public int remainingConflicts() {
        return conflicts.get();
    }

    public void clearConflicts() {
        conflicts.set(0);
    }

    public void addFailures(int count) {
        failures.addAndGet(count);
    }

    public boolean takeFailure() {
        return failures.get() > 0 && failures.getAndUpdate(FaultState::takeOne) > 0;
    }

    public int remainingFailures() {
        return failures.get();
    }

    public void clearFailures() {
        failures.set(0);
    }

    public void addLostResponses(int count) {
        lostResponses.addAndGet(count);
    }

    public boolean takeLostResponse() {
        return lostResponses.get() > 0 && lostResponses.getAndUpdate(FaultState::takeOne) > 0;
    }

    public int remainingLostResponses() {
        return lostResponses.get();
    }

    public void clearLostResponses() {
        lostResponses.set(0);
    }

    public Duration latency() {
        return latency;
    }

    public void latency(Duration latency) {
        this.latency = latency;
    }

    public void forbid(String verb, String resource) {
        forbidden.add(key(verb, resource));
    }

    public void allow(String verb, String resource) {
        forbidden.remove(key(verb, resource));
    }

    public void allowAll() {
        forbidden.clear();
    }

    private static Map<RequestKind, List<Permission>> permissions() {
        Map<RequestKind, List<Permission>> map = new EnumMap<>(RequestKind.class);
        map.put(RequestKind.READ, List.of(new Permission("get", "deployments"), new Permission("list", "pods")));
        map.put(RequestKind.FRESH_READ, List.of(new Permission("get", "deployments"), new Permission("list", "pods")));
        map.put(
                RequestKind.COMPARE_AND_SET,
                List.of(new Permission("get", "deployments"), new Permission("patch", "deployments")));
        map.put(RequestKind.QUEUE_WRITE, List.of(new Permission("patch", "deployments")));
        map.put(RequestKind.WATCH, List.of(new Permission("watch", "deployments"), new Permission("watch", "pods")));
        map.put(RequestKind.DELETE_PODS, List.of(new Permission("delete", "pods")));
        map.put(RequestKind.EVENT, List.of(new Permission("create", "events")));
        return map;
    }

    /** The first permission a request of this kind needs that is forbidden, or null. */
    @Nullable
    Permission firstForbidden(RequestKind kind) {
        if (forbidden.isEmpty()) {
            return null;
        }
        for (Permission permission : PERMISSIONS.getOrDefault(kind, List.of())) {
            if (forbidden.contains(key(permission.verb(), permission.resource()))) {
                return permission;
            }
        }
        return null;
    }

    /** An RBAC verb on a resource, such as {@code patch deployments}. */
    record Permission(String verb, String resource) {}

    private static int takeOne(int remaining) {
        return remaining > 0 ? remaining - 1 : 0;
    }

    private static String key(String verb, String resource) {
        return verb + ' ' + resource;
    }
}
