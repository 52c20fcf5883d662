package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code replica-lock wait-idle DEPLOYMENT --timeout D}: waits until nobody holds the lock and its pod is gone. */
@Command(
        name = "wait-idle",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        header = "Wait until the lock is IDLE (READY 0/0: free, the last builder pod gone), without taking it.",
        description = {"%nWoken by a watch on the deployment and its pods; polls only while the watch is down.%n"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class WaitIdleCommand extends DeploymentCommand {
    /** The poll while the watch is down, and the longest sleep between two looks. */
    private static final Duration FALLBACK_POLL = Duration.ofSeconds(5);

    @Option(names = "--timeout", paramLabel = "DURATION", description = "How long to wait (default 10m).")
    @Nullable
    String timeout;

    @Option(
            names = "--busy-exit-code",
            paramLabel = "CODE",
            description = "The exit code when the timeout passes first (default 75).")
    String busyExitCode = Integer.toString(ExitCodes.BUSY);

    WaitIdleCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        LockTarget target = cluster.target(deployment);
        Duration limit;
        try {
            limit = timeout == null ? RunCommand.DEFAULT_WAIT : Durations.parse(timeout);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(target + ": --timeout " + e.getMessage());
        }
        if (limit.isZero() || limit.isNegative()) {
            throw CliFailure.usage(target + ": --timeout '" + timeout + "' must be positive");
        }
        int busy = RunCommand.exitCode(target, "--busy-exit-code", busyExitCode);
        try (ClusterOptions.Cluster connection = cluster.connect(deployment);
                ReplicaLocks locks = observe(connection)) {
            LockStatus status = locks.status(target);
            if (status.state() == LockState.UNKNOWN) {
                throw Unknowns.failure(connection.backend(), status);
            }
            if (status.state() == LockState.IDLE) {
                return ExitCodes.OK;
            }
            long deadline = System.nanoTime() + limit.toNanos();
            Semaphore changed = new Semaphore(0);
            try (Subscription watch = connection.backend().watch(target, changed::release);
                    Progress progress = Progress.start(locks, target, terminal, cluster.quiet, "waiting for idle")) {
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new CliFailure(
                                busy,
                                target + ": not idle within " + Durations.format(limit) + ", "
                                        + StatusView.phrase(
                                                status, terminal.clock().instant()));
                    }
                    long sleep = watch.isConnected() ? left : Math.min(left, FALLBACK_POLL.toNanos());
                    if (changed.tryAcquire(sleep, TimeUnit.NANOSECONDS)) {
                        changed.drainPermits();
                    }
                    status = locks.status(target);
                    if (status.state() == LockState.IDLE) {
                        terminal.info(cluster.quiet, target + ": idle after " + Durations.format(progress.elapsed()));
                        return ExitCodes.OK;
                    }
                    if (status.state() == LockState.UNKNOWN) {
                        throw Unknowns.failure(connection.backend(), status);
                    }
                }
            }
        }
    }
}
