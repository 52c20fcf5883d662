package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.VirtualClock;

/**
 * What the parts of one run share: the plan, the run's clock, its cluster and lock, where it
 * records, and the invariants it checks.
 */
record RunContext(
        SimulationPlan plan,
        VirtualClock clock,
        FakeCluster cluster,
        LockTarget target,
        RunLog log,
        Invariants invariants) {}
