/**
 * The fabric8 side of the Kubernetes backend: requests with retries and error mapping, the JSON
 * Patch that makes a write conditional, parsing of Deployments and pods, and watches. Not API:
 * anything here may change in any release.
 */
@NullMarked
package io.github.replicalock.kubernetes.internal;

import org.jspecify.annotations.NullMarked;
