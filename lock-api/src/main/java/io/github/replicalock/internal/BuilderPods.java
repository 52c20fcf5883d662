package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The two waits for a held lock's builder pods: until one is Ready, and until all are gone. */
final class BuilderPods {
    private static final Logger log = LoggerFactory.getLogger(BuilderPods.class);

    private BuilderPods() {}

    /**
     * Waits up to the ready timeout for a usable pod that is not one of {@code oldPods} (deleted
     * first: a takeover's builder is never one a zombie build still runs in).
     *
     * @param ours the lock as this holder wrote it
     * @param stillWanted throws if the wait should stop (the lock was lost, its ReplicaLocks closed)
     * @param onChanged told, and expected to throw, when the store shows another lock than {@code ours}
     * @return the names of the usable pods
     * @throws PodNotReadyException saying pod by pod why none is usable, after the ready timeout
     */
    static List<String> awaitReady(
            LockSession session,
            TargetObserver observer,
            LockFields ours,
            Set<String> oldPods,
            Runnable stillWanted,
            Consumer<LockFields> onChanged)
            throws InterruptedException {
        LockTarget target = observer.target();
        Duration timeout = session.options.readyTimeout();
        if (!oldPods.isEmpty()) {
            session.backend.deletePods(target, oldPods);
        }
        long deadline = session.clock.nanoTime() + Durations.saturatedNanos(timeout);
        List<String> ready = observer.await(
                (record, readStart, readEnd) -> {
                    stillWanted.run();
                    if (!record.fields().sameLockAs(ours)) {
                        onChanged.accept(record.fields());
                    }
                    return usable(record, oldPods);
                },
                deadline,
                last -> notReady(session, target, ours.token(), last, oldPods, timeout));
        log.info("{}: builder ready {} for '{}' token {}", target, ready, session.holder, ours.token());
        return ready;
    }

    private static @Nullable List<String> usable(LockRecord record, Set<String> oldPods) {
        List<String> ready = record.pods().stream()
                .filter(p -> p.usable() && !oldPods.contains(p.name()))
                .map(PodSnapshot::name)
                .toList();
        return ready.isEmpty() ? null : ready;
    }

    private static PodNotReadyException notReady(
            LockSession session,
            LockTarget target,
            long token,
            LockRecord last,
            Set<String> oldPods,
            Duration timeout) {
        String reason = LockStates.whyNotReady(last, oldPods);
        log.warn("{}: no builder pod Ready within {}: {}", target, timeout, reason);
        session.backend.recordEvent(
                target,
                new LockEvent(
                        LockEvent.Kind.NOT_READY,
                        "builder pod of '" + session.holder + "' (token " + token + ") not Ready within " + timeout
                                + ": " + reason + "; releasing"));
        return new PodNotReadyException(target, timeout, reason);
    }

    /**
     * Waits up to the release timeout for the released lock's pods to be gone; an interrupt ends
     * the wait and is kept.
     *
     * @throws ReleaseTimeoutException naming the pods that outlived it
     */
    static void awaitGone(LockSession session, LockTarget target) {
        Duration timeout = session.options.releaseTimeout();
        long deadline = session.clock.nanoTime() + Durations.saturatedNanos(timeout);
        try (TargetObservers.Use use = session.observers.observe(target)) {
            // Replicas back at 1 means a new hold (only a legacy scale can start one before our pods are gone).
            use.observer()
                    .await(
                            (record, readStart, readEnd) ->
                                    record.pods().isEmpty() || record.fields().replicas() != 0 ? record : null,
                            deadline,
                            last -> new ReleaseTimeoutException(target, timeout, LockStates.podNames(last.pods())));
        } catch (LockTargetNotFoundException e) {
            // Deleted with its pods: nothing left to wait for.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
