package io.github.replicalock;

import java.util.List;
import java.util.function.Consumer;

/**
 * A held lock: replicas 1, this holder's name and fencing token on the Deployment, a Ready builder
 * pod. Renewed in the background until closed. Close it however the build ends.
 *
 * <pre>{@code
 * try (ReplicaLock lock = locks.acquire(target, Duration.ofMinutes(10))) {
 *     lock.onLost(e -> build.cancel());
 *     runBuild(lock.pods().get(0), lock.fencingToken());
 * } // released here: replicas 0, then waits for the builder pod to be gone
 * }</pre>
 *
 * <p>Thread-safe.
 */
public interface ReplicaLock extends AutoCloseable {

    LockTarget target();

    /** The identity written to the holder annotation. */
    String holder();

    /**
     * The fencing token: larger than that of every earlier holder of this lock. Pass it to systems
     * the build writes to so they can reject writes from a stale holder.
     */
    long fencingToken();

    /**
     * False once the lock is released or lost (someone scaled the Deployment to 0, took it over, or
     * renewal failed for a whole lease).
     */
    boolean isHeld();

    /** The names of the builder pods that were Ready when the lock was acquired. */
    List<String> pods();

    /**
     * Runs {@code listener} once if the lock is lost while held, on the renewal thread; at once on
     * the caller's thread if it was lost already. Not run on a normal release.
     */
    void onLost(Consumer<LockLostException> listener);

    /**
     * Releases the lock: replicas 1 to 0 and the holder cleared, only if this holder still has it,
     * then waits up to the release timeout for the builder pods to be gone. Thread-safe, and writes
     * once: a second call does nothing. If {@link ReplicaLocks#close()} is releasing the lock or has
     * released it, this waits for that release and throws its {@link LockLostException} if the lock
     * turned out lost: a first call that returns normally always means the lock was given back.
     *
     * @throws LockLostException if the lock was lost while held; nothing is written then
     * @throws ReleaseTimeoutException if the pods outlived the release timeout (the lock is released)
     */
    @Override
    void close();
}
