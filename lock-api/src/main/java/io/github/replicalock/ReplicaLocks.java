package io.github.replicalock;

import io.github.replicalock.internal.Engine;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Takes replica locks: one instance per application, thread-safe. A lock is a Deployment whose
 * replicas are 0 when free and 1 while a build holds it; acquisition is one conditional write,
 * holds are leased and renewed in the background, and every write after acquisition is
 * conditional on still being the holder.
 *
 * <pre>{@code
 * try (ReplicaLocks locks = ReplicaLocks.builder()
 *         .backend(KubernetesReplicaBackend.fromDefaultConfig())
 *         .holder("build-" + buildNumber)
 *         .build()) {
 *     LockTarget builder = LockTarget.of("apps--droneio--prd", "buildah-external");
 *     try (ReplicaLock lock = locks.acquire(builder, Duration.ofMinutes(10))) {
 *         runBuild(lock.pods().get(0), lock.fencingToken());
 *     } // released, even when the build throws
 * }
 * }</pre>
 *
 * <p>{@link #close()} releases what this instance still holds and closes the backend; a JVM
 * shutdown hook does the same when the process is terminated (SIGTERM).
 */
public final class ReplicaLocks implements AutoCloseable {
    private static final int MAX_HOLDER_LENGTH = 253;

    private final Engine engine;

    private ReplicaLocks(Engine engine) {
        this.engine = engine;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Waits up to {@code timeout} for the lock to be free (woken by a watch, not by polling), takes
     * it, then waits up to {@link LockOptions#readyTimeout()} for a Ready builder pod. A hold whose
     * lease expired is taken over (token + 1, its pods replaced).
     *
     * @throws LockTimeoutException if the lock stayed taken for {@code timeout}; nothing is left behind
     * @throws PodNotReadyException if no builder pod became Ready; the lock was released again
     * @throws LockTargetNotFoundException if the Deployment does not exist
     * @throws LockTargetInvalidException if the Deployment is not a lock (replicas above 1, no selector)
     * @throws InterruptedException if interrupted; nothing is left held
     */
    public ReplicaLock acquire(LockTarget target, Duration timeout) throws InterruptedException {
        return engine.acquire(target, timeout);
    }

    /**
     * Takes the lock if it is free now ({@link LockState#IDLE}, or a hold whose lease this instance
     * has seen expire), then waits for a Ready builder pod like {@link #acquire}. Empty at once when
     * the lock is held, starting or releasing, or when another contender's write won. Under {@link
     * Fairness#FIFO} also empty on a free lock with live waiters queued (it would jump the queue). An
     * entry this instance has not watched before counts as live until it has gone unrenewed for the
     * waiter lease plus grace (3 s) on this instance's own clock, so in a process that has just
     * started, a waiter that died queued makes {@code tryAcquire} empty for up to 3 s; {@code
     * acquire(target, Duration.ofSeconds(4))} waits that out and prunes the dead entry.
     */
    public Optional<ReplicaLock> tryAcquire(LockTarget target) throws InterruptedException {
        return engine.tryAcquire(target);
    }

    /**
     * Breaks the hold on {@code target}, for an operator whose build is stuck (hanging while it
     * renews, a wedged builder pod). One conditional write, tested on the holder and token just read
     * so that it can never break a hold that began since: replicas 1 to 0, token kept (the next
     * holder gets token + 1), and the act recorded in the annotation {@code
     * replicalock.io/force-released} (holder, token, when, this instance's {@link #holder()} as the
     * operator, the reason). The holder's pods are deleted, a Warning event {@code ForceReleased}
     * tells {@code kubectl describe deployment} the story, and the holder's {@link
     * ReplicaLock#close()} and {@link ReplicaLock#onLost} listeners get a {@link LockLostException}
     * with the reason. The queue of waiters is untouched: its head acquires next.
     *
     * <pre>{@code
     * LockStatus broken = locks.forceRelease(target, "builder wedged on a stuck mount, INC-1234");
     * log.info("broke the hold of {} (token {})", broken.holder().orElse("?"), broken.fencingToken());
     * }</pre>
     *
     * @param reason why, for the record: 1 to 1024 characters, not blank, on one line
     * @return the status of the hold that was broken, as read just before the write
     * @throws IllegalArgumentException if the reason is blank, too long or spans lines
     * @throws LockNotHeldException if the lock was not held (free or releasing), or the hold seen
     *     ended before the write landed; nothing was changed
     * @throws LockTargetNotFoundException if the Deployment does not exist
     * @throws LockTargetInvalidException if the Deployment is not a lock (replicas above 1, no selector)
     * @throws InterruptedException if interrupted before the write; nothing was changed then (an
     *     interrupt after the write is kept in the thread's status and the broken hold returned)
     */
    public LockStatus forceRelease(LockTarget target, String reason) throws InterruptedException {
        return engine.forceRelease(target, OptionalLong.empty(), reason);
    }

    /**
     * As {@link #forceRelease(LockTarget, String)}, but breaks only the hold with {@code token}: for
     * an operator who read the token from {@link #status} (or {@code kubectl}) and decided to break
     * that hold, not one that began since.
     *
     * <pre>{@code
     * LockStatus seen = locks.status(target);            // held by drone-build-41, token 7
     * locks.forceRelease(target, seen.fencingToken(), "builder wedged, INC-1234");
     * }</pre>
     *
     * @throws LockNotHeldException also when the lock is held with another token; nothing was changed
     */
    public LockStatus forceRelease(LockTarget target, long token, String reason) throws InterruptedException {
        return engine.forceRelease(target, OptionalLong.of(token), reason);
    }

    /**
     * Observes the lock. Never throws for a cluster state: a missing Deployment, replicas above 1 or
     * no selector give {@link LockState#UNKNOWN} with a reason.
     *
     * @throws LockBackendUnavailableException if the API server cannot be reached
     * @throws LockAccessDeniedException if reading is forbidden
     */
    public LockStatus status(LockTarget target) {
        return engine.status(target);
    }

    /** The identity written to the holder annotation. */
    public String holder() {
        return engine.holder();
    }

    public LockOptions options() {
        return engine.options();
    }

    /** Releases every lock this instance still holds, then closes the backend. Idempotent. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds {@link ReplicaLocks}; only the backend is required. */
    public static final class Builder {
        private @Nullable LockBackend backend;
        private @Nullable String holder;
        private LockOptions options = LockOptions.defaults();
        private @Nullable LockClock clock;
        private boolean shutdownHook = true;
        private final List<LockListener> listeners = new ArrayList<>();

        private Builder() {}

        /** Where the locks live; {@link ReplicaLocks} owns it and closes it. Required. */
        public Builder backend(LockBackend backend) {
            this.backend = Objects.requireNonNull(backend, "backend must not be null");
            return this;
        }

        /**
         * The identity written to the holder annotation, such as a build id; default
         * {@code host/pid/random}. Two instances must never share one.
         */
        public Builder holder(String holder) {
            Objects.requireNonNull(holder, "holder must not be null");
            if (holder.isBlank()
                    || holder.length() > MAX_HOLDER_LENGTH
                    || holder.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("holder '" + holder + "' must be 1 to " + MAX_HOLDER_LENGTH
                        + " printable characters, not blank");
            }
            this.holder = holder;
            return this;
        }

        public Builder options(LockOptions options) {
            this.options = Objects.requireNonNull(options, "options must not be null");
            return this;
        }

        /**
         * The clock for every timeout, lease and renewal; default {@link LockClock#system()}. The
         * backend does not choose it: a test on a simulated store gives the store's clock here
         * (the testkit's {@code FakeCluster.locks()} does).
         *
         * <pre>{@code
         * ReplicaLocks locks = ReplicaLocks.builder().backend(backend).clock(virtualClock).build();
         * }</pre>
         */
        public Builder clock(LockClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock must not be null");
            return this;
        }

        /**
         * Adds a listener that hears acquisitions, releases, takeovers, losses, renewal failures,
         * ready timeouts and queue lengths of this instance's locks, such as {@code lock-micrometer}'s
         * {@code ReplicaLockMetrics.listener()}; may be called more than once.
         *
         * <pre>{@code
         * ReplicaLockMetrics metrics = new ReplicaLockMetrics();
         * metrics.bindTo(registry);
         * ReplicaLocks locks = ReplicaLocks.builder().backend(backend).listener(metrics.listener()).build();
         * }</pre>
         */
        public Builder listener(LockListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
            return this;
        }

        /** Whether a JVM shutdown hook releases held locks; default true. */
        public Builder shutdownHook(boolean enabled) {
            this.shutdownHook = enabled;
            return this;
        }

        /**
         * Builds the instance and registers its shutdown hook.
         *
         * @throws IllegalStateException if no backend was set
         */
        public ReplicaLocks build() {
            LockBackend chosen = backend;
            if (chosen == null) {
                throw new IllegalStateException("ReplicaLocks.builder(): backend(...) is required");
            }
            String identity = holder != null ? holder : defaultHolder();
            LockClock time = clock != null ? clock : LockClock.system();
            return new ReplicaLocks(Engine.open(chosen, time, identity, options, shutdownHook, listeners));
        }

        private static String defaultHolder() {
            String host = System.getenv("HOSTNAME");
            if (host == null || host.isBlank()) {
                try {
                    host = InetAddress.getLocalHost().getHostName();
                } catch (UnknownHostException e) {
                    host = "localhost";
                }
            }
            byte[] random = new byte[4];
            ThreadLocalRandom.current().nextBytes(random);
            return host + "/" + ProcessHandle.current().pid() + "/"
                    + HexFormat.of().formatHex(random);
        }
    }
}
