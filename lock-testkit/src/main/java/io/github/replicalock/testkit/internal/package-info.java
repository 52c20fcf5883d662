/**
 * The fake cluster's implementation, cut by role: {@link
 * io.github.replicalock.testkit.internal.ClusterStore} is the API server (the stored Deployments,
 * admission of each request, reads and writes conditional on the resource version), {@link
 * io.github.replicalock.testkit.internal.Kubectl} the test's unconditional changes, {@code
 * DeploymentController} the pods' life and their faults, {@code WatchRegistry} the watches and their
 * drops, {@link io.github.replicalock.testkit.internal.FaultState} the request faults and RBAC, and
 * {@code ClusterHistory} what the cluster saw. The client's side (retries in {@link
 * io.github.replicalock.testkit.internal.RequestRetry}, conflict absorption and lost-response
 * recognition) is {@code FakeBackend}'s, in the shape of the Kubernetes backend's conditional write.
 * Lock annotations are read and written by {@link io.github.replicalock.spi.LockAnnotations}, as on
 * a cluster. Also the protocol simulation's run. Not API: anything here may change in any release.
 */
@NullMarked
package io.github.replicalock.testkit.internal;

import org.jspecify.annotations.NullMarked;
