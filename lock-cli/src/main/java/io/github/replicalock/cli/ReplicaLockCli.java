package io.github.replicalock.cli;

import io.github.replicalock.LockException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code replica-lock}: a Deployment's replica count as a build lock, from a CI pipeline.
 *
 * <pre>{@code
 * replica-lock run buildah-external -n apps--droneio--prd -- ./build.sh
 * }</pre>
 */
@Command(
        name = "replica-lock",
        mixinStandardHelpOptions = true,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        headerHeading = "%n",
        header = "A Kubernetes Deployment's replica count as a build lock: replicas 0 free, 1 held.",
        synopsisSubcommandLabel = "COMMAND",
        description = {
            "%nThe cluster comes from --kubeconfig, else KUBECONFIG or ~/.kube/config, else the in-cluster",
            "service account (as kubectl); -n/--namespace, else the context's namespace. Progress and errors",
            "go to stderr, one line each.%n"
        },
        commandListHeading = "%nCommands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {},
        footerHeading = "%nExample:%n",
        footer = {"  replica-lock run buildah-external -n apps--droneio--prd --wait 10m -- ./build.sh"})
public final class ReplicaLockCli implements Callable<Integer> {
    private final Terminal terminal;

    @Spec
    @SuppressWarnings("NullAway.Init") // injected by picocli before call()
    CommandSpec spec;

    private ReplicaLockCli(Terminal terminal) {
        this.terminal = terminal;
    }

    public static void main(String[] args) {
        configureLogging(List.of(args));
        Terminal terminal = new Terminal(
                new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8),
                System.getenv(),
                Clock.systemUTC());
        System.exit(execute(terminal, args));
    }

    /** Runs the command line; returns the exit code instead of exiting. */
    static int execute(Terminal terminal, String... args) {
        CommandLine cli = commandLine(terminal);
        return cli.execute(args);
    }

    static CommandLine commandLine(Terminal terminal) {
        CommandLine cli = new CommandLine(new ReplicaLockCli(terminal))
                .addSubcommand(new RunCommand(terminal))
                .addSubcommand(new StatusCommand(terminal))
                .addSubcommand(new WaitIdleCommand(terminal))
                .addSubcommand(new ReleaseCommand(terminal))
                .addSubcommand(new ForceReleaseCommand(terminal));
        cli.setOut(terminal.out());
        cli.setErr(terminal.err());
        cli.setParameterExceptionHandler(ReplicaLockCli::badArguments);
        cli.setExecutionExceptionHandler((e, command, parseResult) -> failed(terminal, e));
        cli.setExitCodeExceptionMapper(e -> ExitCodes.forFailure(e, ExitCodes.BUSY));
        Map<String, String> exitCodes = exitCodeHelp();
        cli.getSubcommands()
                .values()
                .forEach(sub -> sub.getCommandSpec().usageMessage().exitCodeList(exitCodes));
        cli.getCommandSpec().usageMessage().exitCodeList(exitCodes);
        return cli;
    }

    private static Map<String, String> exitCodeHelp() {
        Map<String, String> codes = new java.util.LinkedHashMap<>();
        for (String line : ExitCodes.HELP) {
            int colon = line.indexOf(':');
            codes.put(line.substring(0, colon), line.substring(colon + 1));
        }
        return codes;
    }

    @Override
    public Integer call() {
        // No command: show what there is, as git does.
        spec.commandLine().usage(terminal.err());
        return ExitCodes.USAGE;
    }

    /** A parse error: one line naming the deployment (when it was parsed) and the offending value. */
    private static int badArguments(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        Object user = command.getCommandSpec().userObject();
        String where = "";
        if (user instanceof DeploymentCommand c && !c.deployment.isEmpty()) {
            where = c.cluster.where(c.deployment);
        }
        String hint = e instanceof UnmatchedArgumentException && user instanceof RunCommand
                ? " (the command to run goes after '--')"
                : "";
        Terminal.write(
                command.getErr(),
                where + e.getMessage() + hint + "; see '"
                        + command.getCommandSpec().qualifiedName() + " --help'");
        return ExitCodes.USAGE;
    }

    private static int failed(Terminal terminal, Exception e) {
        if (e instanceof CliFailure f) {
            terminal.error(String.valueOf(f.getMessage()));
            return f.exitCode();
        }
        if (e instanceof LockException) {
            terminal.error(String.valueOf(e.getMessage()));
            return ExitCodes.forFailure(e, ExitCodes.BUSY);
        }
        if (e instanceof InterruptedException) {
            terminal.error("interrupted");
            return ExitCodes.forSignal(Signals.SIGINT);
        }
        terminal.error("internal error: " + e);
        e.printStackTrace(terminal.err());
        terminal.err().flush();
        return ExitCodes.INTERNAL;
    }

    /**
     * Before any logger exists: the library's INFO lines repeat what the commands say, so WARN unless
     * {@code -v}.
     */
    private static void configureLogging(List<String> args) {
        boolean verbose =
                args.stream().takeWhile(a -> !a.equals("--")).anyMatch(a -> a.equals("-v") || a.equals("--verbose"));
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.io.fabric8", verbose ? "info" : null);
    }

    private static void setIfAbsent(String key, @Nullable String value) {
        if (System.getProperty(key) == null && value != null) {
            System.setProperty(key, value);
        }
    }
}
