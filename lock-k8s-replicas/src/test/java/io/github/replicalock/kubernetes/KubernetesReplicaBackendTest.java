package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import io.github.replicalock.kubernetes.mock.ControllerSimulation.PodStart;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The backend through the SPI, over HTTP against the CRUD mock. */
class KubernetesReplicaBackendTest {
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);

    private MockCluster cluster;
    private KubernetesReplicaBackend backend;

    @BeforeEach
    void setUp() {
        cluster = MockCluster.crud();
        backend = backend(cluster);
    }

    static KubernetesReplicaBackend backend(MockCluster cluster) {
        return KubernetesReplicaBackend.builder(cluster.client)
                .initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(5))
                .requestTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void tearDown() {
        backend.close();
        cluster.close();
    }

    private Deployment stored() {
        return cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .get();
    }

    private static LockFields held(String holder, long token) {
        return LockFields.free(token - 1).heldBy(holder, token, Instant.parse("2026-11-25T10:00:00Z"), LEASE);
    }

    @Test
    void readsAFreshDeploymentAsFreeWithTokenZero() throws Exception {
        cluster.createBuilder(BUILDER);

        LockRecord record = backend.read(TARGET);

        assertThat(record.fields()).isEqualTo(LockFields.free(0));
        assertThat(record.readyReplicas()).isZero();
        assertThat(record.selector()).isEqualTo("app=" + BUILDER);
        assertThat(record.pods()).isEmpty();
    }

    @Test
    void missingDeploymentIsNotFound() {
        assertThatThrownBy(() -> backend.read(TARGET))
                .isInstanceOf(LockTargetNotFoundException.class)
                .hasMessageContaining(BUILDER)
                .hasMessageContaining(NAMESPACE);
    }

    @Test
    void conditionalWriteIsAppliedAndWritesEveryLockField() throws Exception {
        cluster.createBuilder(BUILDER);
        LockFields expected = backend.read(TARGET).fields();
        LockFields desired = held("build-42", 1);

        assertThat(backend.compareAndSet(TARGET, expected, desired)).isTrue();

        LockFields now = backend.read(TARGET).fields();
        assertThat(now).isEqualTo(desired);
        Map<String, String> annotations = stored().getMetadata().getAnnotations();
        assertThat(annotations)
                .containsEntry(LockFields.HOLDER_ANNOTATION, "build-42")
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1")
                .containsEntry(LockFields.ACQUIRED_ANNOTATION, "2026-11-25T10:00:00Z")
                .containsEntry(LockFields.RENEWED_ANNOTATION, "2026-11-25T10:00:00Z")
                .containsEntry(LockFields.LEASE_ANNOTATION, "30");
        assertThat(stored().getSpec().getReplicas()).isEqualTo(1);
    }

    @Test
    void aLostRaceReturnsFalseAndWritesNothing() throws Exception {
        cluster.createBuilder(BUILDER);
        LockFields expected = backend.read(TARGET).fields();
        assertThat(backend.compareAndSet(TARGET, expected, held("winner", 1))).isTrue();

        assertThat(backend.compareAndSet(TARGET, expected, held("loser", 1))).isFalse();

        assertThat(backend.read(TARGET).fields().holder()).isEqualTo("winner");
    }

    @Test
    void releaseClearsHolderAndTimesButKeepsTheToken() throws Exception {
        cluster.createBuilder(BUILDER);
        LockFields holding = held("build-42", 1);
        assertThat(backend.compareAndSet(TARGET, LockFields.free(0), holding)).isTrue();

        assertThat(backend.compareAndSet(TARGET, holding, holding.released())).isTrue();

        assertThat(backend.read(TARGET).fields()).isEqualTo(LockFields.free(1));
        Map<String, String> annotations = stored().getMetadata().getAnnotations();
        assertThat(annotations)
                .containsEntry(LockFields.HOLDER_ANNOTATION, "")
                .containsEntry(LockFields.TOKEN_ANNOTATION, "1")
                .doesNotContainKeys(
                        LockFields.ACQUIRED_ANNOTATION, LockFields.RENEWED_ANNOTATION, LockFields.LEASE_ANNOTATION);
    }

    @Test
    void aStatusOnlyChangeBetweenReadAndWriteDoesNotMakeTheWriteFail() throws Exception {
        cluster.createBuilder(BUILDER);
        LockFields expected = backend.read(TARGET).fields();
        String before = stored().getMetadata().getResourceVersion();
        cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"readyReplicas\":0,\"replicas\":0}}");
        assertThat(stored().getMetadata().getResourceVersion()).isNotEqualTo(before);

        assertThat(backend.compareAndSet(TARGET, expected, held("build-42", 1))).isTrue();
    }

    @Test
    void anUnrelatedAnnotationChangeOnADeploymentWithoutLockKeysIsRetriedNotLost() throws Exception {
        Deployment d = MockCluster.deployment(
                BUILDER,
                new LabelSelectorBuilder().addToMatchLabels("app", BUILDER).build(),
                Map.of("app", BUILDER));
        d.getMetadata().setAnnotations(Map.of("deployment.kubernetes.io/revision", "1"));
        cluster.client.apps().deployments().inNamespace(NAMESPACE).resource(d).create();
        LockFields expected = backend.read(TARGET).fields();
        // The absent holder and token make the condition a test of the whole annotations object;
        // someone changes another annotation before we write.
        cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\"}}}");

        assertThat(backend.compareAndSet(TARGET, expected, held("build-42", 1))).isTrue();
        assertThat(stored().getMetadata().getAnnotations())
                .containsEntry("deployment.kubernetes.io/revision", "2")
                .containsEntry(LockFields.HOLDER_ANNOTATION, "build-42");
    }

    @Test
    void aWriteWithoutAnEarlierReadStillWorksOnAFreshDeployment() throws Exception {
        cluster.createBuilder(BUILDER);
        try (KubernetesReplicaBackend other = backend(cluster)) {
            // No read: the first guess (canonical keys present) is wrong, the re-read fixes it.
            assertThat(other.compareAndSet(TARGET, LockFields.free(0), held("build-42", 1)))
                    .isTrue();
            assertThat(other.compareAndSet(TARGET, LockFields.free(0), held("build-43", 1)))
                    .isFalse();
        }
    }

    @Test
    void theShellPipelinesScaleIsALegacyHoldThatACasFromFreeDoesNotOverwrite() throws Exception {
        cluster.createBuilder(BUILDER);
        LockFields expected = backend.read(TARGET).fields();
        // The shell step: kubectl scale --replicas=1, no annotations.
        cluster.client
                .apps()
                .deployments()
                .inNamespace(NAMESPACE)
                .withName(BUILDER)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":1}}");

        assertThat(backend.compareAndSet(TARGET, expected, held("build-42", 1))).isFalse();
        LockFields now = backend.read(TARGET).fields();
        assertThat(now.replicas()).isEqualTo(1);
        assertThat(now.holder()).isNull();
    }

    @Test
    void unparseableAnnotationsAreInvalidNamingKeyAndValue() {
        Deployment d = MockCluster.deployment(
                BUILDER,
                new LabelSelectorBuilder().addToMatchLabels("app", BUILDER).build(),
                Map.of("app", BUILDER));
        d.getMetadata().setAnnotations(Map.of(LockFields.TOKEN_ANNOTATION, "seven"));
        cluster.client.apps().deployments().inNamespace(NAMESPACE).resource(d).create();

        assertThatThrownBy(() -> backend.read(TARGET))
                .isInstanceOf(LockTargetInvalidException.class)
                .hasMessageContaining(LockFields.TOKEN_ANNOTATION)
                .hasMessageContaining("'seven'");
    }

    @Test
    void podsComeFromTheDeploymentsOwnSelectorWithMatchExpressions() throws Exception {
        cluster.createBuilder(
                BUILDER,
                new LabelSelectorBuilder()
                        .addToMatchLabels("role", "builder")
                        .addNewMatchExpression()
                        .withKey("tier")
                        .withOperator("In")
                        .withValues("ci", "cd")
                        .endMatchExpression()
                        .addNewMatchExpression()
                        .withKey("track")
                        .withOperator("NotIn")
                        .withValues("legacy")
                        .endMatchExpression()
                        .addNewMatchExpression()
                        .withKey("gpu")
                        .withOperator("DoesNotExist")
                        .endMatchExpression()
                        .build(),
                Map.of("role", "builder", "tier", "ci"));
        createPod("match", Map.of("role", "builder", "tier", "ci"), false);
        createPod("match-cd", Map.of("role", "builder", "tier", "cd", "track", "new"), false);
        createPod("other-tier", Map.of("role", "builder", "tier", "prod"), false);
        createPod("legacy", Map.of("role", "builder", "tier", "ci", "track", "legacy"), false);
        createPod("gpu", Map.of("role", "builder", "tier", "ci", "gpu", "yes"), false);
        createPod("app-label-only", Map.of("app", BUILDER), false);

        LockRecord record = backend.read(TARGET);

        assertThat(record.selector()).isEqualTo("role=builder,tier in (ci,cd),track notin (legacy),!gpu");
        assertThat(record.pods()).extracting(PodSnapshot::name).containsExactly("match", "match-cd");
    }

    @Test
    void terminatingPodsAreListedAndFlagged() throws Exception {
        cluster.createBuilder(BUILDER);
        createPod("old", Map.of("app", BUILDER), true);

        PodSnapshot pod = backend.read(TARGET).pods().get(0);

        assertThat(pod.terminating()).isTrue();
        assertThat(pod.usable()).isFalse();
        assertThat(pod.detail()).contains("terminating");
    }

    @Test
    void notReadyPodsSayWhy() throws Exception {
        cluster.createBuilder(BUILDER);
        try (ControllerSimulation controller =
                ControllerSimulation.start(cluster.client, NAMESPACE).podsStartAs(PodStart.IMAGE_PULL_BACK_OFF)) {
            assertThat(backend.compareAndSet(TARGET, LockFields.free(0), held("build-42", 1)))
                    .isTrue();

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> backend.read(TARGET).pods().size() == 1);
            PodSnapshot pod = backend.read(TARGET).pods().get(0);
            assertThat(pod.ready()).isFalse();
            assertThat(pod.detail())
                    .contains("Pending")
                    .contains("Ready=False (ContainersNotReady")
                    .contains("container builder waiting: ImagePullBackOff");
        }
    }

    @Test
    void unschedulablePodsSaySo() {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName("p")
                .endMetadata()
                .withStatus(ControllerSimulation.status(PodStart.UNSCHEDULABLE))
                .build();

        PodSnapshot snapshot = io.github.replicalock.kubernetes.internal.PodViews.snapshot(pod, false);

        assertThat(snapshot.detail())
                .isEqualTo("Pending; PodScheduled=False (Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.)");
    }

    @Test
    void scaleUpAndDownWithTheControllerSimulation() throws Exception {
        cluster.createBuilder(BUILDER);
        try (ControllerSimulation controller = ControllerSimulation.start(cluster.client, NAMESPACE)) {
            LockFields holding = held("build-42", 1);
            assertThat(backend.compareAndSet(TARGET, backend.read(TARGET).fields(), holding))
                    .isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                LockRecord r = backend.read(TARGET);
                return r.readyReplicas() == 1 && r.pods().stream().anyMatch(PodSnapshot::usable);
            });

            assertThat(backend.compareAndSet(TARGET, holding, holding.released()))
                    .isTrue();

            await().atMost(Duration.ofSeconds(10)).until(() -> {
                LockRecord r = backend.read(TARGET);
                return r.readyReplicas() == 0 && r.pods().isEmpty();
            });
        }
    }

    @Test
    void watchFiresOnDeploymentAndPodChanges() throws Exception {
        cluster.createBuilder(BUILDER);
        AtomicInteger changes = new AtomicInteger();
        try (Subscription watch = backend.watch(TARGET, changes::incrementAndGet)) {
            await().atMost(Duration.ofSeconds(10)).until(watch::isConnected);
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() > 0);

            int before = changes.get();
            assertThat(backend.compareAndSet(TARGET, LockFields.free(0), held("build-42", 1)))
                    .isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() > before);

            int beforePod = changes.get();
            createPod("builder-1", Map.of("app", BUILDER), false);
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() > beforePod);

            int beforeDelete = changes.get();
            backend.deletePods(TARGET, List.of("builder-1"));
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() > beforeDelete);
        }
    }

    @Test
    void aWatchOpenedBeforeTheDeploymentExistsSeesItCreated() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        try (Subscription watch = backend.watch(TARGET, changes::incrementAndGet)) {
            await().atMost(Duration.ofSeconds(10)).until(watch::isConnected);
            int before = changes.get();
            cluster.createBuilder(BUILDER);
            await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() > before);
            createPod("builder-1", Map.of("app", BUILDER), false);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> backend.read(TARGET).pods().size() == 1);
        }
        assertThat(backend.toString()).contains("KubernetesReplicaBackend");
    }

    @Test
    void readServesTheDeploymentAndPodsFromTheWatchCacheWhileAWatchIsOpen() throws Exception {
        cluster.createBuilder(BUILDER);
        createPod("builder-1", Map.of("app", BUILDER), false);
        try (Subscription watch = backend.watch(TARGET, () -> {})) {
            await().atMost(Duration.ofSeconds(10)).until(watch::isConnected);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> backend.read(TARGET).pods().size() == 1);
            cluster.clearRequests();

            LockRecord record = backend.read(TARGET);

            assertThat(record.pods()).extracting(PodSnapshot::name).containsExactly("builder-1");
            assertThat(cluster.requests()).isEmpty();

            // A pod this process deleted counts as terminating at once, even before the watch says so.
            backend.deletePods(TARGET, List.of("builder-1"));
            List<PodSnapshot> after = backend.read(TARGET).pods();
            assertThat(after).allMatch(PodSnapshot::terminating);
        }
    }

    @Test
    void deletedPodsAreReplacedByTheController() throws Exception {
        cluster.createBuilder(BUILDER);
        try (ControllerSimulation controller = ControllerSimulation.start(cluster.client, NAMESPACE)) {
            assertThat(backend.compareAndSet(TARGET, LockFields.free(0), held("build-42", 1)))
                    .isTrue();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> backend.read(TARGET).pods().stream().anyMatch(PodSnapshot::usable));
            String old = backend.read(TARGET).pods().get(0).name();

            backend.deletePods(TARGET, List.of(old, "already-gone"));

            await().atMost(Duration.ofSeconds(10)).until(() -> {
                List<PodSnapshot> pods = backend.read(TARGET).pods();
                return pods.size() == 1
                        && !pods.get(0).name().equals(old)
                        && pods.get(0).usable();
            });
        }
    }

    @Test
    void eventsAreRecordedOnTheDeployment() throws Exception {
        cluster.createBuilder(BUILDER);
        backend.read(TARGET);

        backend.recordEvent(TARGET, new LockEvent(LockEvent.Kind.ACQUIRED, "lock acquired by build-42 with token 1"));

        List<Event> events =
                cluster.client.v1().events().inNamespace(NAMESPACE).list().getItems();
        assertThat(events).hasSize(1);
        Event event = events.get(0);
        assertThat(event.getReason()).isEqualTo("Acquired");
        assertThat(event.getMessage()).isEqualTo("lock acquired by build-42 with token 1");
        assertThat(event.getType()).isEqualTo("Normal");
        assertThat(event.getSource().getComponent()).isEqualTo("replica-lock");
        assertThat(event.getInvolvedObject().getKind()).isEqualTo("Deployment");
        assertThat(event.getInvolvedObject().getName()).isEqualTo(BUILDER);
        assertThat(event.getInvolvedObject().getNamespace()).isEqualTo(NAMESPACE);
        assertThat(event.getInvolvedObject().getApiVersion()).isEqualTo("apps/v1");
    }

    @Test
    void eventsTakeTheirTypeFromTheSeverityOfTheirKind() throws Exception {
        cluster.createBuilder(BUILDER);
        backend.read(TARGET);

        for (LockEvent.Kind kind : LockEvent.Kind.values()) {
            backend.recordEvent(TARGET, new LockEvent(kind, "a " + kind + " event"));
        }

        List<Event> events =
                cluster.client.v1().events().inNamespace(NAMESPACE).list().getItems();
        assertThat(events)
                .extracting(Event::getReason, Event::getType)
                .containsExactlyInAnyOrder(
                        tuple("Acquired", "Normal"),
                        tuple("Released", "Normal"),
                        tuple("TakenOver", "Normal"),
                        tuple("Lost", "Warning"),
                        tuple("NotReady", "Warning"),
                        tuple("ForceReleased", "Warning"));
    }

    @Test
    void recordingAnEventNeverThrows() {
        cluster.server.shutdown();

        backend.recordEvent(TARGET, new LockEvent(LockEvent.Kind.LOST, "lock lost"));

        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void ofManyConcurrentWritersFromTheSameExpectedStateExactlyOneWins() throws Exception {
        cluster.createBuilder(BUILDER);
        int threads = 8;
        List<KubernetesReplicaBackend> backends = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 5; round++) {
                LockFields expected = backend.read(TARGET).fields();
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Boolean>> results = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    KubernetesReplicaBackend b = backend(cluster);
                    backends.add(b);
                    b.read(TARGET); // each writer has read, as the lock engine does
                    LockFields desired =
                            expected.replicas() == 0 ? held("writer-" + i, expected.token() + 1) : expected.released();
                    Callable<Boolean> write = () -> {
                        go.await();
                        return b.compareAndSet(TARGET, expected, desired);
                    };
                    results.add(pool.submit(write));
                }
                go.countDown();
                int wins = 0;
                for (Future<Boolean> f : results) {
                    wins += f.get() ? 1 : 0;
                }
                assertThat(wins).as("round %d", round).isEqualTo(1);
            }
            assertThat(backend.read(TARGET).fields().token()).isEqualTo(3);
        } finally {
            pool.shutdownNow();
            backends.forEach(KubernetesReplicaBackend::close);
        }
    }

    @Test
    void requestsOfAnAcquireShapedSequenceAndARelease() throws Exception {
        cluster.createBuilder(BUILDER);
        String deployment = "/apis/apps/v1/namespaces/" + NAMESPACE + "/deployments/" + BUILDER;
        String pods = "/api/v1/namespaces/" + NAMESPACE + "/pods?labelSelector=app%3D" + BUILDER;
        cluster.clearRequests();

        LockFields expected = backend.read(TARGET).fields();
        LockFields holding = held("build-42", 1);
        assertThat(backend.compareAndSet(TARGET, expected, holding)).isTrue();
        List<String> acquire = cluster.requests();

        assertThat(backend.compareAndSet(TARGET, holding, holding.released())).isTrue();
        List<String> release = cluster.requests();

        System.out.println("acquire (read, CAS 0->1) without a watch: " + acquire);
        System.out.println("release (CAS 1->0): " + release);
        assertThat(acquire).containsExactly("GET " + deployment, "GET " + pods, "PATCH " + deployment);
        assertThat(release).containsExactly("PATCH " + deployment);
    }

    @Test
    void closedBackendRefusesWork() {
        backend.close();
        backend.close();

        assertThatThrownBy(() -> backend.read(TARGET)).isInstanceOf(IllegalStateException.class);
    }

    private void createPod(String name, Map<String, String> labels, boolean terminating) {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NAMESPACE)
                .withLabels(labels)
                .withFinalizers(terminating ? List.of("example.com/hold") : List.of())
                .endMetadata()
                .withStatus(ControllerSimulation.status(PodStart.READY))
                .build();
        cluster.client.pods().inNamespace(NAMESPACE).resource(pod).create();
        if (terminating) {
            // With a finalizer, a delete only marks the pod (deletionTimestamp), as in its grace period.
            cluster.client.pods().inNamespace(NAMESPACE).withName(name).delete();
        }
    }
}
