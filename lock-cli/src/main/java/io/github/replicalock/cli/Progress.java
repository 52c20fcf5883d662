package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Tells a waiting build on stderr who holds the lock and how long it has waited: when the holder or
 * state changes (looked at every {@link #LOOK_EVERY}), else every {@link #REPEAT_EVERY}. The first look
 * is after {@link #LOOK_EVERY}, so an uncontended acquisition prints nothing and costs no request;
 * later looks come from the backend's watch caches while the acquisition's watch is open.
 */
final class Progress implements AutoCloseable {
    static final Duration LOOK_EVERY = Duration.ofSeconds(2);
    static final Duration REPEAT_EVERY = Duration.ofSeconds(10);
    static final String WAITING_FOR_LOCK = "waiting for";

    private final ReplicaLocks locks;
    private final LockTarget target;
    private final Terminal terminal;
    private final String what;
    private final String self;
    private final Instant start;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "replica-lock-progress");
        t.setDaemon(true);
        return t;
    });
    private @Nullable String lastShown;
    private Instant lastShownAt = Instant.MIN;

    private Progress(ReplicaLocks locks, LockTarget target, Terminal terminal, String what) {
        this.locks = locks;
        this.target = target;
        this.terminal = terminal;
        this.what = what;
        this.self = locks.holder();
        this.start = terminal.clock().instant();
    }

    /** Starts reporting, or does nothing when {@code quiet}. */
    static Progress start(ReplicaLocks locks, LockTarget target, Terminal terminal, boolean quiet, String what) {
        Progress progress = new Progress(locks, target, terminal, what);
        if (!quiet) {
            long every = LOOK_EVERY.toMillis();
            progress.timer.scheduleWithFixedDelay(progress::look, every, every, TimeUnit.MILLISECONDS);
        }
        return progress;
    }

    private void look() {
        LockStatus status;
        try {
            status = locks.status(target);
        } catch (RuntimeException e) {
            return; // progress is best effort; the waiting itself reports real failures
        }
        if (status.state() == LockState.IDLE && what.equals(WAITING_FOR_LOCK)) {
            return; // free: the acquisition is taking it right now
        }
        Instant now = terminal.clock().instant();
        boolean ours = status.holder().filter(self::equals).isPresent();
        String seen = status.state() + "/" + status.holder().orElse("") + "/" + status.fencingToken();
        if (Objects.equals(seen, lastShown)
                && Duration.between(lastShownAt, now).compareTo(REPEAT_EVERY) < 0) {
            return;
        }
        lastShown = seen;
        lastShownAt = now;
        terminal.error((ours ? "waiting for a Ready builder pod of" : what) + " " + target + " for "
                + Durations.format(Duration.between(start, now)) + ": " + StatusView.phrase(status, now));
    }

    /** How long since the start. */
    Duration elapsed() {
        return Duration.between(start, terminal.clock().instant());
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
