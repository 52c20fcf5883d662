package io.github.replicalock.spi;

/**
 * An open watch from {@link LockBackend#watch}.
 *
 * <pre>{@code
 * try (Subscription watch = backend.watch(target, wakeup::signal)) { ... }
 * }</pre>
 */
public interface Subscription extends AutoCloseable {

    /**
     * False while the watch is down and being re-established: the lock algorithm then falls back
     * to a jittered, capped poll.
     */
    boolean isConnected();

    /** Stops the watch; idempotent. */
    @Override
    void close();
}
