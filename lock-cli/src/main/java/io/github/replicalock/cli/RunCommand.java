package io.github.replicalock.cli;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueEntry;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code replica-lock run DEPLOYMENT [options] -- COMMAND...}: the build step, lock taken and given back. */
@Command(
        name = "run",
        sortOptions = false,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpWidth = 100,
        headerHeading = "%n",
        customSynopsis = "replica-lock run [OPTIONS] DEPLOYMENT -- COMMAND [ARGS...]",
        header = "Take the lock, run COMMAND with a Ready builder pod, release the lock however COMMAND ends.",
        description = {
            "%nWaits for the lock (woken by a watch, not by polling), then for the builder pod to be Ready,",
            "then runs COMMAND with stdin/stdout/stderr inherited and these variables added:",
            "  REPLICA_LOCK_POD, REPLICA_LOCK_TOKEN (the fencing token), REPLICA_LOCK_HOLDER,",
            "  REPLICA_LOCK_NAMESPACE, REPLICA_LOCK_DEPLOYMENT.",
            "The lease is renewed while COMMAND runs. SIGTERM or SIGINT is passed to COMMAND; after",
            "--kill-after it and its descendants are killed (a second signal kills at once); then the",
            "lock is released. If the lock is lost while COMMAND runs (scaled to 0 under it, taken over),",
            "COMMAND is stopped the same way and the exit code is 76.",
            "Waiting builds queue on the deployment and get the lock in arrival order (--fairness fifo);",
            "a waiter killed while queued (SIGKILL) among the first three holds the queue up for at most 3s.",
            "Exits with COMMAND's own exit code when it ran.%n"
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {})
final class RunCommand extends DeploymentCommand {
    static final Duration DEFAULT_WAIT = Duration.ofMinutes(10);
    /** The library's waiter grace (docs/lock-protocol.md 10.3), added to an entry's lease to judge it dead. */
    private static final Duration WAITER_GRACE = Duration.ofSeconds(1);
    /** Covers the reads' latency, so the last look comes after the judge's deadline. */
    private static final Duration JUDGE_MARGIN = Duration.ofMillis(250);
    /**
     * {@code --no-wait} waits no longer than this to judge a queue: the longest lease a waiter
     * promises (20 s, further back in the queue: docs/lock-protocol.md 10.3) plus the grace and the
     * margin. Entries of another version's longer lease are not judged: busy.
     */
    private static final Duration LONGEST_JUDGEMENT = Duration.ofSeconds(22);

    private static final Duration JUDGE_POLL = Duration.ofMillis(250);

    @Parameters(
            index = "1..*",
            arity = "1..*",
            paramLabel = "COMMAND",
            description = "The build and its arguments, after '--'.")
    List<String> command = new ArrayList<>();

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            description = "How long to wait for the lock (default 10m); e.g. 90s, 10m, 1h30m.")
    @Nullable
    String waitFor;

    @Option(
            names = "--no-wait",
            description = "Do not wait: exit with the busy code at once if the lock is taken (if it is free with"
                    + " waiters queued, up to 3s to see whether they are alive, 21s when one was further back"
                    + " in the queue).")
    boolean noWait;

    @Option(
            names = "--fairness",
            paramLabel = "fifo|barging",
            description =
                    "fifo (default): join the queue of waiters and get the lock in arrival order; --no-wait is busy"
                            + " while others are queued. barging: ignore the queue, take the lock whenever it is free.")
    String fairness = "fifo";

    @Option(
            names = "--lease",
            paramLabel = "DURATION",
            description =
                    "The lease, renewed every third of it; others take over after it if this process dies (default 30s).")
    String lease = "30s";

    @Option(
            names = "--ready-timeout",
            paramLabel = "DURATION",
            description = "How long to wait for a Ready builder pod before giving the lock back (default 120s).")
    String readyTimeout = "120s";

    @Option(
            names = "--release-timeout",
            paramLabel = "DURATION",
            description = "How long the release waits for the builder pod to be gone (default 60s).")
    String releaseTimeout = "60s";

    @Option(
            names = "--kill-after",
            paramLabel = "DURATION",
            description =
                    "After a signal or a lost lock, how long COMMAND may take to stop before it is killed (default 10s).")
    String killAfter = "10s";

    @Option(
            names = "--holder",
            paramLabel = "NAME",
            description =
                    "Who holds the lock, shown by kubectl and status; unique per build"
                            + " (default $DRONE_REPO/$DRONE_BUILD_NUMBER[/$DRONE_STEP_NAME], GitLab's or GitHub's equivalent, else host/pid/random).")
    @Nullable
    String holder;

    @Option(
            names = "--busy-exit-code",
            paramLabel = "CODE",
            description = "The exit code when the lock is busy (--no-wait) or the wait timed out (default 75).")
    String busyExitCode = Integer.toString(ExitCodes.BUSY);

    RunCommand(Terminal terminal) {
        super(terminal);
    }

    /** Everything {@code run} was asked to do, checked before any request is sent. */
    record Plan(
            LockTarget target,
            @Nullable Duration waitLimit,
            LockOptions options,
            Duration killAfter,
            String holder,
            int busyExitCode,
            List<String> command) {}

    /**
     * Checks every argument.
     *
     * @throws CliFailure (usage, 64) naming the namespace, the deployment and the offending value
     */
    Plan plan() {
        LockTarget target = cluster.target(deployment);
        if (noWait && waitFor != null) {
            throw CliFailure.usage(target + ": --wait '" + waitFor + "' and --no-wait contradict each other; give one");
        }
        Duration wait = noWait ? null : waitFor == null ? DEFAULT_WAIT : positive(target, "--wait", waitFor);
        Duration leaseDuration = positive(target, "--lease", lease);
        if (leaseDuration.compareTo(Duration.ofSeconds(1)) < 0) {
            throw CliFailure.usage(
                    target + ": --lease '" + lease + "' is shorter than 1s; the annotation holds whole seconds");
        }
        LockOptions options;
        try {
            options = LockOptions.builder()
                    .leaseDuration(leaseDuration)
                    .readyTimeout(positive(target, "--ready-timeout", readyTimeout))
                    .releaseTimeout(positive(target, "--release-timeout", releaseTimeout))
                    .fairness(fairness(target, fairness))
                    .build();
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(target + ": " + e.getMessage());
        }
        Duration kill = duration(target, "--kill-after", killAfter);
        if (kill.isNegative()) {
            throw CliFailure.usage(target + ": --kill-after '" + killAfter + "' must not be negative");
        }
        String who = holder != null
                ? checkHolder(target, holder)
                : HolderNames.fromEnvironment(
                        terminal.env(),
                        HolderNames.host(terminal.env()),
                        ProcessHandle.current().pid());
        int busy = exitCode(target, "--busy-exit-code", busyExitCode);
        if (command.isEmpty() || command.get(0).isBlank()) {
            throw CliFailure.usage(target + ": no COMMAND given; put it after '--'");
        }
        return new Plan(target, wait, options, kill, who, busy, List.copyOf(command));
    }

    @Override
    public Integer call() {
        Plan plan = plan();
        Session session = new Session(Thread.currentThread());
        Thread hook = new Thread(session::onShutdown, "replica-lock-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Signals signals = Signals.handle(session::onSignal)) {
            return run(plan, session);
        } finally {
            session.finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running and waits for finished
            }
        }
    }

    private int run(Plan plan, Session session) {
        LockTarget target = plan.target();
        try (ClusterOptions.Cluster connection = cluster.connect(deployment);
                ReplicaLocks locks = ReplicaLocks.builder()
                        .backend(connection.backend())
                        .holder(plan.holder())
                        .options(plan.options())
                        // Our own order on SIGTERM: stop the build first, release after.
                        .shutdownHook(false)
                        .build()) {
            ReplicaLock lock;
            Duration waited;
            try (Progress progress =
                    Progress.start(locks, target, terminal, cluster.quiet, Progress.WAITING_FOR_LOCK)) {
                Optional<ReplicaLock> got = plan.waitLimit() == null
                        ? tryAcquire(locks, connection, plan)
                        : Optional.of(locks.acquire(target, plan.waitLimit()));
                waited = progress.elapsed();
                if (got.isEmpty()) {
                    LockStatus status = locks.status(target);
                    throw new CliFailure(
                            plan.busyExitCode(),
                            target + ": busy, "
                                    + StatusView.phrase(status, terminal.clock().instant())
                                    + (status.state() == LockState.IDLE
                                                    && !status.waiters().isEmpty()
                                            ? "; free, but the queued waiters go first (--fairness barging"
                                                    + " ignores the queue)"
                                            : "")
                                    + "; not waiting (--no-wait), the command did not run");
                }
                lock = got.get();
            } catch (LockTimeoutException e) {
                throw new CliFailure(plan.busyExitCode(), e.getMessage() + "; the command did not run", e);
            } catch (InterruptedException e) {
                int signal = session.pendingSignal.get();
                terminal.error(target + ": " + Supervisor.signalName(signal == 0 ? Signals.SIGTERM : signal)
                        + " while waiting for the lock; nothing is held, the command did not run");
                return ExitCodes.forSignal(signal == 0 ? Signals.SIGTERM : signal);
            }
            Supervisor supervisor = new Supervisor(terminal, cluster.quiet, plan.killAfter());
            session.supervise(supervisor);
            Thread.interrupted(); // a signal just before the line above interrupted us; it is queued now
            terminal.info(
                    cluster.quiet,
                    target + ": acquired by '" + lock.holder() + "' with token " + lock.fencingToken()
                            + " after " + Durations.format(waited) + ", pod " + String.join(",", lock.pods())
                            + " Ready; running "
                            + plan.command().get(0));
            return supervisor.run(lock, plan.command(), environment(lock));
        }
    }

    /**
     * {@code --no-wait}. Under FIFO one look is not enough when the lock is free and waiters are
     * queued: this process has just started, so it sees every entry for the first time, and an entry
     * first seen counts as alive (docs/lock-protocol.md 10.5). A queue whose waiters all died (a
     * SIGKILLed step) would then make every later {@code --no-wait} step busy for as long as nobody
     * waits, each step being a new process. So it looks on for the entries' lease plus grace, woken
     * by the watch: live waiters take the lock meanwhile (busy), dead ones are judged dead by then
     * and the lock is ours, their entries removed by our write.
     */
    private static Optional<ReplicaLock> tryAcquire(ReplicaLocks locks, ClusterOptions.Cluster connection, Plan plan)
            throws InterruptedException {
        LockTarget target = plan.target();
        Optional<ReplicaLock> got = locks.tryAcquire(target);
        if (got.isPresent() || plan.options().fairness() != Fairness.FIFO || !freeButQueued(locks.status(target))) {
            return got;
        }
        LockRecord record = connection.backend().read(target);
        Duration judge = record.queue().entries().stream()
                .map(QueueEntry::lease)
                .max(Duration::compareTo)
                .map(lease -> lease.plus(WAITER_GRACE).plus(JUDGE_MARGIN))
                .orElse(Duration.ZERO);
        if (judge.isZero() || judge.compareTo(LONGEST_JUDGEMENT) > 0) {
            return got;
        }
        long deadline = System.nanoTime() + judge.toNanos();
        Semaphore changed = new Semaphore(0);
        try (Subscription watch = connection.backend().watch(target, changed::release)) {
            while (true) {
                long left = deadline - System.nanoTime();
                long sleep = watch.isConnected() ? left : Math.min(left, JUDGE_POLL.toNanos());
                if (left > 0 && changed.tryAcquire(sleep, TimeUnit.NANOSECONDS)) {
                    changed.drainPermits();
                }
                got = locks.tryAcquire(target);
                if (got.isPresent() || left <= 0 || !freeButQueued(locks.status(target))) {
                    return got;
                }
            }
        }
    }

    private static boolean freeButQueued(LockStatus status) {
        return status.state() == LockState.IDLE && !status.waiters().isEmpty();
    }

    private static Map<String, String> environment(ReplicaLock lock) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("REPLICA_LOCK_POD", lock.pods().isEmpty() ? "" : lock.pods().get(0));
        env.put("REPLICA_LOCK_TOKEN", Long.toString(lock.fencingToken()));
        env.put("REPLICA_LOCK_HOLDER", lock.holder());
        env.put("REPLICA_LOCK_NAMESPACE", lock.target().namespace());
        env.put("REPLICA_LOCK_DEPLOYMENT", lock.target().name());
        return env;
    }

    /**
     * Signals and the shutdown hook, whatever phase {@code run} is in: while waiting for the lock the
     * main thread is interrupted (acquisition leaves nothing behind); once the lock is held they go to
     * the supervisor.
     */
    private final class Session {
        private final Thread main;
        final AtomicInteger pendingSignal = new AtomicInteger();
        final CountDownLatch finished = new CountDownLatch(1);
        private volatile @Nullable Supervisor supervisor;

        Session(Thread main) {
            this.main = main;
        }

        synchronized void supervise(Supervisor s) {
            supervisor = s;
            int early = pendingSignal.get();
            if (early != 0) {
                s.signal(early);
            }
        }

        synchronized void onSignal(int signal) {
            Supervisor s = supervisor;
            if (s != null) {
                s.signal(signal);
            } else if (pendingSignal.compareAndSet(0, signal)) {
                main.interrupt();
            }
        }

        /** JVM shutdown we did not see as a signal (SIGHUP, or signals we could not handle): the same order. */
        void onShutdown() {
            if (finished.getCount() == 0) {
                return;
            }
            onSignal(Signals.SIGTERM);
            Duration patience = Duration.ofMillis(Durations.parse(killAfter).toMillis())
                    .plus(Durations.parse(releaseTimeout))
                    .plusSeconds(30);
            try {
                finished.await(patience.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Duration duration(LockTarget target, String option, String text) {
        try {
            return Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(target + ": " + option + " " + e.getMessage());
        }
    }

    private static Duration positive(LockTarget target, String option, String text) {
        Duration d = duration(target, option, text);
        if (d.isZero() || d.isNegative()) {
            throw CliFailure.usage(target + ": " + option + " '" + text + "' must be positive"
                    + ("--wait".equals(option) ? " (use --no-wait not to wait)" : ""));
        }
        return d;
    }

    static Fairness fairness(LockTarget target, String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "fifo" -> Fairness.FIFO;
            case "barging" -> Fairness.BARGING;
            default ->
                throw CliFailure.usage(
                        target + ": --fairness '" + text + "' is not a fairness: expected fifo or barging");
        };
    }

    static int exitCode(LockTarget target, String option, String text) {
        try {
            int code = Integer.parseInt(text.strip());
            if (code >= 0 && code <= 255) {
                return code;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliFailure.usage(target + ": " + option + " '" + text + "' is not an exit code: expected 0 to 255");
    }

    static String checkHolder(LockTarget target, String holder) {
        return checkIdentity(target, "--holder", holder);
    }

    /** An identity for the holder annotation (or a force-release's record), given as {@code option}. */
    static String checkIdentity(LockTarget target, String option, String identity) {
        if (identity.isBlank()
                || identity.length() > HolderNames.MAX_LENGTH
                || identity.chars().anyMatch(Character::isISOControl)) {
            throw CliFailure.usage(target + ": " + option + " '" + identity + "' must be 1 to " + HolderNames.MAX_LENGTH
                    + " printable characters, not blank");
        }
        return identity;
    }
}
