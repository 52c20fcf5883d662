package io.github.replicalock;

/**
 * The lock's state as {@code kubectl get deployment} shows it in its READY column.
 *
 * <pre>{@code
 * if (locks.status(target).state() == LockState.IDLE) { ... }
 * }</pre>
 */
public enum LockState {
    /** READY 0/0: replicas 0 and no pod left. The only state a lock is acquired from. */
    IDLE,
    /** READY 0/1: replicas 1, the builder pod is not ready yet. */
    STARTING,
    /** READY 1/1: replicas 1, a builder pod is ready. */
    ACTIVE,
    /** READY 1/0 or pods still terminating: replicas 0, the last build's pods are going away. */
    RELEASING,
    /** Not a lock this library understands (deployment missing, replicas above 1, no selector...). */
    UNKNOWN
}
