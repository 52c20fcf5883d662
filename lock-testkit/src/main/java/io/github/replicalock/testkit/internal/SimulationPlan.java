package io.github.replicalock.testkit.internal;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * What one seed of the simulation does, decided before anything runs: a pure function of the seed
 * and the limits, so that the same seed always plays the same schedule. Durations are multiples of
 * {@link #TICK}: few distinct instants mean few steps of virtual time (speed) and many things
 * happening at the same instant (races).
 */
public final class SimulationPlan {
    /** The granularity of every planned duration. */
    public static final Duration TICK = Duration.ofMillis(250);

    /** How a hold ends. */
    public enum End {
        /** {@code close()}. */
        RELEASE,
        /** The process dies: its backend is cut off for good and the lock is abandoned. */
        CRASH,
        /** A stop-the-world pause of the whole client (every thread, mid-request too), then close(). */
        PAUSE,
        /** The client is cut off the API server for a while, then close(). */
        PARTITION,
        /** {@code ReplicaLocks.close()} while holding: it must release. The client ends. */
        CLOSE_ALL
    }

    /** One step of a client's script. */
    public sealed interface Op {
        String describe();
    }

    /** Does nothing for a while. */
    public record Idle(Duration duration) implements Op {
        @Override
        public String describe() {
            return "idle " + seconds(duration);
        }
    }

    /** {@code status(target)}: must never throw for a cluster state. */
    public record Status() implements Op {
        @Override
        public String describe() {
            return "status";
        }
    }

    /** What a client does with a lock it got. */
    public record Hold(Duration duration, End end, Duration endFor) {
        String describe() {
            String how = switch (end) {
                case RELEASE -> "release";
                case CRASH -> "crash";
                case PAUSE -> "pause " + seconds(endFor) + " then release";
                case PARTITION -> "cut off " + seconds(endFor) + " then release";
                case CLOSE_ALL -> "close ReplicaLocks";
            };
            return "hold " + seconds(duration) + ", " + how;
        }
    }

    /**
     * {@code tryAcquire}, or {@code acquire(timeout)}; when {@code interruptAfter} is set the
     * waiting thread is interrupted then (if still acquiring), when {@code closeAfter} is set
     * another thread closes the client's {@code ReplicaLocks} then (and the client ends).
     */
    public record Acquire(
            @Nullable Duration timeout,
            @Nullable Duration interruptAfter,
            @Nullable Duration closeAfter,
            Hold hold) implements Op {
        @Override
        public String describe() {
            StringBuilder s = new StringBuilder(timeout == null ? "tryAcquire" : "acquire(" + seconds(timeout) + ")");
            if (interruptAfter != null) {
                s.append(" interrupted after ").append(seconds(interruptAfter));
            }
            if (closeAfter != null) {
                s.append(" closed after ").append(seconds(closeAfter));
            }
            return s.append(", then ").append(hold.describe()).toString();
        }
    }

    /** What happens to the cluster, from outside the clients. */
    public enum ChaosKind {
        /** The shell pipeline: if the lock reads free, {@code kubectl scale 1}; {@code scale 0} later. */
        LEGACY_RUN,
        /** The end of a legacy run: {@code kubectl scale 0}, whoever holds the lock. */
        LEGACY_CLEANUP,
        PODS_NEVER_READY,
        PODS_READY_AGAIN,
        PODS_STUCK_TERMINATING,
        PODS_TERMINATE_AGAIN,
        CONFLICTS,
        TRANSIENT_ERRORS,
        LOST_RESPONSES,
        DROP_WATCHES,
        CUT_OFF,
        HEAL,
        PAUSE,
        LATENCY,
        NO_LATENCY,
        WALL_CLOCK_STEP,
        /** An operator's {@code ReplicaLocks.forceRelease} of whatever hold it reads. */
        FORCE_RELEASE
    }

    /**
     * One chaos event at a planned instant. {@code client} is the victim where there is one, {@code
     * count} a number of faults, {@code duration} a downtime, pause, latency or clock step.
     */
    public record Chaos(Duration at, ChaosKind kind, int client, int count, Duration duration) {
        String describe() {
            String what = switch (kind) {
                case LEGACY_RUN -> "legacy run " + count + ": kubectl scale 1 if free";
                case LEGACY_CLEANUP ->
                    count < 0
                            ? "stray legacy cleanup: kubectl scale 0"
                            : "legacy cleanup of run " + count + ": kubectl scale 0 if it scaled 1";
                case PODS_NEVER_READY -> "pods never ready";
                case PODS_READY_AGAIN -> "pods ready again";
                case PODS_STUCK_TERMINATING -> "pods stuck terminating";
                case PODS_TERMINATE_AGAIN -> "pods terminate again";
                case CONFLICTS -> count + " conflicts";
                case TRANSIENT_ERRORS -> count + " transient errors";
                case LOST_RESPONSES -> count + " lost responses";
                case DROP_WATCHES -> "drop watches for " + seconds(duration);
                case CUT_OFF -> "cut off client-" + client;
                case HEAL -> "heal client-" + client;
                case PAUSE -> "pause client-" + client + " for " + seconds(duration);
                case LATENCY -> "latency " + duration.toMillis() + " ms";
                case NO_LATENCY -> "no latency";
                case WALL_CLOCK_STEP -> "wall clock of client-" + client + " steps " + seconds(duration);
                case FORCE_RELEASE -> "operator force-releases the hold it reads";
            };
            return seconds(at) + " " + what;
        }
    }

    public final long seed;
    public final int clients;
    public final LockOptions options;
    public final Duration podReadyDelay;
    public final Duration podTerminationDelay;
    public final List<List<Op>> scripts;
    public final List<Chaos> chaos;
    /** Per client: its wall clock's offset from the cluster's, and its monotonic clock's origin. */
    public final long[] wallSkewNanos;

    public final long[] monotonicOffsetNanos;
    /** Per client: FIFO (three in four) or BARGING, which ignores the queue as a pre-queue version does. */
    private final Fairness[] fairness;

    private SimulationPlan(long seed, int maxClients, int maxOperations, int maxChaos) {
        this.seed = seed;
        SplittableRandom random = new SplittableRandom(seed);
        clients = 2 + random.nextInt(Math.max(1, maxClients - 1));
        Duration lease = Duration.ofSeconds(2 + random.nextInt(3));
        LockOptions.Builder builder = LockOptions.builder()
                .leaseDuration(lease)
                .takeoverGrace(ticks(2 + random.nextInt(3)))
                .readyTimeout(ticks(8 + random.nextInt(8)))
                .releaseTimeout(ticks(8 + random.nextInt(8)))
                .fallbackPollInterval(ticks(2 + random.nextInt(6)));
        if (random.nextInt(4) == 0) {
            builder.foreignLease(lease.multipliedBy(2));
        }
        options = builder.build();
        podReadyDelay = ticks(random.nextInt(5));
        podTerminationDelay = ticks(random.nextInt(5));
        wallSkewNanos = new long[clients];
        monotonicOffsetNanos = new long[clients];
        boolean skewed = random.nextBoolean();
        for (int i = 0; i < clients; i++) {
            // Up to an hour either way, to the millisecond: wall time is only written, never trusted.
            wallSkewNanos[i] = skewed
                    ? Duration.ofMillis(random.nextLong(-3_600_000, 3_600_001)).toNanos()
                    : 0;
            // Any origin, as System.nanoTime's is arbitrary: negative, and close enough to either end of
            // the range that instants a few minutes on wrap.
            monotonicOffsetNanos[i] = switch (random.nextInt(4)) {
                case 0 ->
                    Long.MAX_VALUE - random.nextLong(Duration.ofMinutes(10).toNanos());
                case 1 ->
                    Long.MIN_VALUE + random.nextLong(Duration.ofMinutes(10).toNanos());
                default -> random.nextLong();
            };
        }
        List<List<Op>> plannedScripts = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            plannedScripts.add(script(random.split(), maxOperations));
        }
        scripts = List.copyOf(plannedScripts);
        chaos = withForceReleases(chaos(random.split(), maxChaos), maxChaos, new SplittableRandom(~seed));
        // From a stream of its own, so that the rest of each seed's plan is what it was before fairness.
        SplittableRandom fairnessRandom = new SplittableRandom(seed ^ 0x5DEECE66DL);
        fairness = new Fairness[clients];
        for (int i = 0; i < clients; i++) {
            fairness[i] = fairnessRandom.nextInt(4) == 0 ? Fairness.BARGING : Fairness.FIFO;
        }
    }

    /**
     * In one seed in four, one or two operator force-releases. From a stream of their own, so that
     * every other part of each seed's plan is what it was before force-release existed.
     */
    private static List<Chaos> withForceReleases(List<Chaos> planned, int maxChaos, SplittableRandom random) {
        if (maxChaos == 0 || random.nextInt(4) != 0) {
            return planned;
        }
        List<Chaos> events = new ArrayList<>(planned);
        for (int n = 1 + random.nextInt(2); n > 0; n--) {
            events.add(new Chaos(ticks(random.nextInt(80)), ChaosKind.FORCE_RELEASE, 0, 0, Duration.ZERO));
        }
        events.sort(Comparator.comparing(Chaos::at));
        return List.copyOf(events);
    }

    /** The options of {@code client}: the run's, with that client's fairness. */
    public LockOptions options(int client) {
        return options.toBuilder().fairness(fairness[client]).build();
    }

    public Fairness fairness(int client) {
        return fairness[client];
    }

    /**
     * The plan of {@code seed}.
     *
     * @param maxClients at least 2
     * @param maxOperations per client, at least 1
     * @param maxChaos chaos events, at least 0
     */
    public static SimulationPlan of(long seed, int maxClients, int maxOperations, int maxChaos) {
        return new SimulationPlan(seed, maxClients, maxOperations, maxChaos);
    }

    private List<Op> script(SplittableRandom random, int maxOperations) {
        List<Op> ops = new ArrayList<>();
        int count = 1 + random.nextInt(maxOperations);
        Duration lease = options.leaseDuration();
        for (int n = 0; n < count; n++) {
            int dice = random.nextInt(100);
            Op op;
            if (dice < 10) {
                op = new Idle(ticks(1 + random.nextInt(12)));
            } else if (dice < 15) {
                op = new Status();
            } else if (dice < 35) {
                op = new Acquire(null, null, null, hold(random, lease));
            } else if (dice < 80) {
                op = new Acquire(ticks(1 + random.nextInt(40)), null, null, hold(random, lease));
            } else if (dice < 93) {
                op = new Acquire(ticks(4 + random.nextInt(40)), ticks(random.nextInt(16)), null, hold(random, lease));
            } else {
                op = new Acquire(ticks(4 + random.nextInt(40)), null, ticks(random.nextInt(16)), hold(random, lease));
            }
            ops.add(op);
        }
        return List.copyOf(ops);
    }

    private static Hold hold(SplittableRandom random, Duration lease) {
        Duration duration = ticks(random.nextInt(20));
        int dice = random.nextInt(100);
        End end;
        if (dice < 62) {
            end = End.RELEASE;
        } else if (dice < 72) {
            end = End.CRASH;
        } else if (dice < 84) {
            end = End.PAUSE;
        } else if (dice < 96) {
            end = End.PARTITION;
        } else {
            end = End.CLOSE_ALL;
        }
        // Shorter than the lease half of the time, longer (so that the lock is lost) otherwise.
        Duration endFor = random.nextBoolean()
                ? ticks(1 + random.nextInt((int) (lease.toMillis() / TICK.toMillis())))
                : lease.plus(ticks(random.nextInt(12)));
        return new Hold(duration, end, endFor);
    }

    private List<Chaos> chaos(SplittableRandom random, int maxChaos) {
        List<Chaos> events = new ArrayList<>();
        int count = maxChaos == 0 ? 0 : random.nextInt(maxChaos + 1);
        ChaosKind[] kinds = {
            ChaosKind.LEGACY_RUN,
            ChaosKind.LEGACY_CLEANUP,
            ChaosKind.PODS_NEVER_READY,
            ChaosKind.PODS_STUCK_TERMINATING,
            ChaosKind.CONFLICTS,
            ChaosKind.TRANSIENT_ERRORS,
            ChaosKind.LOST_RESPONSES,
            ChaosKind.DROP_WATCHES,
            ChaosKind.CUT_OFF,
            ChaosKind.PAUSE,
            ChaosKind.LATENCY,
            ChaosKind.WALL_CLOCK_STEP
        };
        for (int n = 0; n < count; n++) {
            Duration at = ticks(random.nextInt(80));
            ChaosKind kind = kinds[random.nextInt(kinds.length)];
            int client = random.nextInt(clients);
            Duration downFor = ticks(1 + random.nextInt(24));
            switch (kind) {
                case LEGACY_RUN -> {
                    // count pairs the cleanup with its run: it scales to 0 only if that run scaled to 1.
                    events.add(new Chaos(at, kind, client, n, downFor));
                    events.add(new Chaos(at.plus(downFor), ChaosKind.LEGACY_CLEANUP, client, n, Duration.ZERO));
                }
                case LEGACY_CLEANUP -> events.add(new Chaos(at, kind, client, -1, Duration.ZERO));
                case PODS_NEVER_READY -> {
                    events.add(new Chaos(at, kind, client, 0, downFor));
                    events.add(new Chaos(at.plus(downFor), ChaosKind.PODS_READY_AGAIN, client, 0, Duration.ZERO));
                }
                case PODS_STUCK_TERMINATING -> {
                    events.add(new Chaos(at, kind, client, 0, downFor));
                    events.add(new Chaos(at.plus(downFor), ChaosKind.PODS_TERMINATE_AGAIN, client, 0, Duration.ZERO));
                }
                case CUT_OFF -> {
                    events.add(new Chaos(at, kind, client, 0, downFor));
                    events.add(new Chaos(at.plus(downFor), ChaosKind.HEAL, client, 0, Duration.ZERO));
                }
                case LATENCY -> {
                    Duration latency = Duration.ofMillis(5L * (1 + random.nextInt(60)));
                    events.add(new Chaos(at, kind, client, 0, latency));
                    events.add(new Chaos(at.plus(downFor), ChaosKind.NO_LATENCY, client, 0, Duration.ZERO));
                }
                case WALL_CLOCK_STEP ->
                    events.add(new Chaos(at, kind, client, 0, Duration.ofMillis(random.nextLong(-600_000, 600_001))));
                case CONFLICTS, TRANSIENT_ERRORS, LOST_RESPONSES ->
                    events.add(new Chaos(
                            at, kind, client, 1 + random.nextInt(kind == ChaosKind.CONFLICTS ? 12 : 4), downFor));
                default -> events.add(new Chaos(at, kind, client, 0, downFor));
            }
        }
        // Stable: events at the same instant keep the order they were planned in.
        events.sort(Comparator.comparing(Chaos::at));
        return List.copyOf(events);
    }

    /** The plan, one line each, as printed with a failure. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add("seed " + seed + ": " + clients + " clients, " + options + ", pods ready after "
                + seconds(podReadyDelay) + ", gone after " + seconds(podTerminationDelay));
        for (int i = 0; i < clients; i++) {
            StringBuilder line = new StringBuilder("client-")
                    .append(i)
                    .append(" (wall clock ")
                    .append(wallSkewNanos[i] >= 0 ? "+" : "")
                    .append(Duration.ofNanos(wallSkewNanos[i]).toMillis())
                    .append(" ms, ")
                    .append(fairness[i])
                    .append("):");
            for (Op op : scripts.get(i)) {
                line.append(" [").append(op.describe()).append(']');
            }
            lines.add(line.toString());
        }
        for (Chaos event : chaos) {
            lines.add("chaos " + event.describe());
        }
        return List.copyOf(lines);
    }

    /** How many planned steps: client operations and chaos events. */
    public int operations() {
        return scripts.stream().mapToInt(List::size).sum() + chaos.size();
    }

    static Duration ticks(int n) {
        return TICK.multipliedBy(n);
    }

    static String seconds(Duration d) {
        return d.toMillis() / 1000.0 + "s";
    }
}
