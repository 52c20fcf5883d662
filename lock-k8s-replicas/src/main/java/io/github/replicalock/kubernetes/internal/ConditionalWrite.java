package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.QueueChange;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend's compare-and-set: one JSON Patch whose {@code test} operations make it conditional
 * on the server ({@link LockPatch}); on a rejection, the watch or one GET tells a lost race from a
 * stale guess of the stored text, and a write whose answer was lost is recognised as our own.
 */
public final class ConditionalWrite {
    private static final Logger log = LoggerFactory.getLogger(ConditionalWrite.class);

    /** How often a conditional write is rebuilt from a fresh read while the lock fields still match. */
    private static final int MAX_REBUILDS = 5;

    /**
     * How long a rejected write waits for the watch to show what beat it. Only losers wait, and they
     * go on to wait for the lock anyway.
     */
    private static final Duration WATCH_CATCH_UP = Duration.ofMillis(500);

    private final KubernetesClient client;
    private final Requests requests;
    private final CoherentReads reads;
    private final TargetWatches watches;

    public ConditionalWrite(KubernetesClient client, Requests requests, CoherentReads reads, TargetWatches watches) {
        this.client = client;
        this.requests = requests;
        this.reads = reads;
        this.watches = watches;
    }

    /** See {@link io.github.replicalock.spi.LockBackend#compareAndSet}. */
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        return write(target, expected, desired, false);
    }

    /** See {@link io.github.replicalock.spi.LockBackend#takeOver}: also tested on the renewal's text. */
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException {
        return write(target, expected, desired, true);
    }

    private boolean write(LockTarget target, LockFields expected, LockFields desired, boolean renewalTested)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        ObservedLock hint = reads.lastSeen(target);
        // What a takeover needs beyond the conditions (a renewal the watch held back) is the
        // engine's to ask, by LockBackend#readFresh: this write never guesses from its arguments.
        ObservedLock stored = hint != null && matches(target, hint, expected, renewalTested) ? hint : null;
        if (renewalTested && stored == null) {
            // The renewal's condition tests the stored text exactly, so it needs a copy to read it from.
            stored = reads.seen(target, reads.get(target));
            if (!matches(target, stored, expected, true)) {
                return false;
            }
        }
        // Set when a PATCH was sent again after a failure that may have come after the server applied it.
        AtomicBoolean maybeApplied = new AtomicBoolean();
        for (int round = 0; ; round++) {
            Deployment written = patch(target, LockPatch.build(expected, desired, stored, renewalTested), maybeApplied);
            if (written != null) {
                reads.learned(target, written);
                reads.seen(target, written);
                return true;
            }
            // Rejected: either the lock changed (a lost race) or our guess of the stored text was
            // wrong (absent keys, another spelling of the same token). The watch usually brings the
            // change that beat us within milliseconds; only what it cannot tell costs a GET.
            if (!maybeApplied.get() && stored != null && lostToWatchedChange(target, stored, expected, renewalTested)) {
                return false;
            }
            ObservedLock fresh = reads.seen(target, reads.get(target));
            if (!matches(target, fresh, expected, renewalTested)) {
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

    /** See {@link io.github.replicalock.spi.LockBackend#compareAndSetQueue}. */
    public boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        return queueWrite(target, null, null, change, false);
    }

    /** The acquiring write of a queued waiter: the lock fields and the queue change in one patch. */
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange change)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        return queueWrite(target, expected, desired, change, false);
    }

    /** The queued waiter's takeover: the acquiring queue write, also tested on the renewal's text. */
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange change)
            throws InterruptedException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(desired, "desired");
        return queueWrite(target, expected, desired, change, true);
    }

    /**
     * One JSON Patch testing the annotations {@code change} tests (and the lock fields when {@code
     * expected} is not null), built from the watch's copy when it shows what the writer expects,
     * else from a GET; a rejection is told from a stale copy by a GET, as for the lock's own writes.
     */
    private boolean queueWrite(
            LockTarget target,
            @Nullable LockFields expected,
            @Nullable LockFields desired,
            QueueChange change,
            boolean renewalTested)
            throws InterruptedException {
        Objects.requireNonNull(change, "change");
        ObservedLock hint = reads.lastSeen(target);
        ObservedLock stored = hint != null && queueMatches(target, hint, expected, change, renewalTested) ? hint : null;
        if (stored == null) {
            stored = reads.seen(target, reads.get(target));
            if (!queueMatches(target, stored, expected, change, renewalTested)) {
                return false;
            }
        }
        AtomicBoolean maybeApplied = new AtomicBoolean();
        for (int round = 0; ; round++) {
            Deployment written =
                    patch(target, LockPatch.buildQueue(expected, desired, change, stored, renewalTested), maybeApplied);
            if (written != null) {
                reads.learned(target, written);
                reads.seen(target, written);
                return true;
            }
            ObservedLock fresh = reads.seen(target, reads.get(target));
            if (!queueMatches(target, fresh, expected, change, renewalTested)) {
                // Our own earlier attempt may have landed before its answer was lost. An acquisition
                // is known by its hold (our holder, a new token): the queue may have changed since.
                return maybeApplied.get()
                        && (desired != null
                                ? matches(target, fresh, desired)
                                : change.isAppliedIn(fresh.annotationsOrEmpty()));
            }
            if (round + 1 >= MAX_REBUILDS) {
                throw new LockBackendUnavailableException(
                        target,
                        "queue write rejected " + MAX_REBUILDS + " times although the queue and lock were unchanged",
                        null);
            }
            stored = fresh;
        }
    }

    private static boolean queueMatches(
            LockTarget target,
            ObservedLock observed,
            @Nullable LockFields lock,
            QueueChange change,
            boolean renewalTested) {
        if (!change.testsHoldOn(observed.annotationsOrEmpty())) {
            return false;
        }
        return lock == null || matches(target, observed, lock, renewalTested);
    }

    /**
     * Whether the watch shows, in a copy newer than the one the rejected patch was built from, lock
     * fields other than {@code expected} (or, for a takeover, another renewal): then the race is
     * lost (a copy newer than a real state of the server is a real state too). Unchanged fields, an
     * unknown version or a slow watch leave the question to a GET.
     */
    private boolean lostToWatchedChange(
            LockTarget target, ObservedLock stored, LockFields expected, boolean renewalTested)
            throws InterruptedException {
        long basedOn = Versions.parse(stored.resourceVersion());
        TargetWatch watch = watches.of(target);
        if (basedOn == Versions.UNKNOWN || watch == null) {
            return false;
        }
        Deployment newer = watch.awaitNewerThan(basedOn, WATCH_CATCH_UP);
        if (newer == null) {
            return false;
        }
        ObservedLock seen = ObservedLock.of(newer);
        if (matches(target, seen, expected, renewalTested)) {
            return false;
        }
        try {
            seen.fields(target);
        } catch (RuntimeException e) {
            return false; // let the GET report the bad annotation
        }
        reads.seen(target, newer);
        log.debug("{}: conditional write lost: expected {} but found {}", target, expected, seen.fields(target));
        return true;
    }

    private static boolean matches(LockTarget target, ObservedLock observed, LockFields expected) {
        return matches(target, observed, expected, false);
    }

    /** Replicas, holder and token as {@code expected}'s, and the renewal instant too when tested. */
    private static boolean matches(
            LockTarget target, ObservedLock observed, LockFields expected, boolean renewalTested) {
        try {
            LockFields fields = observed.fields(target);
            return fields.sameLockAs(expected)
                    && (!renewalTested || Objects.equals(fields.renewed(), expected.renewed()));
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
}
