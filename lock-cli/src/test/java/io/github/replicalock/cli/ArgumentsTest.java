package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.Fairness;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * The command line in-process: every bad argument gives exit code 64 and one line on stderr that
 * names the namespace, the deployment and the offending value, before any request is sent (these
 * tests have no cluster).
 */
class ArgumentsTest {
    private static final String NS = "apps--droneio--prd";
    private static final String WHERE = NS + "/buildah-external: ";

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    private Terminal terminal(Map<String, String> env) {
        return new Terminal(new PrintWriter(out, true), new PrintWriter(err, true), env, Clock.systemUTC());
    }

    private int run(String... args) {
        return ReplicaLockCli.execute(terminal(Map.of()), args);
    }

    private String errorLine() {
        assertThat(err.toString().lines()).as("one line on stderr").hasSize(1);
        return err.toString().strip();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "run Buildah_External -n apps--droneio--prd -- make"
                        + "| deployment name 'Buildah_External' in namespace 'apps--droneio--prd' is not a DNS-1123 subdomain",
                "run buildah-external -n Apps_NS -- make| namespace 'Apps_NS' is not a DNS-1123 label",
                "run buildah-external -n apps--droneio--prd --lease soon -- make" + "| " + WHERE
                        + "--lease 'soon' is not a duration: expected a number with a unit",
                "run buildah-external -n apps--droneio--prd --lease 0s -- make| " + WHERE
                        + "--lease '0s' must be positive",
                "run buildah-external -n apps--droneio--prd --lease 500ms -- make" + "| " + WHERE
                        + "--lease '500ms' is shorter than 1s",
                "run buildah-external -n apps--droneio--prd --wait 0s -- make" + "| " + WHERE
                        + "--wait '0s' must be positive (use --no-wait not to wait)",
                "run buildah-external -n apps--droneio--prd --wait 5m --no-wait -- make" + "| " + WHERE
                        + "--wait '5m' and --no-wait contradict each other",
                "run buildah-external -n apps--droneio--prd --ready-timeout -5s -- make" + "| " + WHERE
                        + "--ready-timeout '-5s' is not a duration",
                "run buildah-external -n apps--droneio--prd --release-timeout forever -- make" + "| " + WHERE
                        + "--release-timeout 'forever' is not a duration",
                "run buildah-external -n apps--droneio--prd --kill-after 1x -- make" + "| " + WHERE
                        + "--kill-after '1x' is not a duration",
                "run buildah-external -n apps--droneio--prd --busy-exit-code 300 -- make" + "| " + WHERE
                        + "--busy-exit-code '300' is not an exit code: expected 0 to 255",
                "run buildah-external -n apps--droneio--prd --busy-exit-code busy -- make" + "| " + WHERE
                        + "--busy-exit-code 'busy' is not an exit code",
                "run buildah-external -n apps--droneio--prd --fairness fair -- make" + "| " + WHERE
                        + "--fairness 'fair' is not a fairness: expected fifo or barging",
                "run buildah-external -n apps--droneio--prd --holder ' ' -- make" + "| " + WHERE
                        + "--holder ' ' must be 1 to 253 printable characters",
                "run buildah-external -n apps--droneio--prd| " + WHERE + "Missing required parameter: 'COMMAND'",
                "run buildah-external -n apps--droneio--prd make -j4" + "| " + WHERE
                        + "Unknown option: '-j4' (the command to run goes after '--')",
                "status buildah-external -n apps--droneio--prd -o yaml" + "| " + WHERE
                        + "-o 'yaml' is not an output format: expected text or json",
                "wait-idle buildah-external -n apps--droneio--prd --timeout 0s" + "| " + WHERE
                        + "--timeout '0s' must be positive",
                "release buildah-external -n apps--droneio--prd --holder a" + "| " + WHERE
                        + "Missing required option: '--token=N'",
                "release buildah-external -n apps--droneio--prd --holder a --token 0" + "| " + WHERE
                        + "--token '0' is not a fencing token: expected a whole number from 1",
                "release buildah-external -n apps--droneio--prd --holder a --token seven" + "| " + WHERE
                        + "--token 'seven' is not a fencing token",
                "run buildah-external -n apps--droneio--prd --kubeconfig /no/such/kubeconfig -- make" + "| " + WHERE
                        + "--kubeconfig '/no/such/kubeconfig' is not a readable file",
                "force-release buildah-external -n apps--droneio--prd" + "| " + WHERE
                        + "Missing required option: '--reason=TEXT'",
                "force-release buildah-external -n apps--droneio--prd --reason wedged --token seven" + "| " + WHERE
                        + "--token 'seven' is not a fencing token: expected a whole number from 0",
                "force-release buildah-external -n apps--droneio--prd --reason wedged --operator ' '" + "| " + WHERE
                        + "--operator ' ' must be 1 to 253",
                "stats buildah-external| Unmatched arguments from index 0: 'stats', 'buildah-external'",
            })
    void eachBadArgumentExitsWith64AndNamesIt(String args, String message) {
        int code = run(split(args));

        assertThat(code).as(err.toString()).isEqualTo(64);
        assertThat(errorLine()).startsWith("replica-lock: ").contains(message.strip());
    }

    /** Splits on spaces, keeping {@code ' '} as one argument that is a blank. */
    private static String[] split(String args) {
        return java.util.Arrays.stream(args.replace("' '", "\u0000").split(" "))
                .map(a -> a.replace("\u0000", " "))
                .toArray(String[]::new);
    }

    /** Contexts {@code ci} (current, namespace apps--droneio--prd) and {@code other} (namespace builds). */
    private Path kubeconfig() throws IOException {
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]
                contexts:
                - {name: ci, context: {cluster: c, user: u, namespace: apps--droneio--prd}}
                - {name: other, context: {cluster: c, user: u, namespace: builds}}
                current-context: ci
                users: [{name: u, user: {token: t}}]
                """);
        return kubeconfig;
    }

    @Test
    void anUnknownContextIsABadArgument() throws IOException {
        Path kubeconfig = kubeconfig();

        int code = run("status", "buildah-external", "--kubeconfig", kubeconfig.toString(), "--context", "prod");

        assertThat(code).isEqualTo(64);
        assertThat(errorLine()).contains("/buildah-external: --context 'prod' is not a context of the kubeconfig");
    }

    @Test
    void theNamespaceComesFromTheKubeconfigContext() throws IOException {
        Path kubeconfig = kubeconfig();

        assertThat(plan("run", "buildah-external", "--kubeconfig", kubeconfig.toString(), "--", "make")
                        .target()
                        .namespace())
                .isEqualTo(NS);
        assertThat(plan(
                                "run",
                                "buildah-external",
                                "--kubeconfig",
                                kubeconfig.toString(),
                                "--context",
                                "other",
                                "--",
                                "make")
                        .target()
                        .namespace())
                .isEqualTo("builds");
        assertThat(plan("run", "buildah-external", "--kubeconfig", kubeconfig.toString(), "-n", "x", "--", "make")
                        .target()
                        .namespace())
                .isEqualTo("x");
    }

    private RunCommand.Plan plan(String... args) {
        return plan(Map.of(), args);
    }

    private RunCommand.Plan plan(Map<String, String> env, String... args) {
        CommandLine cli = ReplicaLockCli.commandLine(terminal(env));
        CommandLine.ParseResult parsed = cli.parseArgs(args);
        return ((RunCommand) parsed.subcommand().commandSpec().userObject()).plan();
    }

    @Test
    void runHasTheDocumentedDefaults() {
        RunCommand.Plan plan = plan(
                Map.of("DRONE_REPO", "octo/app", "DRONE_BUILD_NUMBER", "42"),
                "run",
                "buildah-external",
                "-n",
                NS,
                "--",
                "make",
                "-j4",
                "--no-wait");

        assertThat(plan.target().toString()).isEqualTo(NS + "/buildah-external");
        assertThat(plan.waitLimit()).isEqualTo(Duration.ofMinutes(10));
        assertThat(plan.options().leaseDuration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(plan.options().renewInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(plan.options().readyTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(plan.options().releaseTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(plan.killAfter()).isEqualTo(Duration.ofSeconds(10));
        assertThat(plan.busyExitCode()).isEqualTo(75);
        assertThat(plan.options().fairness()).isEqualTo(Fairness.FIFO);
        assertThat(plan.holder()).isEqualTo("octo/app/42");
        assertThat(plan.command())
                .as("options after -- belong to the command")
                .containsExactly("make", "-j4", "--no-wait");
    }

    @Test
    void runTakesEveryOption() {
        RunCommand.Plan plan = plan(
                "run",
                "buildah-external",
                "-n",
                NS,
                "--no-wait",
                "--lease",
                "2m",
                "--ready-timeout",
                "5m",
                "--release-timeout",
                "90s",
                "--kill-after",
                "0s",
                "--holder",
                "me",
                "--busy-exit-code",
                "0",
                "--fairness",
                "barging",
                "--",
                "./build.sh");

        assertThat(plan.waitLimit()).as("--no-wait").isNull();
        assertThat(plan.options().leaseDuration()).isEqualTo(Duration.ofMinutes(2));
        assertThat(plan.options().readyTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(plan.options().releaseTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(plan.killAfter()).isZero();
        assertThat(plan.holder()).isEqualTo("me");
        assertThat(plan.busyExitCode()).isZero();
        assertThat(plan.options().fairness()).isEqualTo(Fairness.BARGING);
        assertThat(plan.command()).containsExactly("./build.sh");
    }

    @Test
    void fairnessIsCaseInsensitive() {
        assertThat(plan("run", "buildah-external", "-n", NS, "--fairness", "FIFO", "--", "make")
                        .options()
                        .fairness())
                .isEqualTo(Fairness.FIFO);
        assertThat(plan("run", "buildah-external", "-n", NS, "--fairness", "Barging", "--", "make")
                        .options()
                        .fairness())
                .isEqualTo(Fairness.BARGING);
    }

    @Test
    void helpListsTheCommandsAndTheExitCodes() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString())
                .contains("run", "status", "wait-idle", "release", "force-release")
                .contains("75        lock busy or wait timed out (--busy-exit-code)")
                .contains("76        lock lost while the command ran");
        out.getBuffer().setLength(0);
        assertThat(run("run", "--help")).isZero();
        assertThat(out.toString())
                .contains("replica-lock run [OPTIONS] DEPLOYMENT -- COMMAND [ARGS...]")
                .contains("REPLICA_LOCK_TOKEN")
                .contains("--kill-after")
                .contains("--fairness=fifo|barging")
                .contains("arrival order");
    }

    @Test
    void noCommandShowsTheUsageAndExits64() {
        assertThat(run()).isEqualTo(64);
        assertThat(err.toString()).contains("Usage: replica-lock");
    }
}
