package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.internal.CoherentReads;
import io.github.replicalock.kubernetes.internal.ConditionalWrite;
import io.github.replicalock.kubernetes.internal.LockEvents;
import io.github.replicalock.kubernetes.internal.LockPatch;
import io.github.replicalock.kubernetes.internal.ObservedLock;
import io.github.replicalock.kubernetes.internal.Requests;
import io.github.replicalock.kubernetes.internal.RetrySettings;
import io.github.replicalock.kubernetes.internal.TargetWatch;
import io.github.replicalock.kubernetes.internal.TargetWatches;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock backend on a real Kubernetes cluster, through the fabric8 kubernetes-client: the lock
 * is the Deployment's {@code spec.replicas} plus its {@code replicalock.io/*} annotations.
 *
 * <pre>{@code
 * KubernetesClient client = new KubernetesClientBuilder().build();
 * try (LockBackend backend = KubernetesReplicaBackend.create(client)) {
 *     LockRecord record = backend.read(LockTarget.of("apps--droneio--prd", "buildah-external"));
 * }
 * }</pre>
 *
 * <p>With retry settings of your own, or a client from the default configuration (kubeconfig, the
 * {@code KUBECONFIG} variable, or the in-cluster service account), which the backend then closes:
 *
 * <pre>{@code
 * LockBackend backend = KubernetesReplicaBackend.builder()          // or builder(client)
 *         .maxAttempts(8)
 *         .initialBackoff(Duration.ofMillis(100))
 *         .maxBackoff(Duration.ofSeconds(5))
 *         .maxRetryDuration(Duration.ofSeconds(30))
 *         .requestTimeout(Duration.ofSeconds(10))
 *         .build();
 * }</pre>
 *
 * <p><b>Requests.</b> Without a {@link #watch} on the target, {@link #read} is a GET of the
 * Deployment and a LIST of the pods of its selector. While a watch is open and synced, a read costs
 * no request: the Deployment and its pods come from the watch's caches, or from our own last write's
 * answer while the watch has not caught up with it (a copy older than one already seen is never
 * served). A {@link #watch} is two informers (a LIST and a WATCH of the Deployment, then of its
 * pods); when its last subscription closes it stays open for 5 s more, so that the lock algorithm's
 * next subscription (waiting for Ready right after winning the lock) reuses it. {@link
 * #compareAndSet} is one PATCH (a JSON Patch whose {@code test} operations make it conditional; see
 * {@link LockPatch}), decided by the server whatever the cache said; when the server rejects it,
 * the watch showing a newer copy with other lock fields tells a lost race (false), and otherwise one
 * GET tells a lost race from a stale guess of the stored text (the PATCH is rebuilt and sent again).
 * {@link #readFresh} always asks the server (a GET and a LIST): the engine reads fresh before a
 * takeover and writes only if the server's copy, renewal time included, is the one it judged
 * expired, so that a watch that stalls while connected cannot make a live holder look expired.
 * The {@code /scale} subresource is never used: it cannot carry the annotations.
 *
 * <p><b>Errors.</b> Transient failures (5xx, 429 with its retry-after, 408, I/O errors, timeouts)
 * are retried with exponential backoff and jitter up to {@code maxAttempts} and {@code
 * maxRetryDuration}, then {@link LockBackendUnavailableException}. 403 is {@link
 * io.github.replicalock.LockAccessDeniedException} naming the verb and resource, 404 {@link
 * io.github.replicalock.LockTargetNotFoundException}, lock annotations that do not parse {@link
 * io.github.replicalock.LockTargetInvalidException}. A 422 or 409 answer to the conditional write
 * is never retried blindly: the backend re-reads and returns false if the lock fields changed.
 *
 * <p>Thread-safe. {@link #close()} stops the watches, and closes the client only if the backend
 * created it.
 */
public final class KubernetesReplicaBackend implements LockBackend {
    private static final Logger log = LoggerFactory.getLogger(KubernetesReplicaBackend.class);

    private final KubernetesClient client;
    private final @Nullable KubernetesClient owned;
    private final Requests requests;
    private final TargetWatches watches;
    private final CoherentReads reads;
    private final ConditionalWrite writer;
    private final LockEvents events;
    private final AtomicBoolean closed = new AtomicBoolean();

    private KubernetesReplicaBackend(Builder b, KubernetesClient client, boolean owns) {
        RetrySettings settings =
                new RetrySettings(b.maxAttempts, b.initialBackoff, b.maxBackoff, b.maxRetryDuration, b.requestTimeout);
        this.requests = new Requests(settings, b.random);
        this.owned = owns ? client : null;
        this.client = derive(client, settings);
        this.watches = new TargetWatches(this.client, b.watchLinger, this::watchStopped);
        this.reads = new CoherentReads(this.client, requests, watches);
        this.writer = new ConditionalWrite(this.client, requests, reads, watches);
        this.events = new LockEvents(this.client);
    }

    /**
     * A backend on {@code client} with the default retry settings. The client stays the caller's: the
     * backend never closes it.
     */
    public static KubernetesReplicaBackend create(KubernetesClient client) {
        return builder(client).build();
    }

    /**
     * A backend on a client from the default configuration: {@code ~/.kube/config} or the files in
     * {@code KUBECONFIG}, else the in-cluster service account. The backend closes that client.
     * Needs {@code io.fabric8:kubernetes-client} and an HTTP transport on the class path.
     */
    public static KubernetesReplicaBackend fromDefaultConfig() {
        return builder().build();
    }

    /** A builder for a backend on {@code client}, which the backend never closes. */
    public static Builder builder(KubernetesClient client) {
        return new Builder(Objects.requireNonNull(client, "client must not be null"));
    }

    /** A builder for a backend on a client from the default configuration, which the backend closes. */
    public static Builder builder() {
        return new Builder(null);
    }

    /**
     * A client that shares the caller's connections and credentials but has our request timeout and
     * no request retry of its own: fabric8 retries 5xx and I/O errors 10 times by default, which
     * would multiply with ours.
     */
    private static KubernetesClient derive(KubernetesClient client, RetrySettings settings) {
        RequestConfig config = new RequestConfigBuilder(
                        client.getConfiguration().getRequestConfig())
                .withRequestRetryBackoffLimit(0)
                .withRequestTimeout(Math.toIntExact(
                        Math.min(Integer.MAX_VALUE, settings.requestTimeout().toMillis())))
                .build();
        return client.newClient(config).adapt(KubernetesClient.class);
    }

    private void watchStopped(LockTarget target) {
        reads.forget(target);
    }

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        checkOpen();
        return reads.read(target);
    }

    /** A GET of the Deployment and a LIST of its pods, whatever the watch's caches hold. */
    @Override
    public LockRecord readFresh(LockTarget target) throws InterruptedException {
        checkOpen();
        return reads.readFresh(target);
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        checkOpen();
        return writer.compareAndSet(target, expected, desired);
    }

    @Override
    public boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        checkOpen();
        return writer.compareAndSetQueue(target, change);
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        checkOpen();
        return writer.compareAndSet(target, expected, desired, queueChange);
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException {
        checkOpen();
        return writer.takeOver(target, expected, desired);
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        checkOpen();
        return writer.takeOver(target, expected, desired, queueChange);
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        checkOpen();
        Objects.requireNonNull(onChange, "onChange");
        return watches.subscribe(target, onChange);
    }

    /** How many targets have a watch open now, lingering ones included; for tests. */
    int openWatches() {
        return watches.open();
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        checkOpen();
        List<String> names = List.copyOf(podNames);
        TargetWatch watch = watches.of(target);
        for (String name : names) {
            requests.call(target, "delete", "pods", () -> {
                // A pod already gone is what we wanted: fabric8 answers an empty list for 404.
                return client.pods()
                        .inNamespace(target.namespace())
                        .withName(name)
                        .delete();
            });
            if (watch != null) {
                watch.markDeleted(List.of(name));
            }
        }
        log.debug("{}: deleted pods {}", target, names);
    }

    @Override
    public void recordEvent(LockTarget target, LockEvent event) {
        if (closed.get()) {
            return;
        }
        ObservedLock seen = reads.lastSeen(target);
        events.record(target, seen == null ? null : seen.uid(), event);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        watches.close();
        if (owned != null) {
            owned.close();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("KubernetesReplicaBackend is closed");
        }
    }

    @Override
    public String toString() {
        return "KubernetesReplicaBackend{" + client.getMasterUrl() + ", " + requests.settings() + "}";
    }

    /**
     * Retry and timing settings. Every setter rejects bad values at once, naming the field and the
     * value; {@link #build()} checks them against each other.
     *
     * <pre>{@code
     * KubernetesReplicaBackend backend = KubernetesReplicaBackend.builder(client)
     *         .maxAttempts(5)
     *         .maxRetryDuration(Duration.ofSeconds(20))
     *         .build();
     * }</pre>
     */
    public static final class Builder {
        private final @Nullable KubernetesClient client;
        private int maxAttempts = 6;
        private Duration initialBackoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(5);
        private Duration maxRetryDuration = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private RandomGenerator random = RandomGenerator.getDefault();
        private Duration watchLinger = Duration.ofSeconds(5);

        private Builder(@Nullable KubernetesClient client) {
            this.client = client;
        }

        /** Attempts per request, the first included; default 6. 1 means no retry. */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** The wait before the first retry, doubled for each further one; default 200 ms. */
        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = positive("initialBackoff", initialBackoff);
            return this;
        }

        /** The cap of every wait between attempts (a server's retry-after may exceed it); default 5 s. */
        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = positive("maxBackoff", maxBackoff);
            return this;
        }

        /** No retry starts once this much time has passed since the first attempt; default 30 s. */
        public Builder maxRetryDuration(Duration maxRetryDuration) {
            this.maxRetryDuration = positive("maxRetryDuration", maxRetryDuration);
            return this;
        }

        /** The timeout of one HTTP request; default 10 s. */
        public Builder requestTimeout(Duration requestTimeout) {
            Duration value = positive("requestTimeout", requestTimeout);
            if (value.toMillis() < 1 || value.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "requestTimeout must be between 1 ms and " + Integer.MAX_VALUE + " ms, got " + value);
            }
            this.requestTimeout = value;
            return this;
        }

        /** How long a watch nobody listens to stays open for the next subscriber; zero stops it at once. */
        Builder watchLinger(Duration watchLinger) {
            Objects.requireNonNull(watchLinger, "watchLinger must not be null");
            if (watchLinger.isNegative()) {
                throw new IllegalArgumentException("watchLinger must not be negative, got " + watchLinger);
            }
            this.watchLinger = watchLinger;
            return this;
        }

        /** The random source of the backoff jitter; for reproducible tests. */
        Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random must not be null");
            return this;
        }

        /**
         * Checks the settings against each other and builds the backend.
         *
         * @throws IllegalArgumentException if maxBackoff is shorter than initialBackoff
         */
        public KubernetesReplicaBackend build() {
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException(
                        "maxBackoff " + maxBackoff + " must not be shorter than initialBackoff " + initialBackoff);
            }
            if (client != null) {
                return new KubernetesReplicaBackend(this, client, false);
            }
            KubernetesClient created = new KubernetesClientBuilder().build();
            try {
                return new KubernetesReplicaBackend(this, created, true);
            } catch (RuntimeException e) {
                created.close();
                throw e;
            }
        }

        private static Duration positive(String field, @Nullable Duration value) {
            Objects.requireNonNull(value, () -> field + " must not be null");
            if (value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(field + " must be positive, got " + value);
            }
            return value;
        }
    }
}
