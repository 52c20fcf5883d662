package io.github.replicalock.internal;

import io.github.replicalock.LockListener;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The engine as {@link ReplicaLocks} sees it, and the one way to open one. Public only so that
 * {@code ReplicaLocks} can reach it across packages; the package is not exported, and {@link #open}
 * refuses every caller but {@code ReplicaLocks}, so that on the class path too an engine is only
 * built behind {@code ReplicaLocks.Builder}'s checks. The engine itself ({@code LockEngine}) is
 * package-private.
 *
 * <pre>{@code
 * // in ReplicaLocks.Builder.build():
 * Engine engine = Engine.open(backend, clock, holder, options, shutdownHook, listeners);
 * }</pre>
 */
public interface Engine extends AutoCloseable {
    /**
     * Opens an engine on {@code backend}.
     *
     * @throws IllegalCallerException unless called by {@code ReplicaLocks} or its builder
     */
    static Engine open(
            LockBackend backend,
            LockClock clock,
            String holder,
            LockOptions options,
            boolean shutdownHook,
            List<LockListener> listeners) {
        Class<?> caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .getCallerClass();
        if (caller.getNestHost() != ReplicaLocks.class) {
            throw new IllegalCallerException(
                    "the lock engine is opened by ReplicaLocks.builder().build(), not by " + caller.getName());
        }
        return new LockEngine(backend, clock, holder, options, shutdownHook, List.copyOf(listeners));
    }

    String holder();

    LockOptions options();

    LockStatus status(LockTarget target);

    Optional<ReplicaLock> tryAcquire(LockTarget target) throws InterruptedException;

    ReplicaLock acquire(LockTarget target, Duration timeout) throws InterruptedException;

    LockStatus forceRelease(LockTarget target, OptionalLong token, String reason) throws InterruptedException;

    @Override
    void close();
}
