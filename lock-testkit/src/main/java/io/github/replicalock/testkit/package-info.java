/**
 * An in-memory fake of the part of Kubernetes a replica lock uses: Deployments with a simulated
 * deployment controller, pods that become Ready or terminate after configurable delays, scriptable
 * faults, and a {@link io.github.replicalock.testkit.VirtualClock} that lets a 120 s timeout pass in
 * milliseconds.
 *
 * <pre>{@code
 * try (FakeCluster cluster = FakeCluster.builder().virtualTime().podReadyDelay(Duration.ofSeconds(5)).build()) {
 *     LockTarget target = cluster.createDeployment("ci", "builder");
 *     try (FakeBackend backend = cluster.backend()) {
 *         backend.compareAndSet(target, LockFields.free(0), LockFields.free(0).heldBy("me", 1, cluster.clock().now(),
 *                 Duration.ofSeconds(30)));
 *     }
 *     assertThat(cluster.ready("ci", "builder")).isEqualTo("0/1");
 * }
 * }</pre>
 *
 * <p>Code under test gets its {@code ReplicaLocks} from {@link
 * io.github.replicalock.testkit.FakeCluster#locks(String)}, which gives it a client of the cluster
 * and the cluster's clock; {@code ReplicaLocks.builder()} alone would run on the system clock.
 *
 * <pre>{@code
 * try (ReplicaLocks locks = cluster.locks("build-1").build()) {
 *     locks.acquire(target, Duration.ofMinutes(1)).close();
 * }
 * }</pre>
 */
@NullMarked
package io.github.replicalock.testkit;

import org.jspecify.annotations.NullMarked;
