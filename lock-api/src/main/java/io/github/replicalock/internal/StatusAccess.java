package io.github.replicalock.internal;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import java.lang.invoke.MethodHandles;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How the engine builds a {@link LockStatus} of a lock it understands, whose factory is not API:
 * {@code LockStatus} hands its private factory over when it is initialized, as the JDK's {@code
 * SharedSecrets} do. Public only so that {@code LockStatus} can reach it; the package is not
 * exported.
 */
public final class StatusAccess {
    /** A {@link LockStatus} of a Deployment this library understands. */
    public interface Factory {
        LockStatus of(
                LockTarget target,
                LockState state,
                int desiredReplicas,
                int readyReplicas,
                @Nullable String holder,
                long fencingToken,
                @Nullable Instant acquired,
                @Nullable Instant renewed,
                @Nullable Duration lease,
                List<LockStatus.Waiter> waiters);
    }

    private static volatile @Nullable Factory factory;

    private StatusAccess() {}

    /**
     * Called once, by {@code LockStatus}'s static initializer.
     *
     * @throws IllegalStateException on a second call
     */
    public static synchronized void register(Factory statusFactory) {
        if (factory != null) {
            throw new IllegalStateException("the LockStatus factory is registered already");
        }
        factory = statusFactory;
    }

    static Factory factory() {
        Factory registered = factory;
        if (registered == null) {
            try {
                MethodHandles.lookup().ensureInitialized(LockStatus.class);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("LockStatus cannot be initialized", e);
            }
            registered = factory;
            if (registered == null) {
                throw new IllegalStateException("LockStatus did not register its factory");
            }
        }
        return registered;
    }
}
