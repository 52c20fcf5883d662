package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import java.time.Instant;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code replica-lock status DEPLOYMENT [-o text|json]}: what kubectl would show, plus the lock's annotations. */
@Command(
        name = "status",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        header = "Show the lock: READY, state, holder, fencing token, lease left, queued waiters.",
        description = {
            "%nText is one kubectl-like line under a header; JSON is one object for scripts:",
            "  namespace, deployment, state (IDLE STARTING ACTIVE RELEASING UNKNOWN), ready, desiredReplicas,",
            "  readyReplicas, holder, token, acquired, renewed, leaseSeconds, leaseLeftSeconds, reason, and",
            "  waiters (head first: identity, enqueued, waitedSeconds) only while someone is queued.",
            "The lease left is by this machine's clock from the holder's last renewal (informational).",
            "Exits 0 when the deployment is a lock, 66 when it is not found, 65 when it is not a lock",
            "(the status is printed in every case).%n"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class StatusCommand extends DeploymentCommand {
    @Option(
            names = {"-o", "--output"},
            paramLabel = "FORMAT",
            description = "text (default) or json.")
    String output = "text";

    StatusCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        LockTarget target = cluster.target(deployment);
        String format = output.strip().toLowerCase(Locale.ROOT);
        if (!format.equals("text") && !format.equals("json")) {
            throw CliFailure.usage(target + ": -o '" + output + "' is not an output format: expected text or json");
        }
        try (ClusterOptions.Cluster connection = cluster.connect(deployment);
                ReplicaLocks locks = observe(connection)) {
            LockStatus status = locks.status(target);
            Instant now = terminal.clock().instant();
            terminal.out().println(format.equals("json") ? StatusView.json(status, now) : StatusView.text(status, now));
            terminal.out().flush();
            if (status.state() == LockState.UNKNOWN) {
                throw Unknowns.failure(connection.backend(), status);
            }
            return ExitCodes.OK;
        }
    }
}
