package io.github.replicalock.cli;

import static io.github.replicalock.cli.MockApi.BUILDER;
import static io.github.replicalock.cli.MockApi.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The waiter queue ({@code docs/lock-protocol.md} section 10) as pipelines meet it: several {@code
 * replica-lock run} steps, each its own process, waiting on one builder; {@code status} listing
 * them; waiters cancelled (SIGTERM), crashed (SIGKILL) or stopped (SIGSTOP) while queued. Every
 * build appends {@code "$REPLICA_LOCK_HOLDER $REPLICA_LOCK_TOKEN"} to {@code order.txt}, so the
 * order in which the builds held the lock is what the builds themselves saw.
 */
class WaiterQueueIT {
    private static final int SCALE = Integer.getInteger("replicalock.test.timeoutScale", 1);
    private static final Duration PATIENCE = Duration.ofSeconds(30L * SCALE);
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    /** A dead waiter's entry blocks the queue for at most its lease (2 s) plus the grace (1 s). */
    private static final Duration DEAD_WAITER_BOUND = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    private MockApi api;
    private final List<CliProcess> started = new ArrayList<>();

    @BeforeEach
    void startCluster() throws IOException {
        api = new MockApi(dir);
    }

    @AfterEach
    void stopAll() {
        started.forEach(p -> p.process.destroyForcibly());
        api.close();
    }

