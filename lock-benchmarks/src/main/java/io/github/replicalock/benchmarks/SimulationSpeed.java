package io.github.replicalock.benchmarks;

/**
 * Scenario 6: seeds per second of the test kit's reliability simulation. That simulation is being
 * written in lock-testkit and is not on main yet, so this scenario reports the skip.
 */
final class SimulationSpeed {
    private SimulationSpeed() {}

    static Section run() {
        return new Section("6. Simulation throughput").para("""
                        Skipped: the reliability simulation (seeded, in lock-testkit) is not on main yet; when it \
                        is, this scenario runs it for a fixed number of seeds and reports seeds per second. The \
                        existing `SimulationTest` in lock-testkit's tests (three clients, 30 virtual minutes) is a \
                        test of the fake, not the simulation this scenario is for.""");
    }
}
