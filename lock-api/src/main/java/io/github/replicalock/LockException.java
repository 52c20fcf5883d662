package io.github.replicalock;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The root of every exception replica-lock throws, unchecked. The message always names the target
 * ({@code namespace/name}) and what was observed; catch a subclass to act on the cause.
 *
 * <pre>{@code
 * try (ReplicaLock lock = locks.acquire(target, Duration.ofMinutes(5))) {
 *     build(lock);
 * } catch (LockTimeoutException e) {
 *     log.warn("builder busy: {}", e.lastStatus());
 * } catch (LockException e) {
 *     log.error("lock failed for {}", e.target().orElse(null), e);
 * }
 * }</pre>
 */
public class LockException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient @Nullable LockTarget target;

    public LockException(@Nullable LockTarget target, String message) {
        this(target, message, null);
    }

    public LockException(@Nullable LockTarget target, String message, @Nullable Throwable cause) {
        super(target == null ? message : target + ": " + message, cause);
        this.target = target;
    }

    /** The Deployment the failed operation was about, when there was one. */
    public Optional<LockTarget> target() {
        return Optional.ofNullable(target);
    }
}
