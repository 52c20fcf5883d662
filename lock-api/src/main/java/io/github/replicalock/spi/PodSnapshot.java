package io.github.replicalock.spi;

import java.util.Objects;

/**
 * One pod matching the Deployment's selector, as last seen.
 *
 * <pre>{@code
 * new PodSnapshot("buildah-external-7f9c2", false, false, "Pending; Ready=False; container builder waiting: ImagePullBackOff")
 * }</pre>
 *
 * @param name the pod's name
 * @param ready the Ready condition is True
 * @param terminating a deletion timestamp is set; terminating pods never count as Ready
 * @param detail phase, conditions and container waiting reasons, for error messages
 */
public record PodSnapshot(String name, boolean ready, boolean terminating, String detail) {
    public PodSnapshot {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(detail, "detail");
    }

    /** Ready and not terminating: a pod a build can use. */
    public boolean usable() {
        return ready && !terminating;
    }
}
