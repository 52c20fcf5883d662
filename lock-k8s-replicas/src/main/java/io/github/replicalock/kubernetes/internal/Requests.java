package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one API request with retries for transient failures and maps what is left to the lock
 * exceptions.
 *
 * <p>Transient, retried with exponential backoff and jitter, bounded by attempts and by time: HTTP
 * 5xx, 429 and 408 (waiting at least the server's {@code retryAfterSeconds}), no response at all
 * (connection refused or reset, I/O errors) and timeouts. Never retried: 400, 401, 403, 404, 409,
 * 422 and other 4xx; the caller handles the statuses that are protocol decisions (422 and 409 on a
 * conditional write, 404 on a pod delete) inside the request itself.
 *
 * <p>fabric8's own request retry is switched off on the client this backend uses (see {@code
 * KubernetesReplicaBackend}), so attempts do not multiply.
 */
public final class Requests {
    private static final Logger log = LoggerFactory.getLogger(Requests.class);

    private final RetrySettings settings;
    private final RandomGenerator random;

    public Requests(RetrySettings settings, RandomGenerator random) {
        this.settings = settings;
        this.random = random;
    }

    /** The settings in force. */
    public RetrySettings settings() {
        return settings;
    }

    /**
     * Runs {@code request}, retrying transient failures.
     *
     * @param verb the RBAC verb, for messages ({@code get}, {@code patch}...)
     * @param resource the RBAC resource, for messages ({@code deployments}, {@code pods}...)
     * @throws LockTargetNotFoundException on 404
     * @throws LockAccessDeniedException on 403
     * @throws LockBackendUnavailableException when transient failures outlast the retries
     * @throws LockException on any other refusal, with the HTTP code
     * @throws InterruptedException if interrupted while waiting or while the request ran
     */
    public <T> T call(LockTarget target, String verb, String resource, Supplier<T> request)
            throws InterruptedException {
        Attempts attempts = new Attempts(System.nanoTime());
        RetryConfig config = RetryConfig.<T>custom()
                .maxAttempts(settings.maxAttempts())
                .retryOnException(t -> shouldRetry(target, verb, resource, attempts, t))
                .intervalBiFunction((n, either) -> attempts.nextWaitMillis)
                .failAfterMaxAttempts(false)
                .writableStackTraceEnabled(false)
                .build();
        Retry retry = Retry.of("replica-lock-k8s", config);
        try {
            return retry.executeSupplier(request);
        } catch (RuntimeException e) {
            if (Thread.interrupted() || interruptedCause(e)) {
                InterruptedException interrupted =
                        new InterruptedException("interrupted during " + verb + " " + resource + " for " + target);
                interrupted.initCause(e);
                throw interrupted;
            }
            throw map(target, verb, resource, e, attempts);
        }
    }

    private boolean shouldRetry(LockTarget target, String verb, String resource, Attempts attempts, Throwable t) {
        attempts.count++;
        if (!isTransient(t) || Thread.currentThread().isInterrupted() || interruptedCause(t)) {
            return false;
        }
        long max = settings.maxBackoff().toMillis();
        long factor = 1L << Math.min(30, attempts.count - 1);
        long initial = settings.initialBackoff().toMillis();
        long base = initial > max / factor ? max : Math.min(max, initial * factor);
        // "Equal jitter": half the backoff fixed, half random, so waits never collapse to zero.
        long wait = base / 2 + (base / 2 > 0 ? random.nextLong(base / 2 + 1) : 0);
        long retryAfter = retryAfterMillis(t);
        wait = Math.max(wait, retryAfter);
        long elapsedMillis = (System.nanoTime() - attempts.startNanos) / 1_000_000;
        if (elapsedMillis + wait > settings.maxRetryDuration().toMillis()) {
            log.debug(
                    "{}: not retrying {} {}: waiting {} ms would exceed maxRetryDuration {} ({} ms spent)",
                    target,
                    verb,
                    resource,
                    wait,
                    settings.maxRetryDuration(),
                    elapsedMillis);
            attempts.outOfTime = true;
            return false;
        }
        attempts.nextWaitMillis = wait;
        if (attempts.count < settings.maxAttempts()) {
            log.debug(
                    "{}: {} {} failed (attempt {} of {}: {}), retrying in {} ms{}",
                    target,
                    verb,
                    resource,
                    attempts.count,
                    settings.maxAttempts(),
                    describe(t),
                    wait,
                    retryAfter > 0 ? " (server asked for " + retryAfter + " ms)" : "");
        }
        return true;
    }

