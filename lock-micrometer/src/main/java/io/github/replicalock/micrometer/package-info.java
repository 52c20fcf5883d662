/**
 * Micrometer metrics for replica-lock: {@link io.github.replicalock.micrometer.ReplicaLockMetrics}.
 *
 * <pre>{@code
 * ReplicaLockMetrics metrics = new ReplicaLockMetrics();
 * metrics.bindTo(registry);
 * }</pre>
 */
@NullMarked
package io.github.replicalock.micrometer;

import org.jspecify.annotations.NullMarked;
