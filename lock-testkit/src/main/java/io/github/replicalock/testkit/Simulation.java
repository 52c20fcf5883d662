package io.github.replicalock.testkit;

import io.github.replicalock.testkit.internal.SimulationPlan;
import io.github.replicalock.testkit.internal.SimulationRun;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A seeded simulation of the lock protocol under faults: from a seed it builds a {@link
 * FakeCluster} in virtual time, starts a few clients (each its own {@link
 * io.github.replicalock.ReplicaLocks} with its own holder identity, {@link FakeBackend}, wall clock
 * and scheduler thread), plays a random schedule, and checks the lock's invariants on the cluster's
 * write history and on what every client believes.
 *
 * <pre>{@code
 * Simulation simulation = Simulation.builder().maxClients(3).build();
 * for (long seed = 1; seed <= 2_000; seed++) {
 *     SimulationReport report = simulation.run(seed);
 *     if (!report.passed()) {
 *         throw new AssertionError(report.describe()); // replay: simulation.run(seed) again
 *     }
 * }
 * }</pre>
 *
 * <p><b>The schedule</b> is a pure function of the seed ({@link SimulationReport#plan()}): per client
 * a script of {@code tryAcquire} and {@code acquire} with timeouts, holds of random length ending
 * in a release, a crash (cut off for good, the lock abandoned), a stop-the-world pause or a network
 * partition (shorter or longer than the lease), {@code ReplicaLocks.close()}, interrupts and closes
 * from another thread while acquiring; and chaos from outside: the legacy shell pipeline's {@code
 * kubectl scale} (its check-then-act included), pods never Ready or stuck terminating, conflicts,
 * transient errors and lost responses on random requests, dropped watches, request latency, and
 * clients whose wall clocks are skewed by up to an hour and step by NTP. Thread interleavings at
 * one virtual instant are the JVM's: a seed replays the same schedule, and a violation it found
 * once is found again in nearly every replay.
 *
 * <p><b>The invariants</b> (see {@code docs/reliability.md}):
 *
 * <ol>
 *   <li>mutual exclusion by token: a client holding an older token than the newest one handed
 *       out has been told ({@code isHeld()} false, or its lost-listener ran) a lease after the
 *       newer one was handed out at the latest; no takeover before a hold went unchanged for its
 *       lease plus grace;
 *   <li>tokens strictly increase over acquisitions and takeovers, none is handed out twice, and
 *       every token a client got was written for it;
 *   <li>no client ever renews, releases or clears a lock it does not hold;
 *   <li>once every holder has crashed or released, a waiting client gets the lock within lease +
 *       grace + one renew interval (+ the pods' termination delay);
 *   <li>after every client closes, replicas are 0, no holder is recorded and no pod is left;
 *   <li>an acquisition that timed out, was interrupted, found no Ready pod or was closed leaves no
 *       hold of its own behind (unless the API server was unreachable for the undo too: then the
 *       hold expires, which 4 checks);
 * </ol>
 *
 * plus the API's contracts: typed exceptions only, {@code isHeld()} false after {@code close()},
 * and no lost-listener for a lock that was released normally.
 *
 * <p>Thread-safe: seeds are independent and may run in parallel, each on its own cluster.
 */
public final class Simulation {
    private final int maxClients;
    private final int maxOperations;
    private final int maxChaos;
    private final Duration quietPeriod;
    private final Duration realTimeLimit;

    private Simulation(Builder builder) {
        this.maxClients = builder.maxClients;
        this.maxOperations = builder.maxOperations;
        this.maxChaos = builder.maxChaos;
        this.quietPeriod = builder.quietPeriod;
        this.realTimeLimit = builder.realTimeLimit;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The schedule {@code seed} plays, one line per client and per chaos event, without running it. */
    public List<String> plan(long seed) {
        return SimulationPlan.of(seed, maxClients, maxOperations, maxChaos).describe();
    }

    /**
     * Plays the schedule of {@code seed} and checks the invariants. Never throws for what the lock
     * does: violations, a stall of virtual time and a hang in real time are in the report.
     */
    public SimulationReport run(long seed) {
        SimulationPlan plan = SimulationPlan.of(seed, maxClients, maxOperations, maxChaos);
        return new SimulationRun(plan, quietPeriod, realTimeLimit).run();
    }

    @Override
    public String toString() {
        return "Simulation{maxClients=" + maxClients + ", maxOperations=" + maxOperations + ", maxChaos=" + maxChaos
                + "}";
    }

    /** Builds a {@link Simulation}; every setting is optional. */
    public static final class Builder {
        private int maxClients = 3;
        private int maxOperations = 4;
        private int maxChaos = 6;
        private Duration quietPeriod = Timing.scaled(VirtualClock.DEFAULT_QUIET_PERIOD);
        private Duration realTimeLimit = Timing.scaled(Duration.ofSeconds(60));

        private Builder() {}

        /** Each seed runs 2 to this many clients; default 3. */
        public Builder maxClients(int maxClients) {
            if (maxClients < 2) {
                throw new IllegalArgumentException("maxClients must be at least 2, got " + maxClients);
            }
            this.maxClients = maxClients;
            return this;
        }

        /** Each client's script has 1 to this many operations; default 4. */
        public Builder maxOperations(int maxOperations) {
            if (maxOperations < 1) {
                throw new IllegalArgumentException("maxOperations must be at least 1, got " + maxOperations);
            }
            this.maxOperations = maxOperations;
            return this;
        }

        /** Each seed injects 0 to this many chaos events; default 6, 0 for none. */
        public Builder maxChaos(int maxChaos) {
            if (maxChaos < 0) {
                throw new IllegalArgumentException("maxChaos must not be negative, got " + maxChaos);
            }
            this.maxChaos = maxChaos;
            return this;
        }

        /**
         * The quiet period of each seed's {@link VirtualClock}; default {@link
         * VirtualClock#DEFAULT_QUIET_PERIOD} scaled by {@link Timing#scale()}.
         */
        public Builder quietPeriod(Duration quietPeriod) {
            Objects.requireNonNull(quietPeriod, "quietPeriod must not be null");
            if (quietPeriod.isZero() || quietPeriod.isNegative()) {
                throw new IllegalArgumentException("quietPeriod must be positive, got " + quietPeriod);
            }
            this.quietPeriod = quietPeriod;
            return this;
        }

        /**
         * Real time after which a seed that has not finished is reported as hung (with its threads'
         * stacks) and stopped; default 60 s scaled by {@link Timing#scale()}.
         */
        public Builder realTimeLimit(Duration realTimeLimit) {
            Objects.requireNonNull(realTimeLimit, "realTimeLimit must not be null");
            if (realTimeLimit.isZero() || realTimeLimit.isNegative()) {
                throw new IllegalArgumentException("realTimeLimit must be positive, got " + realTimeLimit);
            }
            this.realTimeLimit = realTimeLimit;
            return this;
        }

        public Simulation build() {
            return new Simulation(this);
        }
    }
}
