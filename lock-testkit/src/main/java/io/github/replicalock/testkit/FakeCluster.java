package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.internal.ClusterStore;
import io.github.replicalock.testkit.internal.Kubectl;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory Kubernetes cluster, just big enough for replica locks: Deployments whose replicas
 * and annotations a {@link FakeBackend} reads and conditionally writes, a simulated deployment
 * controller that starts and stops their pods, scriptable {@link Faults}, and optionally a {@link
 * VirtualClock}. Usable without JUnit; {@link FakeClusterExtension} is a thin layer over it.
 *
 * <pre>{@code
 * try (FakeCluster cluster = FakeCluster.builder()
 *         .virtualTime()
 *         .podReadyDelay(Duration.ofSeconds(5))
 *         .podTerminationDelay(Duration.ofSeconds(3))
 *         .build()) {
 *     LockTarget target = cluster.createDeployment("apps--droneio--prd", "buildah-external");
 *     LockBackend backend = cluster.backend();
 *
 *     cluster.scale("apps--droneio--prd", "buildah-external", 1); // the legacy shell pipeline
 *     assertThat(cluster.ready(target)).isEqualTo("0/1");          // STARTING
 *     cluster.virtualClock().advance(Duration.ofSeconds(5));
 *     assertThat(cluster.ready(target)).isEqualTo("1/1");          // ACTIVE
 * }
 * }</pre>
 *
 * <p><b>The controller.</b> It keeps the number of non-terminating pods equal to replicas. A new pod
 * is Pending ({@code ContainerCreating}) and becomes Running and Ready after the {@linkplain
 * Builder#podReadyDelay pod ready delay}, unless {@link Faults#podsNeverReady} applies. On
 * scale-down surplus pods get a deletion timestamp and go after the {@linkplain
 * Builder#podTerminationDelay termination delay}, unless {@link Faults#podsStuckTerminating}
 * applies. {@code status.readyReplicas} counts Ready pods, terminating ones included until they are
 * gone, so READY shows {@code 1/0} while a lock is released. With zero delays (the default) all of
 * this happens inside the write that caused it, so that a release is followed by {@code 0/0} at
 * once. Pods are named {@code <deployment>-<5 random lower case alphanumerics>}.
 *
 * <p><b>Backend semantics</b> are described on {@link FakeBackend}. Lock annotations are read and
 * written by {@link io.github.replicalock.spi.LockAnnotations}, the codec the Kubernetes backend
 * uses too: instants in RFC 3339, the lease in whole seconds rounded up, the holder {@code ""} on a
 * free lock; an annotation that does not parse makes reads throw {@link
 * io.github.replicalock.LockTargetInvalidException} naming key and value, exactly as on a cluster.
 *
 * <p><b>Inspection.</b> {@link #deployment}, {@link #ready}, {@link #events}, {@link #lockWrites}
 * and {@link #requests} show what the cluster saw, also after {@link #close()}.
 *
 * <p>Thread-safe. {@link #close()} stops the controller and the clock it created; backends then get
 * {@link io.github.replicalock.LockBackendUnavailableException}.
 */
public final class FakeCluster implements AutoCloseable {
    /** The client name of changes made with {@link #scale} and {@link #annotate}. */
    public static final String KUBECTL = Kubectl.CLIENT;

    private final ClusterStore store;
    private final Kubectl kubectl;
    private final LockClock clock;
    private final @Nullable VirtualClock ownedClock;
    private final Faults faults;

    private FakeCluster(Builder builder) {
        LockClock chosen = builder.clock;
        VirtualClock created = null;
        if (chosen == null) {
            if (builder.virtualTime) {
                created = VirtualClock.autoAdvancing();
                chosen = created;
            } else {
                chosen = LockClock.system();
            }
        }
        this.clock = chosen;
        this.ownedClock = created;
        // Requests count as activity so that virtual time does not jump in the middle of a
        // conversation between the code under test and the cluster.
        Runnable touch = chosen instanceof VirtualClock virtual ? virtual::touch : () -> {};
        this.store = new ClusterStore(
                chosen,
                touch,
                builder.podReadyDelay,
                builder.podTerminationDelay,
                builder.historyLimit,
                builder.writeListener);
        this.kubectl = new Kubectl(store);
        this.faults = new Faults(store);
    }

    /** A cluster in real time whose pods are Ready, and gone, as soon as they are asked for. */
    public static FakeCluster create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The cluster's clock, shared by all its backends: pass it to the code under test. */
    public LockClock clock() {
        return clock;
    }

    /**
     * The cluster's virtual clock, for {@link VirtualClock#advance} and {@link
     * VirtualClock#elapsed}.
     *
     * @throws IllegalStateException if the cluster runs in real time
     */
    public VirtualClock virtualClock() {
        if (clock instanceof VirtualClock virtual) {
            return virtual;
        }
        throw new IllegalStateException(
                "this fake cluster runs in real time; build it with FakeCluster.builder().virtualTime()");
    }

    // ------------------------------------------------------------------ kubectl

    /**
     * Creates a Deployment with replicas 0, selector {@code app=<name>}, no annotations and no pods.
     *
     * @return its target, for the code under test
     * @throws IllegalArgumentException if a name is not a valid Kubernetes name (as {@link
     *     LockTarget#of})
     * @throws IllegalStateException if it exists already
     */
    public LockTarget createDeployment(String namespace, String name) {
        return kubectl.createDeployment(namespace, name);
    }

    /** {@link #createDeployment(String, String)} for a target: the contract suite's shape. */
    public LockTarget createDeployment(LockTarget target) {
        return createDeployment(target.namespace(), target.name());
    }

    /**
     * Deletes a Deployment and its pods at once.
     *
     * @throws IllegalStateException if it does not exist
     */
    public void deleteDeployment(String namespace, String name) {
        kubectl.deleteDeployment(namespace, name);
    }

    /** {@link #deleteDeployment(String, String)} for a target. */
    public void deleteDeployment(LockTarget target) {
        deleteDeployment(target.namespace(), target.name());
    }

    /**
     * Removes the Deployment's selector (the API server would refuse that; tests of the error
     * path need it). Reads then show selector null and no pods.
     */
    public void clearSelector(String namespace, String name) {
        kubectl.clearSelector(namespace, name);
    }

    /** {@link #clearSelector(String, String)} for a target. */
    public void clearSelector(LockTarget target) {
        clearSelector(target.namespace(), target.name());
    }

    /**
     * Sets replicas unconditionally, leaving annotations alone, as {@code kubectl scale
     * --replicas=N} does: how tests play the legacy shell pipeline.
     *
     * @throws IllegalStateException if the Deployment does not exist
     */
    public void scale(String namespace, String name, int replicas) {
        kubectl.scale(namespace, name, replicas);
    }

    /** {@link #scale(String, String, int)} for a target. */
    public void scale(LockTarget target, int replicas) {
        scale(target.namespace(), target.name(), replicas);
    }

    /**
     * Sets an annotation, or removes it if {@code value} is null, as {@code kubectl annotate
     * --overwrite} does: for tests of broken or hand-edited lock annotations.
     */
    public void annotate(String namespace, String name, String key, @Nullable String value) {
        kubectl.annotate(namespace, name, key, value);
    }

    /** {@link #annotate(String, String, String, String)} for a target. */
    public void annotate(LockTarget target, String key, @Nullable String value) {
        annotate(target.namespace(), target.name(), key, value);
    }

    // ------------------------------------------------------------------ clients and faults

    /** A new client named {@code client-<n>}; see {@link #backend(String)}. */
    public FakeBackend backend() {
        return new FakeBackend(store, store.newClient(null));
    }

    /**
     * A new client of this cluster, with its own connection and watches: give each simulated
     * process its own. Closing it never closes the cluster.
     *
     * @param name recorded with its lock writes and events
     */
    public FakeBackend backend(String name) {
        return new FakeBackend(store, store.newClient(Objects.requireNonNull(name, "name")));
    }

    /**
     * A {@link ReplicaLocks} builder already given a new client of this cluster ({@link #backend()})
     * and the cluster's {@linkplain #clock() clock}, without a shutdown hook. Prefer it to {@code
     * ReplicaLocks.builder()}: a builder without {@code .clock(...)} runs on the system clock, so a
     * virtual-time cluster would make its leases and timeouts pass in real time.
     *
     * <pre>{@code
     * try (ReplicaLocks locks = cluster.locks().holder("build-1").build();
     *         ReplicaLock lock = locks.acquire(target, Duration.ofMinutes(1))) {
     *     cluster.virtualClock().advance(Duration.ofMinutes(5)); // renewed on the virtual clock
     * }
     * }</pre>
     */
    public ReplicaLocks.Builder locks() {
        return locks(backend());
    }

    /**
     * As {@link #locks()}, on a new client named {@code client} ({@link #backend(String)}), which
     * is also the holder identity until {@link ReplicaLocks.Builder#holder} says otherwise.
     *
     * <pre>{@code
     * ReplicaLocks first = cluster.locks("build-1").build();
     * ReplicaLocks second = cluster.locks("build-2").options(quickLease).build();
     * }</pre>
     */
    public ReplicaLocks.Builder locks(String client) {
        return locks(backend(client)).holder(client);
    }

    /**
     * As {@link #locks()}, on a client of this cluster the caller made (one it disconnects later,
     * say).
     *
     * <pre>{@code
     * FakeBackend crashed = cluster.backend("build-1");
     * ReplicaLocks locks = cluster.locks(crashed).holder("build-1").build();
     * crashed.disconnect();
     * }</pre>
     */
    public ReplicaLocks.Builder locks(LockBackend client) {
        return ReplicaLocks.builder().backend(client).clock(clock).shutdownHook(false);
    }

    /** The faults of this cluster, to script and to clear. */
    public Faults faults() {
        return faults;
    }

    // ------------------------------------------------------------------ inspection

    /**
     * What {@code kubectl get} would show of the Deployment now.
     *
     * @throws IllegalStateException if it does not exist
     */
    public DeploymentSnapshot deployment(String namespace, String name) {
        return kubectl.snapshot(LockTarget.of(namespace, name));
    }

    /** {@link #deployment(String, String)} for a target. */
    public DeploymentSnapshot deployment(LockTarget target) {
        return kubectl.snapshot(target);
    }

    /**
     * kubectl's READY column: ready replicas, then desired replicas, such as {@code 0/1}.
     *
     * @throws IllegalStateException if the Deployment does not exist
     */
    public String ready(String namespace, String name) {
        return kubectl.ready(LockTarget.of(namespace, name));
    }

    /** {@link #ready(String, String)} for a target. */
    public String ready(LockTarget target) {
        return kubectl.ready(target);
    }

    /** The events recorded on the Deployment, oldest first (the last 1000). */
    public List<ClusterEvent> events(String namespace, String name) {
        return store.events(LockTarget.of(namespace, name));
    }

    /** {@link #events(String, String)} for a target. */
    public List<ClusterEvent> events(LockTarget target) {
        return store.events(target);
    }

    /**
     * Every accepted change of lock fields on any Deployment, in the order the cluster applied
     * them: successful compare-and-sets and the test's {@code scale}/{@code annotate} calls. Only
     * the newest {@linkplain Builder#historyLimit history limit} are kept.
     */
    public List<LockWrite> lockWrites() {
        return store.lockWrites();
    }

    /**
     * The accepted changes of {@code target}'s queue of waiters, in the order the cluster applied
     * them: enqueues, renewals, leaves and prunes, and queued waiters' acquisitions (which are also
     * {@linkplain #lockWrites() lock writes}). Bounded by the history limit as the lock writes are.
     */
    public List<QueueWrite> queueWrites(LockTarget target) {
        return store.queueWrites(target);
    }

    /** How many lock writes were dropped from {@link #lockWrites()} by the history limit. */
    public long droppedLockWrites() {
        return store.droppedLockWrites();
    }

    /**
     * How many calls of this kind all backends of this cluster made, failed ones included; one per
     * SPI call, however many retries it took inside.
     */
    public long requests(RequestKind kind) {
        return store.requests(kind);
    }

    /**
     * Stops the controller (pending pod transitions never happen), and the virtual clock if the
     * cluster created it; backends get {@link io.github.replicalock.LockBackendUnavailableException}
     * from then on. Inspection still works. Idempotent.
     */
    @Override
    public void close() {
        store.close();
        if (ownedClock != null) {
            ownedClock.close();
        }
    }

    @Override
    public String toString() {
        return "FakeCluster{" + (clock instanceof VirtualClock v ? v.toString() : "real time")
                + (store.isClosed() ? ", closed" : "") + "}";
    }

    /**
     * Builds a {@link FakeCluster}; every setting is optional.
     *
     * <pre>{@code
     * FakeCluster cluster = FakeCluster.builder()
     *         .virtualTime()                              // an auto-advancing VirtualClock
     *         .podReadyDelay(Duration.ofSeconds(20))      // image pull and readiness probe
     *         .podTerminationDelay(Duration.ofSeconds(30)) // terminationGracePeriodSeconds
     *         .build();
     * }</pre>
     */
    public static final class Builder {
        private Duration podReadyDelay = Duration.ZERO;
        private Duration podTerminationDelay = Duration.ZERO;
        private boolean virtualTime;
        private @Nullable LockClock clock;
        private int historyLimit = 100_000;
        private @Nullable Consumer<? super LockWrite> writeListener;

        private Builder() {}

        /**
         * How long a new pod stays Pending before it is Ready; default zero: Ready within the write
         * that created it.
         */
        public Builder podReadyDelay(Duration podReadyDelay) {
            this.podReadyDelay = notNegative("podReadyDelay", podReadyDelay);
            return this;
        }

        /**
         * How long a terminating pod stays before it is gone; default zero: gone within the write
         * that scaled it down.
         */
        public Builder podTerminationDelay(Duration podTerminationDelay) {
            this.podTerminationDelay = notNegative("podTerminationDelay", podTerminationDelay);
            return this;
        }

        /**
         * Runs the cluster on a new {@linkplain VirtualClock#autoAdvancing() auto-advancing} {@link
         * VirtualClock}, closed with the cluster; {@link FakeCluster#virtualClock()} returns it.
         */
        public Builder virtualTime() {
            this.virtualTime = true;
            return this;
        }

        /**
         * Runs the cluster on this clock, such as a {@linkplain VirtualClock#manual() manual}
         * VirtualClock for step-by-step tests. The cluster does not close it.
         */
        public Builder clock(LockClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock must not be null");
            return this;
        }

        /**
         * How many lock writes {@link FakeCluster#lockWrites()} keeps, the newest; default 100,000.
         * Zero keeps none (a benchmark).
         */
        public Builder historyLimit(int historyLimit) {
            if (historyLimit < 0) {
                throw new IllegalArgumentException("historyLimit must not be negative, got " + historyLimit);
            }
            this.historyLimit = historyLimit;
            return this;
        }

        /**
         * Hears every accepted lock write as it happens, the same ones {@link
         * FakeCluster#lockWrites()} lists (also beyond the history limit): for checks that must run
         * at the instant of a write, such as "nobody else still believes it holds the lock". Called
         * on the writing thread, after the cluster's lock is released and before the writer goes on,
         * one write at a time and in the order they were applied; it may call the cluster, and an
         * exception it throws is logged, never seen by the writer. Keep it quick: virtual time stands
         * still while it runs.
         *
         * <pre>{@code
         * List<LockWrite> acquisitions = new CopyOnWriteArrayList<>();
         * FakeCluster cluster = FakeCluster.builder()
         *         .onLockWrite(w -> { if (w.after().token() > w.before().token()) acquisitions.add(w); })
         *         .build();
         * }</pre>
         */
        public Builder onLockWrite(Consumer<? super LockWrite> listener) {
            this.writeListener = Objects.requireNonNull(listener, "listener must not be null");
            return this;
        }

        /**
         * Builds the cluster; it has no Deployments yet.
         *
         * @throws IllegalStateException if both {@link #virtualTime()} and {@link #clock} were set
         */
        public FakeCluster build() {
            if (virtualTime && clock != null) {
                throw new IllegalStateException(
                        "virtualTime() and clock(" + clock + ") both choose the clock; set only one");
            }
            return new FakeCluster(this);
        }

        private static Duration notNegative(String field, @Nullable Duration value) {
            Objects.requireNonNull(value, () -> field + " must not be null");
            if (value.isNegative()) {
                throw new IllegalArgumentException(field + " must not be negative, got " + value);
            }
            return value;
        }
    }
}
