/**
 * The lock algorithm. Not API: anything here may change in any release.
 *
 * <p>{@code LockEngine} (package-private; {@code ReplicaLocks} opens it through {@link
 * io.github.replicalock.internal.Engine#open}, which refuses other callers) acquires: each attempt on a read says what it
 * decided, and a won one becomes a {@code HeldReplicaLock}, which starts, renews and releases
 * itself through a {@code LockSession} (backend, clock, options, holder). Every wait is one {@code
 * TargetObserver.await(check, deadline, onTimeout)} on the session's one observer per target;
 * renewals run on the session's {@code RenewalWorkers}, off the clock's scheduler thread, and end
 * before the lease does. Under {@code Fairness.FIFO} ({@code QueueAcquisition}) an acquisition
 * waits with a {@code FairWait} check: one thread per target and instance ({@code LocalLine}) queues on the Deployment, renews its
 * entry and acquires when every entry ahead is dead by {@code QueueJudge}. {@code
 * docs/lock-protocol.md}, section 9, has the whole map.
 */
@NullMarked
package io.github.replicalock.internal;

import org.jspecify.annotations.NullMarked;
