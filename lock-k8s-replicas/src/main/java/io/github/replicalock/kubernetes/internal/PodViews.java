package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.github.replicalock.spi.PodSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Turns pods into {@link PodSnapshot}s whose detail says why a pod is not ready. */
public final class PodViews {
    private static final int MAX_MESSAGE = 160;

    private PodViews() {}

    /**
     * Snapshots of {@code pods}, sorted by name; pods named in {@code deletedHere} count as
     * terminating even if the cache has not seen their deletion yet.
     */
    public static List<PodSnapshot> snapshots(List<Pod> pods, Set<String> deletedHere) {
        List<PodSnapshot> result = new ArrayList<>(pods.size());
        for (Pod pod : pods) {
            result.add(snapshot(pod, deletedHere.contains(pod.getMetadata().getName())));
        }
        result.sort(Comparator.comparing(PodSnapshot::name));
        return result;
    }

    /** One pod; {@code deletedHere} forces it terminating. */
    public static PodSnapshot snapshot(Pod pod, boolean deletedHere) {
        String name = pod.getMetadata().getName();
        boolean terminating = deletedHere || pod.getMetadata().getDeletionTimestamp() != null;
        PodStatus status = pod.getStatus();
        boolean ready = false;
        List<String> parts = new ArrayList<>();
        parts.add(status == null || status.getPhase() == null ? "Unknown phase" : status.getPhase());
        if (terminating) {
            String since = pod.getMetadata().getDeletionTimestamp();
            parts.add(since == null ? "terminating" : "terminating since " + since);
        }
        if (status != null) {
            for (PodCondition c : nonNull(status.getConditions())) {
                if ("Ready".equals(c.getType()) && "True".equals(c.getStatus())) {
                    ready = true;
                }
                if (!"True".equals(c.getStatus())) {
                    parts.add(c.getType() + "=" + c.getStatus() + reasonAndMessage(c.getReason(), c.getMessage()));
                }
            }
            describeContainers("init container", status.getInitContainerStatuses(), parts);
            describeContainers("container", status.getContainerStatuses(), parts);
            if (status.getReason() != null || status.getMessage() != null) {
                parts.add("pod" + reasonAndMessage(status.getReason(), status.getMessage()));
            }
        }
        if (ready && !terminating && parts.size() == 1) {
            parts.add("Ready");
        }
        return new PodSnapshot(name, ready, terminating, String.join("; ", parts));
    }

    private static void describeContainers(String kind, @Nullable List<ContainerStatus> statuses, List<String> parts) {
        for (ContainerStatus cs : nonNull(statuses)) {
            if (cs.getState() == null) {
                continue;
            }
            ContainerStateWaiting waiting = cs.getState().getWaiting();
            ContainerStateTerminated terminated = cs.getState().getTerminated();
            if (waiting != null) {
                parts.add(kind + " " + cs.getName() + " waiting: "
                        + (waiting.getReason() == null ? "unknown reason" : waiting.getReason())
                        + message(waiting.getMessage()));
            } else if (terminated != null && !"Completed".equals(terminated.getReason())) {
                parts.add(kind + " " + cs.getName() + " terminated: "
                        + (terminated.getReason() == null
                                ? "exit code " + terminated.getExitCode()
                                : terminated.getReason() + " (exit code " + terminated.getExitCode() + ")")
                        + message(terminated.getMessage()));
            } else if (Boolean.FALSE.equals(cs.getReady()) && cs.getState().getRunning() != null) {
                parts.add(kind + " " + cs.getName() + " running, not ready");
            }
        }
    }

    private static String reasonAndMessage(@Nullable String reason, @Nullable String message) {
        if (reason == null && message == null) {
            return "";
        }
        return " (" + (reason == null ? "" : reason) + (reason != null && message != null ? ": " : "")
                + (message == null ? "" : truncate(message)) + ")";
    }

    private static String message(@Nullable String message) {
        return message == null || message.isBlank() ? "" : " (" + truncate(message) + ")";
    }

    private static String truncate(String s) {
        String oneLine = s.replace('\n', ' ').strip();
        return oneLine.length() <= MAX_MESSAGE ? oneLine : oneLine.substring(0, MAX_MESSAGE - 3) + "...";
    }

    private static <T> List<T> nonNull(@Nullable List<T> list) {
        return list == null ? List.of() : list;
    }
}
