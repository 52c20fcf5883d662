package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockEvent;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events on the Deployment ({@code kubectl describe deployment} tells the lock's story):
 * best effort and without retries, so that an event never holds up or fails the lock. The event's
 * kind gives the reason and the type ({@code Warning} for {@link LockEvent.Severity#WARNING}, else
 * {@code Normal}): nothing here guesses either from text.
 */
public final class LockEvents {
    private static final Logger log = LoggerFactory.getLogger(LockEvents.class);
    private static final int MAX_EVENT_MESSAGE = 1024;

    private final KubernetesClient client;

    public LockEvents(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Creates one event; failures are logged at DEBUG, never thrown.
     *
     * @param uid the Deployment's uid, when known, so that the event is listed with it
     */
    public void record(LockTarget target, @Nullable String uid, LockEvent lockEvent) {
        try {
            String now = Instant.now().toString();
            String message = lockEvent.message();
            String text = message.length() <= MAX_EVENT_MESSAGE ? message : message.substring(0, MAX_EVENT_MESSAGE);
            Event event = new EventBuilder()
                    .withNewMetadata()
                    .withGenerateName(target.name() + ".")
                    .withNamespace(target.namespace())
                    .endMetadata()
                    .withNewInvolvedObject()
                    .withApiVersion("apps/v1")
                    .withKind("Deployment")
                    .withNamespace(target.namespace())
                    .withName(target.name())
                    .withUid(uid)
                    .endInvolvedObject()
                    .withReason(lockEvent.reason())
                    .withMessage(text)
                    .withType(type(lockEvent.severity()))
                    .withNewSource()
                    .withComponent("replica-lock")
                    .endSource()
                    .withReportingComponent("replica-lock")
                    .withFirstTimestamp(now)
                    .withLastTimestamp(now)
                    .withCount(1)
                    .build();
            client.v1().events().inNamespace(target.namespace()).resource(event).create();
        } catch (RuntimeException e) {
            if (Requests.interruptedCause(e)) {
                Thread.currentThread().interrupt();
            }
            log.debug("{}: could not record event {}: {}", target, lockEvent.reason(), e.toString());
        }
    }

    /** The Kubernetes Event type: the API knows only these two. */
    static String type(LockEvent.Severity severity) {
        return switch (severity) {
            case NORMAL -> "Normal";
            case WARNING -> "Warning";
        };
    }
}
