package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor on real child processes ({@code sh}) and a lock stand-in that records when it was
 * released: the release always comes after the child is gone, whatever ended it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS) // a guard against a hang, not a timing assertion
class SupervisorTest {
    private static final LockTarget TARGET = LockTarget.of("apps--droneio--prd", "buildah-external");

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();
    private final Terminal terminal =
            new Terminal(new PrintWriter(new StringWriter()), new PrintWriter(err, true), Map.of(), Clock.systemUTC());
    private final ExecutorService background = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws IOException {
        background.shutdownNow();
        // A child left running by a failed test keeps the test JVM's stdout open (it inherited it),
        // and the build would wait for it for ever.
        Path pid = dir.resolve("child.pid");
        if (Files.exists(pid)) {
            String text = Files.readString(pid).trim();
            if (!text.isEmpty()) {
                ProcessHandle.of(Long.parseLong(text)).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** A held lock whose close() checks that the child is done (its marker file exists or it was killed). */
    private final class StandInLock implements ReplicaLock {
        final AtomicInteger closes = new AtomicInteger();
        volatile @Nullable Consumer<LockLostException> lost;
        volatile @Nullable RuntimeException onClose;
        volatile @Nullable Long childAliveAtClose;

        @Override
        public LockTarget target() {
            return TARGET;
        }

        @Override
        public String holder() {
            return "build-1";
        }

        @Override
        public long fencingToken() {
            return 4;
        }

        @Override
        public boolean isHeld() {
            return closes.get() == 0;
        }

        @Override
        public List<String> pods() {
            return List.of("buildah-external-00001");
        }

        @Override
        public void onLost(Consumer<LockLostException> listener) {
            lost = listener;
        }

        void lose() {
            Consumer<LockLostException> listener = lost;
            if (listener != null) {
                listener.accept(new LockLostException(TARGET, "build-1", 4, "replicas 0: scaled down by someone else"));
            }
        }

        @Override
        public void close() {
            closes.incrementAndGet();
            childAliveAtClose = childPid()
                    .flatMap(ProcessHandle::of)
                    .filter(ProcessHandle::isAlive)
                    .map(ProcessHandle::pid)
                    .orElse(null);
            RuntimeException e = onClose;
            if (e != null) {
                throw e;
            }
        }
    }

    private java.util.Optional<Long> childPid() {
        try {
            Path pid = dir.resolve("child.pid");
            return Files.exists(pid)
                    ? java.util.Optional.of(Long.parseLong(Files.readString(pid).strip()))
                    : java.util.Optional.empty();
        } catch (java.io.IOException | NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    /** Gone, or a zombie (killed, not reaped yet: its parent was killed too). */
    private static boolean dead(long pid) {
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
                return state == 'Z' || state == 'X';
            } catch (java.io.IOException e) {
                return true; // gone between the two looks
            }
        }
        return true;
    }

    private List<String> sh(String script) {
        return List.of("sh", "-c", "cd '" + dir + "'; echo $$ > child.pid; " + script);
    }

    private CompletableFuture<Integer> runInBackground(Supervisor supervisor, StandInLock lock, List<String> command) {
        return CompletableFuture.supplyAsync(() -> supervisor.run(lock, command, Map.of()), background);
    }

    private void awaitFile(String name) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve(name)));
    }

    @Test
    void theChildsExitCodeAndEnvironmentAndOneReleaseAfterIt() {
        StandInLock lock = new StandInLock();
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofSeconds(10));

        int code = supervisor.run(
                lock,
                List.of(
                        "sh",
                        "-c",
                        "echo $$ > '" + dir + "/child.pid'; echo \"$REPLICA_LOCK_TOKEN\" > '" + dir
                                + "/token'; exit 3"),
                Map.of("REPLICA_LOCK_TOKEN", "4"));

