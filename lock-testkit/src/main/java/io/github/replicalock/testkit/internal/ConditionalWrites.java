package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockAnnotations;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.QueueWrite;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The fake API server's side of conditional writes, each decided under the store's lock as one
 * API server serialises writes: an update carrying the resource version read (the lock's
 * compare-and-set, as a PUT with a resourceVersion), and a write tested on the queue's annotations
 * ({@link QueueChange}), with or without the lock fields (a JSON Patch with {@code test} operations).
 */
public final class ConditionalWrites {
    /** What one attempt of a queue-tested write found. */
    public enum Outcome {
        APPLIED,
        /** A test failed: the lock fields or the queue text differ from what the writer expected. */
        DIFFERS,
        /** Someone (the controller) wrote in between; retry after a re-read. */
        CONFLICT
    }

    private final ClusterStore store;

    ConditionalWrites(ClusterStore store) {
        this.store = store;
    }

    /**
     * An update carrying the resource version read: applied if nothing wrote the Deployment since
     * (the annotations' text is {@link LockAnnotations}'), else a conflict (false), as a 409.
     */
    public boolean ifVersion(String client, LockTarget target, long version, LockFields desired) {
        // Formatted before taking the lock: every other client's request waits while it is held.
        Map<String, @Nullable String> text = lockText(desired);
        LockFields stored = LockAnnotations.stored(desired);
        boolean applied = false;
        store.lock().lock();
        try {
            StoredDeployment deployment = store.found(target);
            if (store.faults().takeConflict()) {
                // What a real conflict is: someone (the controller) wrote in between.
                deployment.resourceVersion = store.nextResourceVersion();
            } else if (deployment.resourceVersion == version) {
                applyLock(client, deployment, text, stored);
                deployment.resourceVersion = store.nextResourceVersion();
                applied = true;
            }
        } finally {
            store.lock().unlock();
        }
        delivered(target);
        return applied;
    }

    /**
     * A write tested on the annotations {@code change} tests (each exact text, or absent) and, when
     * {@code expected} is not null, on the lock fields too: one atomic check of both, then {@code
     * change}'s writes and, when {@code desired} is not null, the lock fields written together.
     */
    public Outcome ifQueue(
            String client,
            LockTarget target,
            @Nullable LockFields expected,
            boolean renewalTested,
            QueueChange change,
            @Nullable LockFields desired) {
        Objects.requireNonNull(change, "change");
        Map<String, @Nullable String> text = desired == null ? null : lockText(desired);
        LockFields stored = desired == null ? null : LockAnnotations.stored(desired);
        Outcome outcome;
        store.lock().lock();
        try {
            StoredDeployment deployment = store.found(target);
            if (store.faults().takeConflict()) {
                deployment.resourceVersion = store.nextResourceVersion();
                outcome = Outcome.CONFLICT;
            } else if ((expected != null && !matches(deployment.lockFields(), expected, renewalTested))
                    || !change.testsHoldOn(deployment.annotations)) {
                outcome = Outcome.DIFFERS;
            } else {
                LockQueue before = deployment.queue();
                LockWrite lockWrite =
                        text == null || stored == null ? null : applyLock(client, deployment, text, stored);
                change.writes().forEach((key, value) -> {
                    if (value == null) {
                        deployment.annotations.remove(key);
                    } else {
                        deployment.annotations.put(key, value);
                    }
                });
                deployment.queueCache = null;
                LockQueue after = deployment.queue();
                deployment.resourceVersion = store.nextResourceVersion();
                store.history()
                        .recordQueueWrite(
                                new QueueWrite(store.clock().now(), target, client, before, after, lockWrite));
                outcome = Outcome.APPLIED;
            }
        } finally {
            store.lock().unlock();
        }
        if (outcome != Outcome.DIFFERS) {
            delivered(target);
        }
        return outcome;
    }

    /**
     * Whether {@code stored} is the lock {@code expected} describes: replicas, holder and token, and
     * the renewal instant too when {@code renewalTested} (a takeover, {@code LockBackend#takeOver}).
     */
    public static boolean matches(LockFields stored, LockFields expected, boolean renewalTested) {
        return stored.sameLockAs(expected) && (!renewalTested || Objects.equals(stored.renewed(), expected.renewed()));
    }

    private static Map<String, @Nullable String> lockText(LockFields desired) {
        Map<String, @Nullable String> text = new LinkedHashMap<>(8);
        LockAnnotations.write(desired, text::put);
        return text;
    }

    /** Writes the lock fields; the store's lock held. */
    private LockWrite applyLock(
            String client, StoredDeployment deployment, Map<String, @Nullable String> text, LockFields stored) {
        LockFields before = deployment.lockFields();
        deployment.replicas = stored.replicas();
        text.forEach((key, value) -> {
            if (value == null) {
                deployment.annotations.remove(key);
            } else {
                deployment.annotations.put(key, value);
            }
        });
        // A write without a force-release record leaves the stored one (the audit trail) in place.
        LockFields after = stored.forceReleased() == null ? stored.withForceReleased(before.forceReleased()) : stored;
        deployment.fieldsCache = after;
        LockWrite write = store.history().recordWrite(store.clock().now(), deployment.target, client, before, after);
        store.controller().reconcile(deployment);
        return write;
    }

    private void delivered(LockTarget target) {
        store.history().deliverWrites();
        store.watches().changed(target);
    }
}
