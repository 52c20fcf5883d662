package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.internal.LockPatch;
import io.github.replicalock.kubernetes.internal.ObservedLock;
import io.github.replicalock.kubernetes.internal.PodViews;
import io.github.replicalock.kubernetes.internal.Requests;
import io.github.replicalock.kubernetes.internal.RetrySettings;
import io.github.replicalock.kubernetes.internal.Selectors;
import io.github.replicalock.kubernetes.internal.TargetWatch;
import io.github.replicalock.kubernetes.internal.Versions;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * A takeover (another holder on a lock still held) GETs first and writes only if the server's copy,
 * renewal time included, is the one the engine judged expired: a watch that stalls while connected
 * must not make a live holder look expired.
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

    /** How often a conditional write is rebuilt from a fresh read while the lock fields still match. */
    private static final int MAX_REBUILDS = 5;

    private static final Duration CONNECTION_CHECK = Duration.ofMillis(200);
    /** How long a new watch's first list is waited for instead of reading from the server beside it. */
    private static final Duration WATCH_STARTUP = Duration.ofSeconds(2);
    /**
     * How long a rejected write waits for the watch to show what beat it. Only losers wait, and they
     * go on to wait for the lock anyway.
     */
    private static final Duration WATCH_CATCH_UP = Duration.ofMillis(500);

    private static final int MAX_EVENT_MESSAGE = 1024;

    private final KubernetesClient client;
    private final @Nullable KubernetesClient owned;
    private final Requests requests;
    private final Duration watchLinger;
    private final Map<LockTarget, ObservedLock> lastSeen = new ConcurrentHashMap<>();
    // The newest Deployment the server itself answered (GET, or our own write), per watched target.
    private final Map<LockTarget, Deployment> newest = new ConcurrentHashMap<>();
    private final Map<LockTarget, TargetWatch> watches = new HashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private @Nullable ScheduledExecutorService watchMonitor;
    private @Nullable ScheduledFuture<?> monitorTask;

    private KubernetesReplicaBackend(Builder b, KubernetesClient client, boolean owns) {
        RetrySettings settings =
                new RetrySettings(b.maxAttempts, b.initialBackoff, b.maxBackoff, b.maxRetryDuration, b.requestTimeout);
        this.requests = new Requests(settings, b.random);
        this.watchLinger = b.watchLinger;
        this.owned = owns ? client : null;
        this.client = derive(client, settings);
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

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        checkOpen();
        TargetWatch watch = watchOf(target);
        Deployment deployment = current(target, watch);
        ObservedLock observed = ObservedLock.of(deployment);
        lastSeen.put(target, observed);
        LockFields fields = observed.fields(target);
        LabelSelector labelSelector =
                deployment.getSpec() == null ? null : deployment.getSpec().getSelector();
        String selector = Selectors.render(target, labelSelector);
        int ready = deployment.getStatus() == null || deployment.getStatus().getReadyReplicas() == null
                ? 0
                : deployment.getStatus().getReadyReplicas();
        return new LockRecord(
                fields,
                ready,
                selector,
                selector == null || labelSelector == null ? List.of() : pods(target, watch, selector, labelSelector));
    }

    /**
     * The newest copy of the Deployment we can vouch for without asking the server: the watch's, or
     * the one our own last write or GET returned when the watch has not caught up with it yet. A copy
     * older than one we already saw must never be served: after our own write the engine would think
     * the lock lost, after a lost race it would try the same write again. Without a connected, synced
     * watch, and whenever a resourceVersion is not a number, the server is asked.
     */
    private Deployment current(LockTarget target, @Nullable TargetWatch watch) throws InterruptedException {
        if (watch != null) {
            Deployment cached = watch.cachedDeployment(WATCH_STARTUP);
            if (cached != null) {
                long cachedVersion = Versions.of(cached);
                Deployment known = newest.get(target);
                long knownVersion = Versions.of(known);
                if (cachedVersion != Versions.UNKNOWN) {
                    if (known == null || (knownVersion != Versions.UNKNOWN && cachedVersion >= knownVersion)) {
                        return cached;
                    }
                    if (knownVersion > cachedVersion) {
                        return known;
                    }
                }
            }
        }
        return getDeployment(target);
    }

    private @Nullable TargetWatch watchOf(LockTarget target) {
        synchronized (watches) {
            return watches.get(target);
        }
    }

    /**
     * Remembers {@code deployment} as the newest copy seen straight from the server, unless one newer
     * is known. Only while a watch is open: without one every read asks the server, and a watch
     * opened later lists a state at least as new as any answer we had before.
     */
    private void learned(LockTarget target, Deployment deployment) {
        if (watchOf(target) == null) {
            return;
        }
        long version = Versions.of(deployment);
        newest.compute(target, (t, known) -> {
            if (version == Versions.UNKNOWN) {
                return null; // nothing to compare with from now on: the next reads ask the server
            }
            long knownVersion = Versions.of(known);
            return known == null || knownVersion == Versions.UNKNOWN || version >= knownVersion ? deployment : known;
        });
    }

    private Deployment getDeployment(LockTarget target) throws InterruptedException {
        Deployment deployment = requests.call(
                target,
                "get",
                "deployments",
                () -> client.apps()
                        .deployments()
                        .inNamespace(target.namespace())
                        .withName(target.name())
                        .get());
        if (deployment == null) {
            newest.remove(target);
            throw new io.github.replicalock.LockTargetNotFoundException(target, null);
        }
        learned(target, deployment);
        return deployment;
    }

    private List<PodSnapshot> pods(
            LockTarget target, @Nullable TargetWatch watch, String selector, LabelSelector labelSelector)
            throws InterruptedException {
        if (watch != null) {
            watch.ensurePodWatch(selector);
            List<Pod> cached = watch.cachedPods(selector, WATCH_STARTUP);
            if (cached != null) {
                return PodViews.snapshots(matching(cached, labelSelector), watch.deletedHere());
            }
        }
        List<Pod> listed = requests.call(
                target,
                "list",
                "pods",
                () -> client.pods()
                        .inNamespace(target.namespace())
                        .withLabelSelector(selector)
                        .list()
                        .getItems());
        return PodViews.snapshots(matching(listed, labelSelector), Set.of());
    }

    private static List<Pod> matching(List<Pod> pods, LabelSelector selector) {
        return pods.stream()
                .filter(p -> Selectors.matches(selector, p.getMetadata().getLabels()))
                .toList();
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        checkOpen();
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        ObservedLock hint = lastSeen.get(target);
        ObservedLock stored = hint != null && matches(target, hint, expected) ? hint : null;
        if (takesOver(expected, desired)) {
            // The engine judged the hold expired because its renewals stopped showing, and reads come
            // from the watch: a watch that stalls while staying connected would look exactly like a
            // holder that stopped renewing. The write's conditions cannot tell (they leave out the
            // renewal time on purpose), so the server's copy decides, as a GET before every read did.
            // A newer renewal answers false; the engine then reads this GET's copy and waits anew.
            Deployment current = getDeployment(target);
            ObservedLock fresh = ObservedLock.of(current);
            lastSeen.put(target, fresh);
            if (!fresh.fields(target).equals(expected)) {
                log.debug("{}: not taking over: expected {} but found {}", target, expected, fresh.fields(target));
                return false;
            }
            stored = fresh;
        }
        // Set when a PATCH was sent again after a failure that may have come after the server applied it.
        AtomicBoolean maybeApplied = new AtomicBoolean();
        for (int round = 0; ; round++) {
            Deployment written = patch(target, LockPatch.build(expected, desired, stored), maybeApplied);
            if (written != null) {
                learned(target, written);
                lastSeen.put(target, ObservedLock.of(written));
                return true;
            }
            // Rejected: either the lock changed (a lost race) or our guess of the stored text was
            // wrong (absent keys, another spelling of the same token). The watch usually brings the
            // change that beat us within milliseconds; only what it cannot tell costs a GET.
            if (!maybeApplied.get() && stored != null && lostToWatchedChange(target, stored, expected)) {
                return false;
            }
            Deployment current = getDeployment(target);
            ObservedLock fresh = ObservedLock.of(current);
            lastSeen.put(target, fresh);
            if (!fresh.fields(target).sameLockAs(expected)) {
                if (maybeApplied.get() && fresh.fields(target).sameLockAs(desired)) {
                    // Our own earlier attempt landed before its answer was lost (LockBackend#compareAndSet).
                    return true;
                }
                log.debug(
                        "{}: conditional write lost: expected {} but found {}", target, expected, fresh.fields(target));
                return false;
            }
            if (round + 1 >= MAX_REBUILDS) {
                throw new LockBackendUnavailableException(
                        target,
                        "conditional write rejected " + MAX_REBUILDS
                                + " times although the lock fields were unchanged (replicas, holder, token)",
                        null);
            }
            log.debug("{}: conditional write rejected while the lock fields are unchanged; rebuilding it", target);
            stored = fresh;
        }
    }

    /** A write that puts another holder on a lock still held (replicas stay 1): a takeover. */
    private static boolean takesOver(LockFields expected, LockFields desired) {
        return expected.replicas() > 0
                && desired.replicas() > 0
                && desired.holder() != null
                && !desired.holder().equals(expected.holder());
    }

    /**
     * Whether the watch shows, in a copy newer than the one the rejected patch was built from, lock
     * fields other than {@code expected}: then the race is lost (a copy newer than a real state of
     * the server is a real state too). Unchanged fields, an unknown version or a slow watch leave the
     * question to a GET.
     */
    private boolean lostToWatchedChange(LockTarget target, ObservedLock stored, LockFields expected)
            throws InterruptedException {
        long basedOn = Versions.parse(stored.resourceVersion());
        TargetWatch watch = watchOf(target);
        if (basedOn == Versions.UNKNOWN || watch == null) {
            return false;
        }
        Deployment newer = watch.awaitNewerThan(basedOn, WATCH_CATCH_UP);
        if (newer == null) {
            return false;
        }
        ObservedLock seen = ObservedLock.of(newer);
        if (matches(target, seen, expected)) {
            return false;
        }
        try {
            seen.fields(target);
        } catch (RuntimeException e) {
            return false; // let the GET report the bad annotation
        }
        lastSeen.put(target, seen);
        log.debug("{}: conditional write lost: expected {} but found {}", target, expected, seen.fields(target));
        return true;
    }

    private static boolean matches(LockTarget target, ObservedLock observed, LockFields expected) {
        try {
            return observed.fields(target).sameLockAs(expected);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The patched Deployment, or null if the server rejected the conditions (422, or 409). */
    private @Nullable Deployment patch(LockTarget target, String jsonPatch, AtomicBoolean maybeApplied)
            throws InterruptedException {
        AtomicInteger sent = new AtomicInteger();
        Deployment ref = new DeploymentBuilder()
                .withNewMetadata()
                .withName(target.name())
                .withNamespace(target.namespace())
                .endMetadata()
                .build();
        return requests.call(target, "patch", "deployments", () -> {
            if (sent.getAndIncrement() > 0) {
                maybeApplied.set(true);
            }
            try {
                // resource(item).patch sends the PATCH alone; withName(x).patch would GET first.
                return client.apps()
                        .deployments()
                        .inNamespace(target.namespace())
                        .resource(ref)
                        .patch(PatchContext.of(PatchType.JSON), jsonPatch);
            } catch (KubernetesClientException e) {
                // 422: a test operation failed. 409 cannot come from a JSON Patch without a
                // resourceVersion (the server retries its own conflicts), but a proxy or webhook
                // might send one: it is treated the same way, decided by the re-read.
                if (e.getCode() == 422 || e.getCode() == 409) {
                    log.debug("{}: conditional write rejected: {}", target, e.getCode());
                    return null;
                }
                throw e;
            }
        });
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        checkOpen();
        Objects.requireNonNull(onChange, "onChange");
        TargetWatch watch;
        synchronized (watches) {
            watch = watches.get(target);
            if (watch == null) {
                watch = new TargetWatch(client, target);
                watches.put(target, watch);
                watch.addListener(onChange);
                watch.start();
                startMonitor();
            } else {
                watch.addListener(onChange);
            }
        }
        TargetWatch opened = watch;
        AtomicBoolean open = new AtomicBoolean(true);
        return new Subscription() {
            @Override
            public boolean isConnected() {
                return open.get() && opened.isConnected();
            }

            @Override
            public void close() {
                if (open.compareAndSet(true, false)) {
                    synchronized (watches) {
                        if (opened.removeListener(onChange) && watches.get(target) == opened) {
                            stopUnlessReused(target, opened);
                        }
                    }
                }
            }

            @Override
            public String toString() {
                return "Subscription{" + target + ", connected=" + isConnected() + "}";
            }
        };
    }

    /**
     * Stops a watch nobody listens to any more, after {@link #watchLinger}: the lock algorithm closes
     * its subscription after winning the write and opens another at once to wait for Ready, and a
     * watch that lingers serves the second from its warm caches instead of listing and watching the
     * Deployment and its pods again. Called with {@link #watches} locked.
     */
    private void stopUnlessReused(LockTarget target, TargetWatch idle) {
        ScheduledExecutorService monitor = watchMonitor;
        if (watchLinger.isZero() || monitor == null || monitor.isShutdown()) {
            watches.remove(target);
            newest.remove(target);
            idle.close();
            return;
        }
        ScheduledFuture<?> unused = monitor.schedule(
                () -> {
                    synchronized (watches) {
                        if (!idle.hasListeners() && watches.get(target) == idle) {
                            watches.remove(target);
                            newest.remove(target);
                            idle.close();
                        }
                    }
                },
                watchLinger.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    /** How many targets have a watch open now, lingering ones included; for tests. */
    int openWatches() {
        synchronized (watches) {
            return watches.size();
        }
    }

    /** One daemon thread per backend tells listeners when a watch comes back up. */
    private void startMonitor() {
        if (watchMonitor == null) {
            ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "replica-lock-k8s-watch-monitor");
                t.setDaemon(true);
                return t;
            });
            watchMonitor = executor;
            monitorTask = executor.scheduleWithFixedDelay(
                    this::checkWatches,
                    CONNECTION_CHECK.toMillis(),
                    CONNECTION_CHECK.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private void checkWatches() {
        List<TargetWatch> open;
        synchronized (watches) {
            open = new ArrayList<>(watches.values());
        }
        for (TargetWatch w : open) {
            try {
                w.checkConnection();
            } catch (RuntimeException e) {
                log.debug("watch check failed for {}", w, e);
            }
        }
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        checkOpen();
        List<String> names = List.copyOf(podNames);
        TargetWatch watch;
        synchronized (watches) {
            watch = watches.get(target);
        }
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
    public void recordEvent(LockTarget target, String reason, String message) {
        if (closed.get()) {
            return;
        }
        try {
            ObservedLock seen = lastSeen.get(target);
            String now = Instant.now().toString();
            String text = message.length() <= MAX_EVENT_MESSAGE ? message : message.substring(0, MAX_EVENT_MESSAGE);
            io.fabric8.kubernetes.api.model.Event event = new EventBuilder()
                    .withNewMetadata()
                    .withGenerateName(target.name() + ".")
                    .withNamespace(target.namespace())
                    .endMetadata()
                    .withNewInvolvedObject()
                    .withApiVersion("apps/v1")
                    .withKind("Deployment")
                    .withNamespace(target.namespace())
                    .withName(target.name())
                    .withUid(seen == null ? null : seen.uid())
                    .endInvolvedObject()
                    .withReason(reason)
                    .withMessage(text)
                    .withType(isWarning(reason) ? "Warning" : "Normal")
                    .withNewSource()
                    .withComponent("replica-lock")
                    .endSource()
                    .withReportingComponent("replica-lock")
                    .withFirstTimestamp(now)
                    .withLastTimestamp(now)
                    .withCount(1)
                    .build();
            // Best effort and without retries: an event must never hold up or fail the lock.
            client.v1().events().inNamespace(target.namespace()).resource(event).create();
        } catch (RuntimeException e) {
            if (Requests.interruptedCause(e)) {
                Thread.currentThread().interrupt();
            }
            log.debug("{}: could not record event {}: {}", target, reason, e.toString());
        }
    }

    private static boolean isWarning(String reason) {
        String r = reason.toLowerCase(java.util.Locale.ROOT);
        return r.contains("lost") || r.contains("timeout") || r.contains("fail") || r.contains("notready");
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<TargetWatch> open;
        synchronized (watches) {
            open = new ArrayList<>(watches.values());
            watches.clear();
            newest.clear();
            if (monitorTask != null) {
                monitorTask.cancel(false);
            }
            if (watchMonitor != null) {
                watchMonitor.shutdownNow();
            }
        }
        open.forEach(TargetWatch::close);
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
