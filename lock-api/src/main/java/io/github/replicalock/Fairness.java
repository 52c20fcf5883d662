package io.github.replicalock;

/**
 * Who gets a lock that comes free while several builds wait for it ({@code docs/lock-protocol.md}
 * section 10).
 *
 * <pre>{@code
 * LockOptions fair = LockOptions.defaults();                                   // FIFO
 * LockOptions asBefore = LockOptions.builder().fairness(Fairness.BARGING).build();
 * }</pre>
 */
public enum Fairness {
    /**
     * First come, first served, the default: a waiter that finds the lock taken joins the queue of
     * waiters on the Deployment (annotation {@code replicalock.io/queue}), renews its entry while it
     * waits, and only the head of the queue acquires when the lock comes free. Waiters that die
     * drop out after their entry's lease (2 s) plus a grace (1 s). Without contention it costs
     * nothing: a free lock with nobody queued is acquired in one write, as with {@link #BARGING}.
     */
    FIFO,
    /**
     * Whoever's write lands first after a release wins; the queue is neither read nor written. The
     * behaviour of replica-lock before the queue, and of the shell pipeline's scale step.
     */
    BARGING
}
