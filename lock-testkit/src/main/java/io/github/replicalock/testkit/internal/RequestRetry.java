package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.util.Objects;

/**
 * The fake client's request retry, as the Kubernetes backend's: one SPI call is counted once, then
 * attempted up to {@link #MAX_ATTEMPTS} times while it fails transiently, with a doubling backoff on
 * the cluster clock; what is left is {@link LockBackendUnavailableException}. Every other failure
 * (a typed lock exception, a refused condition) goes straight to the caller.
 */
public final class RequestRetry {
    /** Attempts per request when transient errors are injected, as resilience4j's default. */
    public static final int MAX_ATTEMPTS = 3;

    /** The first backoff after a transient error; doubled after each further one. */
    public static final Duration FIRST_BACKOFF = Duration.ofMillis(10);

    private final ClusterStore store;
    private final ClusterClient client;

    public RequestRetry(ClusterStore store, ClusterClient client) {
        this.store = Objects.requireNonNull(store, "store");
        this.client = Objects.requireNonNull(client, "client");
    }

    /** One attempt of a request, after the server admitted it. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws InterruptedException;
    }

    /** Runs one request through the client's connection, retrying transient failures. */
    public <T> T call(LockTarget target, RequestKind kind, Attempt<T> attempt) throws InterruptedException {
        Objects.requireNonNull(target, "target");
        store.history().countRequest(kind);
        Duration backoff = FIRST_BACKOFF;
        for (int attempts = 1; ; attempts++) {
            try {
                store.admit(client, target, kind);
                return attempt.run();
            } catch (TransientFailure e) {
                if (attempts >= MAX_ATTEMPTS) {
                    throw new LockBackendUnavailableException(
                            target,
                            describe(kind) + " failed " + attempts + " times in a row; last: " + e.getMessage(),
                            e);
                }
                sleep(store.clock(), backoff);
                backoff = backoff.multipliedBy(2);
            }
        }
    }

    private static String describe(RequestKind kind) {
        return switch (kind) {
            case READ -> "read";
            case FRESH_READ -> "fresh read";
            case COMPARE_AND_SET -> "compare-and-set";
            case QUEUE_WRITE -> "queue write";
            case WATCH -> "watch";
            case DELETE_PODS -> "delete pods";
            case EVENT -> "record event";
        };
    }

    /** Waits on the cluster clock: virtual in virtual time. */
    static void sleep(LockClock clock, Duration duration) throws InterruptedException {
        clock.newWakeup().awaitUntil(clock.nanoTime() + duration.toNanos());
    }
}
