package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code replica-lock status DEPLOYMENT [-o text|json]}: what kubectl would show, plus the lock's annotations. */
@Command(
        name = "status",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        header = "Show the lock: READY, state, holder, fencing token, lease left.",
        description = {
            "%nText is one kubectl-like line under a header; JSON is one object for scripts:",
            "  namespace, deployment, state (IDLE STARTING ACTIVE RELEASING UNKNOWN), ready, desiredReplicas,",
            "  readyReplicas, holder, token, acquired, renewed, leaseSeconds, leaseLeftSeconds, reason.",
            "The lease left is by this machine's clock from the holder's last renewal (informational).",
            "Exits 0 when the deployment is a lock, 66 when it is not found, 65 when it is not a lock",
            "(the status is printed in every case).%n"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class StatusCommand implements Callable<Integer>, Targeted {
    @Parameters(
            index = "0",
            paramLabel = "DEPLOYMENT",
            description = "The builder Deployment whose replicas are the lock.")
    String deployment = "";

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FORMAT",
            description = "text (default) or json.")
    String output = "text";

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    private final Terminal terminal;

    StatusCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public String deployment() {
        return deployment;
    }

    @Override
    public ClusterOptions cluster() {
        return cluster;
    }

    @Override
    public Integer call() throws InterruptedException {
        LockTarget target = cluster.target(deployment);
        String format = output.strip().toLowerCase(Locale.ROOT);
        if (!format.equals("text") && !format.equals("json")) {
            throw CliFailure.usage(target + ": -o '" + output + "' is not an output format: expected text or json");
        }
        try (ClusterOptions.Cluster connection = cluster.connect(deployment);
                ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(connection.backend())
                        .shutdownHook(false)
                        .build()) {
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
