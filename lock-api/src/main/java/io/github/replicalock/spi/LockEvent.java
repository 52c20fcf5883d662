package io.github.replicalock.spi;

import java.util.Objects;

/**
 * Something the lock engine reports about a Deployment, for the people who read its story ({@code
 * kubectl describe deployment}). The engine decides what happened and how serious it is; a backend
 * only stores it, under {@link Kind#reason()} and with {@link Kind#severity()} as its type.
 *
 * <pre>{@code
 * backend.recordEvent(target, new LockEvent(LockEvent.Kind.LOST, "lock lost: token 8 took over"));
 *
 * // in a backend:
 * String type = event.severity() == LockEvent.Severity.WARNING ? "Warning" : "Normal";
 * create(event.reason(), type, event.message());
 * }</pre>
 *
 * @param kind what happened
 * @param message one human-readable sentence; a backend may shorten it to what its store allows
 */
public record LockEvent(Kind kind, String message) {
    /** Validates the event. */
    public LockEvent {
        Objects.requireNonNull(kind, "kind must not be null");
        Objects.requireNonNull(message, "message must not be null");
    }

    /** How much an event asks for attention; a Kubernetes Event's {@code type}. */
    public enum Severity {
        /** Part of a lock's normal life. */
        NORMAL,
        /** A build ran or may have run without its lock, or could not start: someone should look. */
        WARNING
    }

    /**
     * What the engine reports. The reasons are the text users and scripts match in {@code kubectl
     * describe} and {@code kubectl get events}: they never change.
     */
    public enum Kind {
        /** A free lock was acquired. */
        ACQUIRED("Acquired", Severity.NORMAL),
        /** A held lock was given back. */
        RELEASED("Released", Severity.NORMAL),
        /** A hold whose lease expired was taken over; the old holder's pods are replaced. */
        TAKEN_OVER("TakenOver", Severity.NORMAL),
        /** A holder learned it no longer holds its lock. */
        LOST("Lost", Severity.WARNING),
        /** The builder pod was not Ready in time; the acquisition was rolled back. */
        NOT_READY("NotReady", Severity.WARNING),
        /** An operator broke a hold ({@link ForceRelease}); reserved for the queue's force-release. */
        FORCE_RELEASED("ForceReleased", Severity.WARNING);

        private final String reason;
        private final Severity severity;

        Kind(String reason, Severity severity) {
            this.reason = reason;
            this.severity = severity;
        }

        /** The short CamelCase reason, such as {@code TakenOver}. */
        public String reason() {
            return reason;
        }

        /** How much this kind of event asks for attention. */
        public Severity severity() {
            return severity;
        }
    }

    /** {@link Kind#reason()} of this event's kind. */
    public String reason() {
        return kind.reason();
    }

    /** {@link Kind#severity()} of this event's kind. */
    public Severity severity() {
        return kind.severity();
    }
}