        assertThat(code).isEqualTo(3);
        assertThat(lock.closes).hasValue(1);
        assertThat(lock.childAliveAtClose)
                .as("released after the child was gone")
                .isNull();
        assertThat(dir.resolve("token")).content().isEqualToIgnoringNewLines("4");
        assertThat(err.toString()).contains("released (token 4)");
    }

    @Test
    void aSignalGoesToTheChildAndTheReleaseWaitsForIt() throws Exception {
        StandInLock lock = new StandInLock();
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofMinutes(5));
        CompletableFuture<Integer> result = runInBackground(
                supervisor,
                lock,
                sh("trap 'sleep 0.3; touch got-term; exit 143' TERM; touch running; while true; do sleep 0.05; done"));
        awaitFile("running");

        supervisor.signal(Signals.SIGTERM);

        assertThat(result.get()).isEqualTo(143);
        assertThat(dir.resolve("got-term")).exists();
        assertThat(lock.closes).hasValue(1);
        assertThat(lock.childAliveAtClose).isNull();
        assertThat(err.toString()).contains("got SIGTERM, passing it to the command");
    }

    @Test
    void sigintIsPassedOnAsSigint() throws Exception {
        StandInLock lock = new StandInLock();
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofMinutes(5));
        // A shell cannot trap a signal ignored when it started, and a JVM started as a background
        // job of a non-interactive shell (nohup, `cmd &` in a script) passes SIGINT on ignored:
        // env resets it, so that the test does not depend on how the build was started.
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
        command.addAll(sh("trap 'touch got-int; exit 130' INT; trap 'touch got-term; exit 143' TERM; touch running;"
                + " while true; do sleep 0.05; done"));
        CompletableFuture<Integer> result = runInBackground(supervisor, lock, command);
        awaitFile("running");

        supervisor.signal(Signals.SIGINT);

        assertThat(result.get()).isEqualTo(130);
        assertThat(dir.resolve("got-int")).exists();
        assertThat(dir.resolve("got-term")).doesNotExist();
    }

    @Test
    void aSecondSignalKillsAtOnce() throws Exception {
        StandInLock lock = new StandInLock();
        // The child ignores SIGTERM and the grace is an hour: only the second signal can end this test.
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofHours(1));
        CompletableFuture<Integer> result =
                runInBackground(supervisor, lock, sh("trap '' TERM; touch running; while true; do sleep 0.05; done"));
        awaitFile("running");

        supervisor.signal(Signals.SIGTERM);
        supervisor.signal(Signals.SIGTERM);

        assertThat(result.get()).isEqualTo(137);
        assertThat(lock.closes).hasValue(1);
        assertThat(lock.childAliveAtClose).isNull();
        assertThat(err.toString()).contains("killing the command");
    }

    @Test
    void aLostLockStopsTheChildKillsItAfterTheGraceAndSaysLost() throws Exception {
        StandInLock lock = new StandInLock();
        lock.onClose = new LockLostException(TARGET, "build-1", 4, "replicas 0: scaled down by someone else");
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofMillis(200));
        CompletableFuture<Integer> result = runInBackground(
                supervisor, lock, sh("trap '' TERM; sleep 300 & touch running; while true; do sleep 0.05; done"));
        awaitFile("running");
        long grandchild = ProcessHandle.of(childPid().orElseThrow())
                .orElseThrow()
                .descendants()
                .findFirst()
                .map(ProcessHandle::pid)
                .orElseThrow();

        lock.lose();

        assertThat(result.get()).isEqualTo(ExitCodes.LOST);
        assertThat(lock.childAliveAtClose).isNull();
        // Killed processes whose parent is gone may linger as zombies until init reaps them.
        await("descendants are killed too").atMost(Duration.ofSeconds(10)).until(() -> dead(grandchild));
        assertThat(err.toString())
                .contains("lock held by 'build-1' with token 4 was lost: replicas 0: scaled down by someone else;"
                        + " stopping the command (SIGTERM, SIGKILL after 200ms)");
    }

    @Test
    void aLossFoundOnlyAtTheReleaseTurnsASuccessIntoLost() {
        StandInLock lock = new StandInLock();
        lock.onClose = new LockLostException(TARGET, "build-1", 4, "taken over by build-2");

        int code = new Supervisor(terminal, false, Duration.ofSeconds(1)).run(lock, List.of("true"), Map.of());

        assertThat(code).isEqualTo(ExitCodes.LOST);
        assertThat(err.toString()).contains("was lost: taken over by build-2");
    }

    @Test
    void aSlowPodAtTheReleaseKeepsTheChildsCode() {
        StandInLock lock = new StandInLock();
        lock.onClose =
                new ReleaseTimeoutException(TARGET, Duration.ofSeconds(60), "buildah-external-00001 Terminating");

        int code = new Supervisor(terminal, false, Duration.ofSeconds(1)).run(lock, List.of("false"), Map.of());

        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("pods still present after PT1M").contains("the next build waits for them");
    }

    @Test
    void aSignalBeforeTheStartRunsNothing() {
        StandInLock lock = new StandInLock();
        Supervisor supervisor = new Supervisor(terminal, false, Duration.ofSeconds(1));
        supervisor.signal(Signals.SIGINT);

        int code = supervisor.run(lock, sh("touch ran"), Map.of());

        assertThat(code).isEqualTo(130);
        assertThat(dir.resolve("ran")).doesNotExist();
        assertThat(lock.closes).hasValue(1);
    }

    @Test
    void aCommandThatDoesNotExistIs127AndTheLockIsReleased() {
        StandInLock lock = new StandInLock();

        assertThatThrownBy(() -> new Supervisor(terminal, false, Duration.ofSeconds(1))
                        .run(lock, List.of(dir.resolve("no-such-build").toString()), Map.of()))
                .isInstanceOfSatisfying(
                        CliFailure.class, e -> assertThat(e.exitCode()).isEqualTo(127))
                .hasMessageStartingWith(TARGET + ": cannot run command '" + dir.resolve("no-such-build") + "'")
                .hasMessageEndingWith("; the lock was released");
        assertThat(lock.closes).hasValue(1);
    }

    @Test
    void aReleaseThatFailsIsReportedAndTheChildsCodeKept() {
        StandInLock lock = new StandInLock();
        lock.onClose = new LockException(TARGET, "API server unreachable");

        int code = new Supervisor(terminal, true, Duration.ofSeconds(1)).run(lock, List.of("true"), Map.of());

        assertThat(code).isZero();
        assertThat(err.toString().strip())
                .isEqualTo("replica-lock: " + TARGET + ": API server unreachable; the lock expires after its lease ("
                        + TARGET + ")");
    }
}
