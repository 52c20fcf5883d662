package io.github.replicalock.testkit.internal;

import org.jspecify.annotations.Nullable;

/** One pod of a {@link StoredDeployment}; guarded by the store's lock. */
final class StoredPod {
    static final String PENDING = "Pending";
    static final String RUNNING = "Running";
    static final String CONTAINER_CREATING = "ContainerCreating";
    private static final String CONTAINER = "builder";

    final String name;
    String phase = PENDING;
    boolean ready;
    boolean terminating;

    @Nullable
    String waitingReason;

    StoredPod(String name) {
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
            detail.append("; container ").append(CONTAINER).append(" waiting: ").append(waitingReason);
        }
        if (terminating) {
            detail.append("; Terminating");
        }
        return detail.toString();
    }
}
