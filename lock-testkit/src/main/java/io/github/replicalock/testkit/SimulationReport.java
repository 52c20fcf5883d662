package io.github.replicalock.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one seed of a {@link Simulation} did and whether the lock's invariants held.
 *
 * <pre>{@code
 * SimulationReport report = Simulation.builder().build().run(42);
 * if (!report.passed()) {
 *     throw new AssertionError(report.describe());  // seed, plan, violations, trace
 * }
 * long takeovers = report.count("takeover");
 * }</pre>
 *
 * @param seed the seed; {@code Simulation.run(seed)} plays the same schedule again
 * @param plan the schedule the seed decided, one line per client and per chaos event
 * @param violations the invariants that did not hold, each with its virtual instant; empty if it passed
 * @param counts what happened, by name (acquisitions, takeovers, timeouts, faults injected...)
 * @param operations the planned client operations and chaos events
 * @param virtualTime how much virtual time the run took
 * @param trace what happened, with virtual instants: lock writes, outcomes, faults (the last lines
 *     if it was long)
 */
public record SimulationReport(
        long seed,
        List<String> plan,
        List<String> violations,
        Map<String, Long> counts,
        int operations,
        Duration virtualTime,
        List<String> trace) {

    public SimulationReport {
        plan = List.copyOf(plan);
        violations = List.copyOf(violations);
        counts = Map.copyOf(counts);
        Objects.requireNonNull(virtualTime, "virtualTime");
        trace = List.copyOf(trace);
    }

    /** True if no invariant was violated. */
    public boolean passed() {
        return violations.isEmpty();
    }

    /** How often {@code what} happened; 0 if it never did. */
    public long count(String what) {
        return counts.getOrDefault(what, 0L);
    }

    /** Seed, verdict, plan, violations, counts and trace, for a failure message. */
    public String describe() {
        StringBuilder s = new StringBuilder("seed ")
                .append(seed)
                .append(passed() ? ": passed" : ": " + violations.size() + " violation(s)")
                .append(" in ")
                .append(virtualTime)
                .append(" of virtual time\n");
        for (String violation : violations) {
            s.append("  VIOLATION ").append(violation).append('\n');
        }
        s.append("plan:\n");
        for (String line : plan) {
            s.append("  ").append(line).append('\n');
        }
        s.append("counts: ").append(new TreeMap<>(counts)).append('\n');
        s.append("trace:\n");
        for (String line : trace) {
            s.append("  ").append(line).append('\n');
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return "SimulationReport{seed=" + seed + (passed() ? ", passed" : ", violations=" + violations)
                + ", operations=" + operations + ", virtualTime=" + virtualTime + "}";
    }
}
