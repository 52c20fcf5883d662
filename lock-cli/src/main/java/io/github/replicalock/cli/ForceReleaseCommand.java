package io.github.replicalock.cli;

import io.github.replicalock.LockNotHeldException;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.ForceRelease;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replica-lock force-release DEPLOYMENT --reason TEXT [--token N] [--operator NAME]}: an
 * operator breaks a stuck hold, recorded and audited ({@code ReplicaLocks.forceRelease}).
 */
@Command(
        name = "force-release",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        header = "Break the hold on the lock, for an operator: recorded with who and why.",
        description = {
            "%nScales the deployment to 0 with one conditional write on the holder and token it just read",
            "(never a hold that began since), deletes the holder's pods, records a Warning event",
            "ForceReleased and the annotation replicalock.io/force-released (token, holder, when, --operator,",
            "--reason). The holder's 'replica-lock run' stops its build and exits 76 with the reason; the",
            "first queued waiter gets the lock next. With --token, only the hold with that token is broken.",
            "Exits 0 when it broke the hold, and when there was none to break (free, releasing, or another",
            "token than --token): then nothing is written and stderr says what it found.%n"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class ForceReleaseCommand extends DeploymentCommand {
    @Option(
            names = "--reason",
            required = true,
            paramLabel = "TEXT",
            description = "Why, for the record and the event: one line, 1 to 1024 characters.")
    String reason = "";

    @Option(
            names = "--token",
            paramLabel = "N",
            description = "Break only the hold with this fencing token (as 'status' shows it).")
    @Nullable
    String token;

    @Option(
            names = "--operator",
            paramLabel = "NAME",
            description = "Who breaks it, for the record (default: $USER@host, or the pipeline's build id).")
    @Nullable
    String operator;

    ForceReleaseCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        LockTarget target = cluster.target(deployment);
        try {
            ForceRelease.checkReason(reason);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(target + ": --reason: " + e.getMessage());
        }
        Long expectedToken = token == null ? null : ReleaseCommand.fencingToken(target, token, 0);
        String who = operator != null ? RunCommand.checkIdentity(target, "--operator", operator) : defaultOperator();
        try (ClusterOptions.Cluster connection = cluster.connect(deployment);
                ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(connection.backend())
                        .holder(who)
                        .shutdownHook(false)
                        .build()) {
            LockStatus broken = expectedToken == null
                    ? locks.forceRelease(target, reason)
                    : locks.forceRelease(target, expectedToken, reason);
            terminal.info(
                    cluster.quiet,
                    target + ": force-released the hold of '" + broken.holder().orElse("unknown") + "' (token "
                            + broken.fencingToken() + ") as '" + who + "': " + reason);
            return ExitCodes.OK;
        } catch (LockNotHeldException e) {
            terminal.info(cluster.quiet, String.valueOf(e.getMessage()));
            return ExitCodes.OK;
        }
    }

    private String defaultOperator() {
        String user = terminal.env().get("USER");
        if (user == null || user.isBlank()) {
            return HolderNames.fromEnvironment(
                    terminal.env(),
                    HolderNames.host(terminal.env()),
                    ProcessHandle.current().pid());
        }
        return user.strip() + "@" + HolderNames.host(terminal.env());
    }
}
