package io.github.replicalock.testkit;

/**
 * The kinds of request a {@link FakeBackend} sends, one per {@link io.github.replicalock.spi.LockBackend}
 * method, for {@link FakeCluster#requests(RequestKind)}.
 *
 * <pre>{@code
 * locks.tryAcquire(target);
 * assertThat(cluster.requests(RequestKind.COMPARE_AND_SET)).isEqualTo(1);
 * }</pre>
 */
public enum RequestKind {
    /** {@code read}: get the Deployment, list its pods. */
    READ,
    /** {@code readFresh}: the same requests as {@link #READ}; counted apart, to show when the engine asks for one. */
    FRESH_READ,
    /** {@code compareAndSet}: get the Deployment, patch it conditionally. */
    COMPARE_AND_SET,
    /** A write tested on the queue of waiters, alone or with the lock fields. */
    QUEUE_WRITE,
    /** {@code watch}: watch the Deployment and its pods. */
    WATCH,
    /** {@code deletePods}. */
    DELETE_PODS,
    /** {@code recordEvent}. */
    EVENT
}
