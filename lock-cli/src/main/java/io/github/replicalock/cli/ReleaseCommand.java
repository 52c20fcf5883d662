package io.github.replicalock.cli;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import java.util.Objects;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code replica-lock release DEPLOYMENT --holder H --token N}: the cleanup step's release, which
 * never touches another holder's lock. Uses the backend SPI's conditional write, the same one a
 * holder's own release uses: replicas 1 to 0 and the holder cleared, only if the stored holder and
 * token are still H and N, decided by the API server.
 */
@Command(
        name = "release",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        header = "Release the lock if, and only if, it is held by HOLDER with TOKEN.",
        description = {
            "%nFor a cleanup step: scales the deployment to 0 and clears the holder with one conditional",
            "write (holder and token checked by the API server), never touching another holder's lock.",
            "Exits 0 once the lock is not held by HOLDER/TOKEN any more: released now, or released,",
            "lost or taken over before (then nothing is written). Does not wait for the pod to go.",
            "The token is the REPLICA_LOCK_TOKEN that run gave its command.%n"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class ReleaseCommand extends DeploymentCommand {
    /** A conditional write that fails means the lock fields changed, so a second look always decides. */
    private static final int MAX_ATTEMPTS = 3;

    @Option(names = "--holder", required = true, paramLabel = "NAME", description = "The holder the lock must have.")
    String holder = "";

    @Option(names = "--token", required = true, paramLabel = "N", description = "The fencing token the lock must have.")
    String token = "";

    ReleaseCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    public Integer call() throws InterruptedException {
        LockTarget target = cluster.target(deployment);
        String who = RunCommand.checkHolder(target, holder);
        long expectedToken = token(target);
        try (ClusterOptions.Cluster connection = cluster.connect(deployment)) {
            LockBackend backend = connection.backend();
            for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                LockFields stored = backend.read(target).fields();
                if (stored.replicas() != 1
                        || !Objects.equals(stored.holder(), who)
                        || stored.token() != expectedToken) {
                    terminal.info(
                            cluster.quiet,
                            target + ": not held by '" + who + "' with token " + expectedToken + " (" + describe(stored)
                                    + "); nothing written");
                    return ExitCodes.OK;
                }
                if (backend.compareAndSet(target, stored, stored.released())) {
                    backend.recordEvent(
                            target,
                            new LockEvent(
                                    LockEvent.Kind.RELEASED,
                                    "released by 'replica-lock release' for holder '" + who + "', token "
                                            + expectedToken));
                    terminal.info(
                            cluster.quiet,
                            target + ": released the lock of '" + who + "' (token " + expectedToken
                                    + "); the builder pod is going away");
                    return ExitCodes.OK;
                }
            }
            throw new CliFailure(
                    ExitCodes.INTERNAL,
                    target + ": the lock kept changing under the conditional release of '" + who + "' token "
                            + expectedToken + "; nothing written");
        }
    }

    private long token(LockTarget target) {
        return fencingToken(target, token, 1);
    }

    /**
     * {@code --token}'s value as a fencing token of at least {@code min}.
     *
     * @throws CliFailure a usage error naming the target and the value
     */
    static long fencingToken(LockTarget target, String text, long min) {
        try {
            long n = Long.parseLong(text.strip());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliFailure.usage(
                target + ": --token '" + text + "' is not a fencing token: expected a whole number from " + min);
    }

    private static String describe(LockFields stored) {
        if (stored.replicas() == 0) {
            return "it is free, token " + stored.token();
        }
        return "it is held by '" + (stored.holder() == null ? "unknown" : stored.holder()) + "' with token "
                + stored.token();
    }
}