    /** 5xx, 429, 408, no response, I/O errors and timeouts. */
    static boolean isTransient(Throwable t) {
        if (t instanceof KubernetesClientException k) {
            int code = k.getCode();
            if (code >= 500 || code == 429 || code == 408) {
                return true;
            }
            if (code > 0) {
                return false;
            }
        }
        if (interruptedCause(t)) {
            return false;
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SocketTimeoutException || c instanceof TimeoutException) {
                return true;
            }
            if (c instanceof InterruptedIOException) {
                return false; // an interrupted read, not a network failure
            }
            if (c instanceof IOException || c instanceof UncheckedIOException) {
                return true; // connection refused or reset, and java.net.http.HttpTimeoutException
            }
        }
        // No HTTP code and no I/O cause (code 0 or -1): the request got no answer.
        return t instanceof KubernetesClientException k && k.getCode() <= 0 && !interruptedCause(t);
    }

    private static long retryAfterMillis(Throwable t) {
        if (t instanceof KubernetesClientException k) {
            Status status = k.getStatus();
            StatusDetails details = status == null ? null : status.getDetails();
            Integer seconds = details == null ? null : details.getRetryAfterSeconds();
            if (seconds != null && seconds > 0) {
                return seconds * 1000L;
            }
        }
        return 0;
    }

    /** True if an InterruptedException is in the cause chain (fabric8 wraps it). */
    public static boolean interruptedCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InterruptedException) {
                return true;
            }
        }
        return false;
    }

    private RuntimeException map(
            LockTarget target, String verb, String resource, RuntimeException e, Attempts attempts) {
        if (e instanceof LockException) {
            return e;
        }
        int code = e instanceof KubernetesClientException k ? k.getCode() : 0;
        return switch (code) {
            case 403 -> new LockAccessDeniedException(target, verb, resource, e);
            case 404 -> new LockTargetNotFoundException(target, e);
            case 401 ->
                new LockException(
                        target,
                        verb + " " + resource + " unauthorized (HTTP 401): the API server rejected the credentials",
                        e);
            default -> {
                if (isTransient(e)) {
                    yield new LockBackendUnavailableException(
                            target,
                            verb + " " + resource + " failed after " + attempts.count + " attempt(s) in "
                                    + (System.nanoTime() - attempts.startNanos) / 1_000_000 + " ms"
                                    + (attempts.outOfTime
                                            ? " (maxRetryDuration " + settings.maxRetryDuration() + " reached)"
                                            : "")
                                    + ": " + describe(e),
                            e);
                }
                yield new LockException(target, verb + " " + resource + " refused: " + describe(e), e);
            }
        };
    }

    /** A short description of a failure: HTTP code and Status message, or the I/O cause. */
    public static String describe(Throwable t) {
        if (t instanceof KubernetesClientException k) {
            Status status = k.getStatus();
            if (k.getCode() > 0) {
                String message = status != null && status.getMessage() != null ? status.getMessage() : k.getMessage();
                return "HTTP " + k.getCode() + (message == null ? "" : " " + message);
            }
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == t
                ? String.valueOf(t.getMessage())
                : t.getClass().getSimpleName() + " caused by " + root.getClass().getSimpleName() + ": "
                        + root.getMessage();
    }

    private static final class Attempts {
        final long startNanos;
        int count;
        long nextWaitMillis;
        boolean outOfTime;

        Attempts(long startNanos) {
            this.startNanos = startNanos;
        }
    }

    /** The HTTP code of a fabric8 failure, or 0. */
    public static int code(@Nullable Throwable t) {
        return t instanceof KubernetesClientException k ? k.getCode() : 0;
    }
}
