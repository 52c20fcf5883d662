package io.github.replicalock.cli;

import static io.github.replicalock.cli.MockApi.BUILDER;
import static io.github.replicalock.cli.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.ForceRelease;
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
 * {@code replica-lock force-release} as an operator runs it, against a build that {@code replica-lock
 * run} holds: both separate processes on fabric8's CRUD mock with the controller simulation.
 */
class ForceReleaseIT {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final String REASON = "builder wedged on a stuck mount, INC-1234";
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);

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

    /** A build that would run for ever: only the force-release ends it. */
    private CliProcess wedgedBuild() throws IOException {
        CliProcess p = cli(
                Map.of(),
                "run",
                BUILDER,
                "--holder",
                "drone/build-41",
                "--lease",
                "10s",
                "--kill-after",
                "2s",
                "--",
                "sh",
                "-c",
                "touch wedged.running; while true; do sleep 0.05; done");
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!p.process.isAlive()) {
                throw new AssertionError("run exited " + p.process.exitValue() + "; stderr:\n" + p.stderr());
            }
            return Files.exists(dir.resolve("wedged.running"));
        });
        return p;
    }

    @Test
    void theOperatorBreaksTheHoldAndTheBuildStopsWithTheReason() throws Exception {
        CliProcess build = wedgedBuild();

        CliProcess operator = cli(
                Map.of("USER", "alice"),
                "force-release",
                BUILDER,
                "-n",
                NAMESPACE,
                "--reason",
                REASON,
                "--operator",
                "ops-alice");

        assertThat(operator.exitCode()).as(operator.stderr()).isZero();
        assertThat(operator.stderr())
                .contains(NAMESPACE + "/" + BUILDER + ": force-released the hold of 'drone/build-41' (token 1)")
                .contains(REASON);
        ForceRelease record = ForceRelease.parse(TARGET, api.annotations().get(ForceRelease.ANNOTATION));
        assertThat(record).isNotNull();
        assertThat(record.by()).isEqualTo("ops-alice");
        assertThat(record.holder()).isEqualTo("drone/build-41");
        assertThat(record.reason()).isEqualTo(REASON);
        assertThat(build.exitCode()).as(build.stderr()).isEqualTo(ExitCodes.LOST);
        assertThat(build.stderr()).contains("force-released by ops-alice").contains(REASON);
        assertThat(api.replicas()).isZero();
        assertThat(api.token()).as("kept: the next holder gets 2").isEqualTo(1);
    }

    @Test
    void aFreeLockOrAnotherTokenIsLeftAloneWithExitZero() throws Exception {
        CliProcess free = cli(Map.of(), "force-release", BUILDER, "-n", NAMESPACE, "--reason", REASON);
        assertThat(free.exitCode()).as(free.stderr()).isZero();
        assertThat(free.stderr()).contains("nothing to force-release").contains("nothing was changed");
        assertThat(api.annotations()).doesNotContainKey(ForceRelease.ANNOTATION);

        CliProcess build = wedgedBuild();
        CliProcess wrongToken =
                cli(Map.of(), "force-release", BUILDER, "-n", NAMESPACE, "--reason", REASON, "--token", "7");
        assertThat(wrongToken.exitCode()).as(wrongToken.stderr()).isZero();
        assertThat(wrongToken.stderr())
                .contains("held by 'drone/build-41' with token 1, not token 7")
                .contains("nothing was changed");
        assertThat(api.replicas()).isEqualTo(1);
        assertThat(build.process.isAlive()).isTrue();

        CliProcess rightToken = cli(
                Map.of("USER", "bob", "HOSTNAME", "ops-box"),
                "force-release",
                BUILDER,
                "-n",
                NAMESPACE,
                "--reason",
                REASON,
                "--token",
                "1");
        assertThat(rightToken.exitCode()).as(rightToken.stderr()).isZero();
        ForceRelease record = ForceRelease.parse(TARGET, api.annotations().get(ForceRelease.ANNOTATION));
        assertThat(record).isNotNull();
        assertThat(record.by()).as("the default operator").isEqualTo("bob@ops-box");
        assertThat(build.exitCode()).as(build.stderr()).isEqualTo(ExitCodes.LOST);
    }

    @Test
    void aReasonThatCannotBeRecordedIsAUsageErrorAndWritesNothing() throws Exception {
        for (List<String> bad : List.of(
                List.of("--reason", "  "),
                List.of("--reason", "x".repeat(ForceRelease.MAX_REASON_LENGTH + 1)),
                List.of("--reason", "fine", "--token", "seven"))) {
            List<String> args = new ArrayList<>(List.of("force-release", BUILDER, "-n", NAMESPACE));
            args.addAll(bad);
            CliProcess p = cli(Map.of(), args.toArray(String[]::new));
            assertThat(p.exitCode()).as("%s: %s", bad, p.stderr()).isEqualTo(ExitCodes.USAGE);
            assertThat(p.stderr()).contains(NAMESPACE + "/" + BUILDER);
        }
        CliProcess missing = cli(Map.of(), "force-release", BUILDER, "-n", NAMESPACE);
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.stderr()).contains("--reason");
        assertThat(api.annotations()).doesNotContainKey(ForceRelease.ANNOTATION);
    }
}
