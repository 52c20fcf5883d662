package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What one uncontended lock cycle ({@code ReplicaLocks.acquire}, then {@code close()}) costs on the
 * wire, counted from the mock server's request log without the controller simulation's own
 * requests. The exact lists are printed. Watch set-up aside (each informer's list and watch), an
 * acquisition is its conditional write and its event, and so is a release: every read comes from
 * the watch caches, and a read that goes back to the server fails these tests.
 *
 * <p>Each measured cycle runs on a fresh {@link ReplicaLocks} (no watch open yet) after a warm-up
 * cycle has written the lock annotations once: the very first write to a Deployment without them is
 * guarded by its resourceVersion and may need one retry (see {@code LockPatch}).
 */
class LockCycleRequestsTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    private static final LockOptions OPTIONS = LockOptions.builder()
            // A lease far longer than the test: no renewal lands in the log.
            .leaseDuration(Duration.ofMinutes(5))
            .readyTimeout(Duration.ofSeconds(10))
            .releaseTimeout(Duration.ofSeconds(10))
            .build();

    private MockCluster cluster;
    private ControllerSimulation controller;

    @BeforeEach
    void setUp() throws Exception {
        cluster = MockCluster.crud();
        cluster.createBuilder(BUILDER);
        controller = ControllerSimulation.start(cluster.client, NAMESPACE);
        try (ReplicaLocks warmUp = locks(KubernetesReplicaBackendTest.backend(cluster));
                ReplicaLock lock = warmUp.acquire(TARGET, Duration.ofSeconds(10))) {
            assertThat(lock.fencingToken()).isEqualTo(1);
        }
    }

    @AfterEach
    void tearDown() {
        controller.close();
        cluster.close();
    }

    private static ReplicaLocks locks(KubernetesReplicaBackend backend) {
        return ReplicaLocks.builder()
                .backend(backend)
                .holder("build-1")
                .options(OPTIONS)
                .shutdownHook(false)
                .build();
    }

    /** Acquire and release; the requests of each, printed. */
    private List<List<String>> cycle(String title, KubernetesReplicaBackend backend) throws Exception {
        return cycle(title, backend, () -> {});
    }

    private List<List<String>> cycle(String title, KubernetesReplicaBackend backend, Runnable build) throws Exception {
        try (ReplicaLocks locks = locks(backend)) {
            cluster.clearRequests();
            List<String> acquire;
            try (ReplicaLock lock = locks.acquire(TARGET, Duration.ofSeconds(10))) {
                acquire = cluster.requestsWithoutController();
                assertThat(lock.fencingToken()).isEqualTo(2);
                build.run();
            }
            List<String> release = cluster.requestsWithoutController();
            System.out.println(title);
            System.out.println("acquire: " + acquire.size() + " requests");
            acquire.forEach(r -> System.out.println("  " + r));
            System.out.println("close: " + release.size() + " requests");
            release.forEach(r -> System.out.println("  " + r));
            return List.of(acquire, release);
        }
    }

    private static boolean watchSetUp(String request) {
        return request.contains("watch=true") || request.contains("resourceVersion=0");
    }

    private static void assertCheap(List<List<String>> cycle, int maxWatches) {
        for (List<String> phase : cycle) {
            assertThat(phase.stream().filter(r -> !watchSetUp(r)))
                    .as("requests, watch set-up aside: the conditional write and its event")
                    .satisfiesExactly(
                            r -> assertThat(r).startsWith("PATCH ").contains("/deployments/" + BUILDER),
                            r -> assertThat(r).startsWith("POST ").endsWith("/events"));
        }
        List<String> all = new ArrayList<>(cycle.get(0));
        all.addAll(cycle.get(1));
        assertThat(all.stream().filter(r -> r.contains("watch=true")))
                .as("watches opened")
                .hasSizeLessThanOrEqualTo(maxWatches);
    }

    @Test
    void aCycleWhoseReleaseFollowsAtOnceReusesOneWatch() throws Exception {
        List<List<String>> cycle = cycle(
                "release at once (the watch of acquire still lingers)", KubernetesReplicaBackendTest.backend(cluster));

        assertCheap(cycle, 2);
        assertThat(cycle.get(1).stream().filter(r -> r.contains("watch=true")))
                .as("release reuses the lingering watch")
                .isEmpty();
    }

    @Test
    void aCycleAroundABuildLongerThanTheLingerWatchesAgainToRelease() throws Exception {
        KubernetesReplicaBackend backend = KubernetesReplicaBackend.builder(cluster.client)
                .initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(5))
                .requestTimeout(Duration.ofSeconds(5))
                .watchLinger(Duration.ofMillis(200))
                .build();

        List<List<String>> cycle = cycle(
                "release after a build that outlasted the linger",
                backend,
                () -> await().atMost(Duration.ofSeconds(10)).until(() -> backend.openWatches() == 0));

        // A watch is two (Deployment, pods): acquire and its wait for Ready share one, release opens one.
        assertCheap(cycle, 4);
        assertThat(cycle.get(1).stream().filter(r -> r.contains("watch=true")))
                .as("release watches anew")
                .isNotEmpty();
    }
}
