/**
 * Measured speed of replica-lock beside fabric8 leader election and the shell steps it replaces:
 * on the in-memory fake cluster (JMH) and on fabric8's CRUD mock API server over loopback. Run
 * {@link io.github.replicalock.benchmarks.RunBenchmarks}, which writes {@code docs/benchmarks.md};
 * the command is in that file.
 */
@NullMarked
package io.github.replicalock.benchmarks;

import org.jspecify.annotations.NullMarked;
