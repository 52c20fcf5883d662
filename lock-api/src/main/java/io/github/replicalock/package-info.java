/**
 * The public API of replica-lock: take a build lock on a Deployment with {@link
 * io.github.replicalock.ReplicaLocks}, hold it as a {@link io.github.replicalock.ReplicaLock}.
 *
 * <pre>{@code
 * try (ReplicaLocks locks = ReplicaLocks.builder().backend(backend).build();
 *      ReplicaLock lock = locks.acquire(LockTarget.of("apps--droneio--prd", "buildah-external"),
 *                                       Duration.ofMinutes(10))) {
 *     build(lock.pods().get(0), lock.fencingToken());
 * }
 * }</pre>
 */
@NullMarked
package io.github.replicalock;

import org.jspecify.annotations.NullMarked;