    private CliProcess cli(String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of(args));
        int at = all.indexOf("--") < 0 ? all.size() : all.indexOf("--");
        all.addAll(at, List.of("--kubeconfig", api.kubeconfig.toString()));
        CliProcess p = CliProcess.start(dir, Map.of(), all.toArray(String[]::new));
        started.add(p);
        return p;
    }

    /** A build that holds the lock (lease 5 min: it never expires here) until the test creates {@code <name>.go}. */
    private CliProcess holder(String name) throws IOException {
        CliProcess p = cli(
                "run",
                BUILDER,
                "--holder",
                name,
                "--lease",
                "5m",
                "--",
                "sh",
                "-c",
                "echo \"$REPLICA_LOCK_HOLDER $REPLICA_LOCK_TOKEN\" >> order.txt; touch " + name + ".running;"
                        + " while [ ! -f " + name + ".go ]; do sleep 0.05; done");
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertAlive(p, name + ".running");
            return Files.exists(dir.resolve(name + ".running"));
        });
        return p;
    }

    /** A build started while the lock is taken; returns once its entry is last in the queue. */
    private CliProcess waiter(String name, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", BUILDER, "--holder", name));
        args.addAll(List.of(options));
        args.addAll(List.of("--", "sh", "-c", "echo \"$REPLICA_LOCK_HOLDER $REPLICA_LOCK_TOKEN\" >> order.txt"));
        List<String> before = queue();
        CliProcess p = cli(args.toArray(String[]::new));
        List<String> expected = new ArrayList<>(before);
        expected.add(name);
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertAlive(p, "joining the queue");
            return queue().equals(expected);
        });
        return p;
    }

    private static void assertAlive(CliProcess p, String before) {
        if (!p.process.isAlive()) {
            throw new AssertionError(
                    "replica-lock exited " + p.process.exitValue() + " before " + before + "; stderr:\n" + p.stderr());
        }
    }

    /** The waiters in the queue annotation, head first, as the cluster stores it. */
    private List<String> queue() {
        return LockQueue.parse(TARGET, api.annotations().get(LockQueue.ANNOTATION)).entries().stream()
                .map(QueueEntry::waiter)
                .toList();
    }

    private List<String> order() throws IOException {
        Path file = dir.resolve("order.txt");
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    private void release(String holder) throws IOException {
        Files.createFile(dir.resolve(holder + ".go"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String text) {
        return Serialization.jsonMapper().readValue(text, Map.class);
    }

    @SuppressWarnings("unchecked")
    private static List<String> waitersOf(Map<String, Object> status) {
        Object waiters = status.get("waiters");
        return waiters == null
                ? List.of()
                : ((List<Map<String, Object>>) waiters)
                        .stream().map(w -> (String) w.get("identity")).toList();
    }

    private Map<String, Object> statusJson() throws Exception {
        CliProcess status = cli("status", BUILDER, "-o", "json");
        assertThat(status.exitCode()).as(status.stderr()).isZero();
        return json(status.stdout());
    }

    private void awaitIdle() {
        await().atMost(PATIENCE)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> api.replicas() == 0
                        && api.podCount() == 0
                        && api.holder().isEmpty());
    }

    @Test
    void runsStartedOneAfterAnotherGetTheLockInArrivalOrderAndStatusListsThemWhileTheyWait() throws Exception {
        CliProcess a = holder("a");
        CliProcess first = waiter("w1");
        CliProcess second = waiter("w2");
        CliProcess third = waiter("w3");

        CliProcess text = cli("status", BUILDER);
        Map<String, Object> json = statusJson();

        assertThat(text.exitCode()).as(text.stderr()).isZero();
        assertThat(text.stdout().lines().skip(2).map(String::strip).map(l -> l.replaceAll("\\s+waiting .*", "")))
                .containsExactly("WAITERS (head first):", "1. w1", "2. w2", "3. w3");
        assertThat(json).containsEntry("state", "ACTIVE").containsEntry("holder", "a");
        assertThat(waitersOf(json)).containsExactly("w1", "w2", "w3");
        assertThat(order()).as("nobody ran behind the holder").containsExactly("a 1");

        release("a");

        for (CliProcess p : List.of(a, first, second, third)) {
            assertThat(p.exitCode()).as(p.stderr()).isZero();
        }
        assertThat(order()).containsExactly("a 1", "w1 2", "w2 3", "w3 4");
        assertThat(queue()).isEmpty();
        assertThat(statusJson()).doesNotContainKey("waiters");
    }

    @Test
    void aQueuedRunStoppedBySigtermLeavesNoEntryAndTheNextWaiterGetsTheLock() throws Exception {
        CliProcess a = holder("a");
        CliProcess head = waiter("w1");
        CliProcess next = waiter("w2");

        head.terminate();

        assertThat(head.exitCode()).as(head.stderr()).isEqualTo(143);
        assertThat(head.stderr()).contains("SIGTERM while waiting for the lock; nothing is held");
        // Gone before the process exited: no entry for anyone to wait out.
        assertThat(queue()).containsExactly("w2");
        assertThat(waitersOf(statusJson())).containsExactly("w2");

        release("a");

        assertThat(a.exitCode()).as(a.stderr()).isZero();
        assertThat(next.exitCode()).as(next.stderr()).isZero();
        assertThat(order()).containsExactly("a 1", "w2 2");
        Map<String, Object> after = statusJson();
        assertThat(after).containsEntry("state", "IDLE").doesNotContainKey("waiters");
        CliProcess text = cli("status", BUILDER);
        assertThat(text.exitCode()).isZero();
        assertThat(text.stdout()).doesNotContain("WAITERS");
    }

    @Test
    void aQueuedRunKilledBySigkillHoldsTheQueueUpForAtMostItsLeaseAndGrace() throws Exception {
        CliProcess a = holder("a");
        CliProcess dead = waiter("w1");
        CliProcess next = waiter("w2");

        dead.process.destroyForcibly(); // the launcher execs the JVM: this is SIGKILL to replica-lock itself
        assertThat(dead.process.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .isTrue();
        long killed = System.nanoTime();
        assertThat(queue()).as("a killed waiter cannot remove its entry").containsExactly("w1", "w2");
        release("a");

        await().atMost(DEAD_WAITER_BOUND.plusSeconds(2L * SCALE))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> api.holder().equals("w2"));
        Duration blocked = Duration.ofNanos(System.nanoTime() - killed);
        System.out.println("WaiterQueueIT: the SIGKILLed head held the queue up for " + blocked.toMillis()
                + " ms after its death (bound " + DEAD_WAITER_BOUND.toMillis() + " ms + latency)");

        assertThat(queue()).as("the acquisition removed the dead entry ahead").isEmpty();
        assertThat(a.exitCode()).as(a.stderr()).isZero();
        assertThat(next.exitCode()).as(next.stderr()).isZero();
        assertThat(order()).containsExactly("a 1", "w2 2");
    }

    @Test
    void noWaitOnAFreeLockWithAQueuedWaiterIsBusyUnlessItBarges() throws Exception {
        CliProcess a = holder("a");
        CliProcess paused = waiter("w1");
        // A waiter that stopped answering (a stopped VM, a long pause): its entry stays and, to a
        // process that has just started, it looks alive, so the lock stays free but is not up for grabs.
        signal(paused, "STOP");
        release("a");
        assertThat(a.exitCode()).as(a.stderr()).isZero();
        awaitIdle();
        assertThat(queue()).containsExactly("w1");
        String version = api.builder().getMetadata().getResourceVersion();

        CliProcess busy = cli("run", BUILDER, "--no-wait", "--holder", "nb", "--", "touch", "nb.ran");

        assertThat(busy.exitCode()).as(busy.stderr()).isEqualTo(75);
        assertThat(busy.stderr())
                .contains(NAMESPACE + "/" + BUILDER + ": busy, IDLE READY 0/0 (token 1), 1 queued (head 'w1');"
                        + " free, but the queued waiters go first (--fairness barging ignores the queue);"
                        + " not waiting (--no-wait), the command did not run");
        assertThat(Files.exists(dir.resolve("nb.ran"))).isFalse();
        assertThat(api.builder().getMetadata().getResourceVersion())
                .as("no write")
                .isEqualTo(version);

        CliProcess barging = cli(
                "run",
                BUILDER,
                "--no-wait",
                "--fairness",
                "barging",
                "--holder",
                "bg",
                "--",
                "sh",
                "-c",
                "echo \"$REPLICA_LOCK_HOLDER $REPLICA_LOCK_TOKEN\" >> order.txt");

        assertThat(barging.exitCode()).as(barging.stderr()).isZero();
        assertThat(order()).containsExactly("a 1", "bg 2");
        assertThat(queue()).as("barging leaves the queue alone").containsExactly("w1");

        signal(paused, "CONT");

        assertThat(paused.exitCode()).as(paused.stderr()).isZero();
        assertThat(order()).containsExactly("a 1", "bg 2", "w1 3");
        assertThat(queue()).isEmpty();
    }

    private static void signal(CliProcess p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.process.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -" + signal).isZero();
    }
}
