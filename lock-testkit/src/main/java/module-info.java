/**
 * The replica-lock test kit: an in-memory fake cluster with a simulated deployment controller,
 * scriptable faults and virtual time, and a JUnit 5 extension.
 *
 * <pre>{@code
 * try (FakeCluster cluster = FakeCluster.create()) {
 *     LockTarget target = cluster.createDeployment("ci", "builder");
 *     LockBackend backend = cluster.backend();
 * }
 * }</pre>
 */
module io.github.replicalock.testkit {
    requires transitive io.github.replicalock.api;
    // VirtualTime asks who owns the lock a participant is blocked on.
    requires java.management;
    // Optional at run time: only the extension and the contract suite use them, and their users
    // bring them. Transitive because the extension's signatures show JUnit types.
    requires static transitive org.junit.jupiter.api;
    requires static org.assertj.core;

    exports io.github.replicalock.testkit;
}
