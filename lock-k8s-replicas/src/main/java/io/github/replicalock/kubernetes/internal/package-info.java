/**
 * The fabric8 side of the Kubernetes backend, one class per role behind the {@code
 * KubernetesReplicaBackend} facade: {@link io.github.replicalock.kubernetes.internal.TargetWatches}
 * (one {@link io.github.replicalock.kubernetes.internal.TargetWatch} per target, shared and
 * lingering), {@link io.github.replicalock.kubernetes.internal.CoherentReads} (reads from the watch
 * caches that are never older than what was already seen), {@link
 * io.github.replicalock.kubernetes.internal.ConditionalWrite} (the JSON Patch of {@link
 * io.github.replicalock.kubernetes.internal.LockPatch}, and what a rejection means), {@link
 * io.github.replicalock.kubernetes.internal.LockEvents}, and {@link
 * io.github.replicalock.kubernetes.internal.Requests} (retries and error mapping). The annotations'
 * text is {@link io.github.replicalock.spi.LockAnnotations}', shared with every other backend. Not
 * API, and not exported by the module: anything here may change in any release.
 */
@NullMarked
package io.github.replicalock.kubernetes.internal;

import org.jspecify.annotations.NullMarked;
