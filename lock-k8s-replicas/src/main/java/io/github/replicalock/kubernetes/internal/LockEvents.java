package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.replicalock.LockTarget;
import java.time.Instant;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events on the Deployment ({@code kubectl describe deployment} tells the lock's story):
 * best effort and without retries, so that an event never holds up or fails the lock.
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
    public void record(LockTarget target, @Nullable String uid, String reason, String message) {
        try {
            String now = Instant.now().toString();
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
            client.v1().events().inNamespace(target.namespace()).resource(event).create();
        } catch (RuntimeException e) {
            if (Requests.interruptedCause(e)) {
                Thread.currentThread().interrupt();
            }
            log.debug("{}: could not record event {}: {}", target, reason, e.toString());
        }
    }

    private static boolean isWarning(String reason) {
        String r = reason.toLowerCase(Locale.ROOT);
        return r.contains("lost") || r.contains("timeout") || r.contains("fail") || r.contains("notready");
    }
}
