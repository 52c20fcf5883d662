package io.github.replicalock.cli;

import static io.github.replicalock.cli.MockApi.BUILDER;
import static io.github.replicalock.cli.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.github.replicalock.kubernetes.mock.ControllerSimulation.PodStart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code replica-lock} as a pipeline step uses it: {@code java -jar target/replica-lock.jar} in a
 * process of its own, against fabric8's CRUD mock API server with a simulated deployment controller,
 * through a kubeconfig file. The builds are small shell scripts that leave marker files.
 */
class ReplicaLockCliIT {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private CliRuns runs;
    private MockApi api;

    @BeforeEach
    void startCluster() throws IOException {
        runs = new CliRuns(dir);
        api = runs.api;
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        runs.close();
    }

    private CliProcess cli(Map<String, String> env, String... args) throws IOException {
        return runs.start(env, args);
    }

    private CliProcess cli(String... args) throws IOException {
        return cli(Map.of(), args);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String text) {
        return Serialization.jsonMapper().readValue(text, Map.class);
    }

    private boolean exists(String marker) {
        return Files.exists(dir.resolve(marker));
    }

    private String read(String marker) throws IOException {
        return Files.readString(dir.resolve(marker)).strip();
    }

    private void awaitMarker(CliProcess p, String marker) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!p.process.isAlive()) {
                throw new AssertionError("replica-lock exited " + p.process.exitValue() + " before " + marker
                        + "; stderr:\n" + p.stderr());
            }
            return exists(marker);
        });
    }

    /** A build that holds the lock until the test creates {@code <name>.go}. */
    private CliProcess holder(String name, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", BUILDER, "--holder", name));
        args.addAll(List.of(options));
        args.addAll(List.of(
                "--",
                "sh",
                "-c",
                "echo $REPLICA_LOCK_TOKEN > " + name + ".token; touch " + name + ".running; while [ ! -f " + name
                        + ".go ]; do sleep 0.05; done; touch " + name + ".done"));
        CliProcess p = cli(args.toArray(String[]::new));
        awaitMarker(p, name + ".running");
        return p;
    }

    @Test
    void theCommandGetsTheLockInItsEnvironmentAndItsExitCodeIsPassedThrough() throws Exception {
        CliProcess run = cli(
                "run",
                BUILDER,
                "--holder",
                "drone/build-1",
                "--",
                "sh",
                "-c",
                "echo built on $REPLICA_LOCK_POD; echo \"$REPLICA_LOCK_POD|$REPLICA_LOCK_TOKEN|$REPLICA_LOCK_HOLDER"
                        + "|$REPLICA_LOCK_NAMESPACE|$REPLICA_LOCK_DEPLOYMENT\" > env.txt; exit 7");

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(7);
        String[] env = read("env.txt").split("\\|");
        assertThat(env[0]).startsWith(BUILDER + "-");
        assertThat(env).containsExactly(env[0], "1", "drone/build-1", NAMESPACE, BUILDER);
        assertThat(run.stdout()).contains("built on " + env[0]);
        assertThat(run.stderr())
                .contains(NAMESPACE + "/" + BUILDER + ": acquired by 'drone/build-1' with token 1")
                .contains("released (token 1)");
        // Released before the CLI exited: replicas 0, holder cleared, token kept, pod gone.
        assertThat(api.replicas()).isZero();
        assertThat(api.holder()).isEmpty();
        assertThat(api.token()).isEqualTo(1);
        assertThat(api.podCount()).isZero();
    }

    @Test
    void theDefaultHolderIsTheDroneBuild() throws Exception {
        CliProcess run = cli(
                Map.of("DRONE_REPO", "octo/app", "DRONE_BUILD_NUMBER", "42", "DRONE_STEP_NAME", "build"),
                "run",
                BUILDER,
                "-q",
                "--",
                "sh",
                "-c",
                "echo $REPLICA_LOCK_HOLDER > holder.txt");

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(read("holder.txt")).isEqualTo("octo/app/42/build");
        assertThat(run.stderr()).as("quiet").isEmpty();
    }

    @Test
    void aSecondRunWaitsWhileTheFirstHoldsAndRunsAfterIt() throws Exception {
        CliProcess first = holder("a");
        CliProcess second = cli(
                "run",
                BUILDER,
                "--holder",
                "b",
                "--",
                "sh",
                "-c",
                "echo $REPLICA_LOCK_TOKEN > b.token; if [ -f a.done ]; then touch b.after-a; fi");

        // Progress on stderr names the holder while the second build waits; its command has not run.
        await().atMost(PATIENCE).until(() -> second.stderr().contains("held by 'a'"));
        assertThat(second.stderr()).contains("waiting for " + NAMESPACE + "/" + BUILDER);
        assertThat(exists("b.token")).isFalse();
        assertThat(second.process.isAlive()).isTrue();

        Files.createFile(dir.resolve("a.go"));
        assertThat(first.exitCode()).as(first.stderr()).isZero();
        assertThat(second.exitCode()).as(second.stderr()).isZero();
        assertThat(exists("b.after-a")).as("b ran after a had finished").isTrue();
        assertThat(Long.parseLong(read("b.token"))).isEqualTo(Long.parseLong(read("a.token")) + 1);
        assertThat(api.replicas()).isZero();
    }

    @Test
    void noWaitOnAHeldLockExitsWithTheBusyCodeWritesNothingAndRunsNothing() throws Exception {
        CliProcess first = holder("a", "--lease", "5m");
        await().atMost(PATIENCE)
                .until(() -> api.builder().getStatus() != null
                        && Integer.valueOf(1).equals(api.builder().getStatus().getReadyReplicas()));
        String version = api.builder().getMetadata().getResourceVersion();

        CliProcess busy = cli("run", BUILDER, "--no-wait", "--holder", "b", "--", "touch", "b.ran");
        CliProcess busyCustom =
                cli("run", BUILDER, "--no-wait", "--busy-exit-code", "3", "--holder", "c", "--", "touch", "c.ran");

        assertThat(busy.exitCode()).as(busy.stderr()).isEqualTo(75);
        assertThat(busy.stderr())
                .contains(NAMESPACE + "/" + BUILDER + ": busy, ACTIVE READY 1/1, held by 'a' (token 1)")
                .contains("the command did not run");
        assertThat(busyCustom.exitCode()).as(busyCustom.stderr()).isEqualTo(3);
        assertThat(exists("b.ran") || exists("c.ran")).isFalse();
        assertThat(api.builder().getMetadata().getResourceVersion())
                .as("no write")
                .isEqualTo(version);
        assertThat(api.holder()).isEqualTo("a");

        Files.createFile(dir.resolve("a.go"));
        assertThat(first.exitCode()).isZero();
    }

    @Test
    void aWaitThatTimesOutExitsWithTheBusyCodeAndRunsNothing() throws Exception {
        CliProcess first = holder("a", "--lease", "5m");

        CliProcess late = cli("run", BUILDER, "--wait", "2s", "--holder", "b", "--", "touch", "b.ran");

        assertThat(late.exitCode()).as(late.stderr()).isEqualTo(75);
        assertThat(late.stderr().lines().filter(l -> !l.contains("waiting for")))
                .singleElement()
                .asString()
                .contains(NAMESPACE + "/" + BUILDER + ": lock not acquired within PT2S; last seen ACTIVE READY 1/1"
                        + " held by 'a' token 1; the command did not run");
        assertThat(exists("b.ran")).isFalse();
        assertThat(api.holder()).isEqualTo("a");
        Files.createFile(dir.resolve("a.go"));
        assertThat(first.exitCode()).isZero();
    }

    @Test
    void sigtermStopsTheCommandAndReleasesAtOnce() throws Exception {
        CliProcess run = cli(
                "run",
                BUILDER,
                "--holder",
                "cancelled",
                "--lease",
                "10m",
                "--kill-after",
                "30s",
                "--",
                "sh",
                "-c",
                "trap 'touch got-term; exit 143' TERM; touch running; while true; do sleep 0.05; done");
        awaitMarker(run, "running");
        assertThat(api.holder()).isEqualTo("cancelled");

        long start = System.nanoTime();
        run.terminate();

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(143);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(exists("got-term")).as("the command got SIGTERM").isTrue();
        assertThat(run.stderr()).contains("got SIGTERM, passing it to the command");
        // Released by the CLI before it exited: the lease (10 min) and the kill-after (30 s) are far off.
        assertThat(took).isLessThan(Duration.ofSeconds(30));
        assertThat(api.replicas()).isZero();
        assertThat(api.holder()).isEmpty();
    }

    @Test
    void sigtermWhileWaitingLeavesNothingAndRunsNothing() throws Exception {
        CliProcess first = holder("a", "--lease", "5m");
        CliProcess waiting = cli("run", BUILDER, "--holder", "b", "--", "touch", "b.ran");
        await().atMost(PATIENCE).until(() -> waiting.stderr().contains("held by 'a'"));

        waiting.terminate();

        assertThat(waiting.exitCode()).as(waiting.stderr()).isEqualTo(143);
        assertThat(waiting.stderr()).contains("SIGTERM while waiting for the lock; nothing is held");
        assertThat(exists("b.ran")).isFalse();
        assertThat(api.holder()).isEqualTo("a");
        Files.createFile(dir.resolve("a.go"));
        assertThat(first.exitCode()).isZero();
    }

    @Test
    void aLostLockKillsTheCommandAndExitsWithTheLostCode() throws Exception {
        // The command ignores SIGTERM, so only the kill after --kill-after stops it.
        CliProcess run = cli(
                "run",
                BUILDER,
                "--holder",
                "doomed",
                "--lease",
                "3s",
                "--kill-after",
                "1s",
                "--",
                "sh",
                "-c",
                "trap '' TERM; echo $$ > child.pid; touch running; while true; do sleep 0.05; done");
        awaitMarker(run, "running");
        long child = Long.parseLong(read("child.pid"));

        api.scaleToZeroLikeTheShell();

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(76);
        assertThat(run.stderr())
                .contains(NAMESPACE + "/" + BUILDER + ": lock held by 'doomed' with token 1 was lost")
                .contains("stopping the command")
                .contains("killing the command");
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false))
                .as("the command was killed")
                .isFalse();
        assertThat(api.replicas()).isZero();
    }

    @Test
    void statusAsJsonAndAsText() throws Exception {
        CliProcess first = holder("a", "--lease", "5m");
        await().atMost(PATIENCE)
                .until(() -> api.builder().getStatus() != null
                        && Integer.valueOf(1).equals(api.builder().getStatus().getReadyReplicas()));

        CliProcess json = cli("status", BUILDER, "-o", "json");
        CliProcess text = cli("status", BUILDER);

        assertThat(json.exitCode()).as(json.stderr()).isZero();
        Map<String, Object> held = json(json.stdout());
        assertThat(held)
                .containsEntry("namespace", NAMESPACE)
                .containsEntry("deployment", BUILDER)
                .containsEntry("state", "ACTIVE")
                .containsEntry("ready", "1/1")
                .containsEntry("holder", "a")
                .containsEntry("token", 1)
                .containsEntry("leaseSeconds", 300)
                .containsEntry("reason", null);
        assertThat(((Number) held.get("leaseLeftSeconds")).longValue()).isBetween(200L, 300L);
        assertThat(text.exitCode()).as(text.stderr()).isZero();
        List<String> lines = text.stdout().lines().toList();
        assertThat(lines.get(0).split("\\s+"))
                .containsExactly("NAMESPACE", "DEPLOYMENT", "READY", "STATE", "HOLDER", "TOKEN", "LEASE-LEFT");
        assertThat(lines.get(1).split("\\s+")).startsWith(NAMESPACE, BUILDER, "1/1", "ACTIVE", "a", "1");

        Files.createFile(dir.resolve("a.go"));
        assertThat(first.exitCode()).isZero();
        CliProcess idle = cli("status", BUILDER, "-o", "json");
        assertThat(idle.exitCode()).isZero();
        Map<String, Object> free = json(idle.stdout());
        assertThat(free)
                .containsEntry("state", "IDLE")
                .containsEntry("ready", "0/0")
                .containsEntry("holder", null)
                .containsEntry("token", 1)
                .containsEntry("leaseLeftSeconds", null);
    }

    @Test
    void aMissingDeploymentIsNotFoundAndTheCommandDoesNotRun() throws Exception {
        CliProcess run = cli("run", "no-such-builder", "--", "touch", "ran");
        CliProcess status = cli("status", "no-such-builder", "-o", "json");

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(66);
        assertThat(run.stderr().strip())
                .isEqualTo("replica-lock: " + NAMESPACE + "/no-such-builder: deployment 'no-such-builder' not found"
                        + " in namespace '" + NAMESPACE + "'");
        assertThat(exists("ran")).isFalse();
        assertThat(status.exitCode()).isEqualTo(66);
        assertThat(json(status.stdout())).containsEntry("state", "UNKNOWN");
    }

    @Test
    void aDeploymentWithTwoReplicasIsNotALock() throws Exception {
        api.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":2}}");

        CliProcess run = cli("run", BUILDER, "--no-wait", "--", "touch", "ran");
        CliProcess status = cli("status", BUILDER, "-o", "json");

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(65);
        assertThat(run.stderr().lines()).singleElement().asString().contains(NAMESPACE + "/" + BUILDER + ": ");
        assertThat(exists("ran")).isFalse();
        assertThat(status.exitCode()).as(status.stderr()).isEqualTo(65);
        assertThat(json(status.stdout())).containsEntry("state", "UNKNOWN").containsEntry("desiredReplicas", 2);
        assertThat(api.replicas()).as("left as it was").isEqualTo(2);
    }

    @Test
    void aBuilderPodThatNeverGetsReadyGivesTheLockBack() throws Exception {
        api.controller.podsStartAs(PodStart.IMAGE_PULL_BACK_OFF);

        CliProcess run = cli("run", BUILDER, "--ready-timeout", "2s", "--", "touch", "ran");

        assertThat(run.exitCode()).as(run.stderr()).isEqualTo(71);
        assertThat(run.stderr()).contains(NAMESPACE + "/" + BUILDER).contains("ImagePullBackOff");
        assertThat(exists("ran")).isFalse();
        assertThat(api.replicas()).isZero();
    }

    @Test
    void waitIdleTimesOutWhileHeldAndReturnsOnceReleased() throws Exception {
        CliProcess first = holder("a", "--lease", "5m");

        CliProcess tooShort = cli("wait-idle", BUILDER, "--timeout", "1s");
        assertThat(tooShort.exitCode()).as(tooShort.stderr()).isEqualTo(75);
        assertThat(tooShort.stderr()).contains(NAMESPACE + "/" + BUILDER + ": not idle within 1s");

        CliProcess waits = cli("wait-idle", BUILDER, "--timeout", "1m");
        await().atMost(PATIENCE).until(() -> waits.stderr().contains("waiting for idle"));
        assertThat(waits.process.isAlive()).isTrue();
        Files.createFile(dir.resolve("a.go"));

        assertThat(waits.exitCode()).as(waits.stderr()).isZero();
        assertThat(first.exitCode()).isZero();
        assertThat(api.replicas()).isZero();
    }

    @Test
    void aConditionalReleaseWithTheWrongTokenOrHolderLeavesTheLockHeld() throws Exception {
        CliProcess first = holder("a", "--lease", "3s", "--kill-after", "1s");

        CliProcess wrongToken = cli("release", BUILDER, "--holder", "a", "--token", "99");
        CliProcess wrongHolder = cli("release", BUILDER, "--holder", "b", "--token", "1");
        assertThat(wrongToken.exitCode()).as(wrongToken.stderr()).isZero();
        assertThat(wrongToken.stderr())
                .contains(NAMESPACE + "/" + BUILDER
                        + ": not held by 'a' with token 99 (it is held by 'a' with token 1);" + " nothing written");
        assertThat(wrongHolder.exitCode()).as(wrongHolder.stderr()).isZero();
        assertThat(api.replicas()).isEqualTo(1);
        assertThat(api.holder()).isEqualTo("a");
        assertThat(api.token()).isEqualTo(1);
        assertThat(first.process.isAlive()).isTrue();

        CliProcess right = cli("release", BUILDER, "--holder", "a", "--token", "1");
        assertThat(right.exitCode()).as(right.stderr()).isZero();
        assertThat(right.stderr()).contains("released the lock of 'a' (token 1)");
        assertThat(api.replicas()).isZero();
        // The holder finds its lock gone at its next renewal, and says so.
        assertThat(first.exitCode()).as(first.stderr()).isEqualTo(76);
        CliProcess again = cli("release", BUILDER, "--holder", "a", "--token", "1");
        assertThat(again.exitCode()).isZero();
        assertThat(again.stderr()).contains("it is free, token 1");
    }

    @Test
    void badArgumentsExitWith64AndOneLineNamingTheValue() throws Exception {
        CliProcess badName = cli("run", "Buildah_External", "--", "touch", "ran");
        CliProcess badLease = cli("run", BUILDER, "--lease", "soon", "--", "touch", "ran");
        CliProcess noCommand = cli("run", BUILDER);
        CliProcess badFormat = cli("status", BUILDER, "-o", "yaml");

        assertThat(badName.exitCode()).isEqualTo(64);
        assertThat(badName.stderr().lines())
                .singleElement()
                .asString()
                .contains("deployment name 'Buildah_External' in namespace '" + NAMESPACE + "'");
        assertThat(badLease.exitCode()).isEqualTo(64);
        assertThat(badLease.stderr().strip())
                .isEqualTo("replica-lock: " + NAMESPACE + "/" + BUILDER + ": --lease 'soon' is not a duration:"
                        + " expected a number with a unit, such as 30s, 10m, 1h30m or 500ms");
        assertThat(noCommand.exitCode()).isEqualTo(64);
        assertThat(noCommand.stderr().lines()).singleElement().asString().contains("COMMAND");
        assertThat(badFormat.exitCode()).isEqualTo(64);
        assertThat(badFormat.stderr().lines())
                .singleElement()
                .asString()
                .contains(NAMESPACE + "/" + BUILDER + ": -o 'yaml' is not an output format");
        assertThat(exists("ran")).isFalse();
        assertThat(api.token()).as("nothing was written").isZero();
    }
}
