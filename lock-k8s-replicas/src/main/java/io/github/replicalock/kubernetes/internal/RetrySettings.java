package io.github.replicalock.kubernetes.internal;

import java.time.Duration;

/**
 * Validated retry and timing settings (see the public builder for what each means).
 *
 * @param maxAttempts attempts per request, the first included
 * @param initialBackoff the wait before the first retry
 * @param maxBackoff the cap of every wait
 * @param maxRetryDuration the time after which no further attempt is started
 * @param requestTimeout the timeout of one HTTP request
 */
public record RetrySettings(
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxRetryDuration,
        Duration requestTimeout) {}
