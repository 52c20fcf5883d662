/**
 * The {@code replica-lock} command: a CI pipeline step takes the lock, gets a Ready builder pod,
 * runs its build as a child process and releases however the build ends.
 *
 * <pre>{@code
 * replica-lock run buildah-external -n apps--droneio--prd --wait 10m -- ./build.sh
 * replica-lock status buildah-external -o json
 * }</pre>
 *
 * <p>Everything here is package-private: the command line is the interface.
 */
@NullMarked
package io.github.replicalock.cli;

import org.jspecify.annotations.NullMarked;
