/** A build orchestrator that takes the builder lock the way a CI system would. */
@NullMarked
package io.github.replicalock.examples;

import org.jspecify.annotations.NullMarked;
