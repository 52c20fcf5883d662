package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The deployment controller the CRUD mock lacks, as small as the benchmarks allow: for each
 * Deployment of a namespace it keeps as many pods of label {@code app=<name>} as {@code
 * spec.replicas} asks for (new pods are Running and Ready at once; extra ones are deleted) and
 * keeps {@code status.replicas}/{@code readyReplicas} true, which, as on a real cluster, changes
 * the Deployment's resourceVersion. Reconciles one Deployment per event, on one thread, with fresh
 * reads. <b>Duplicates</b> lock-k8s-replicas' test class {@code ControllerSimulation} in a reduced
 * form; to be shared through a test-jar.
 */
final class ControllerSim implements AutoCloseable {
    static final String AGENT = "controller-simulation";

    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "controller-simulation");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final AtomicInteger serial = new AtomicInteger();
    private final SharedIndexInformer<Deployment> deployments;
    private final SharedIndexInformer<Pod> pods;

    ControllerSim(MockApi api, String namespace) {
        this.client = api.client(AGENT);
        this.namespace = namespace;
        this.deployments = client.apps()
                .deployments()
                .inNamespace(namespace)
                .inform(new Trigger<>(d -> d.getMetadata().getName()));
        this.pods = client.pods().inNamespace(namespace).inform(new Trigger<>(p -> {
            Map<String, String> labels = p.getMetadata().getLabels();
            return labels == null ? null : labels.get("app");
        }));
        api.closeLater(this);
    }

    private final class Trigger<T> implements ResourceEventHandler<T> {
        private final Function<T, @Nullable String> deployment;

        Trigger(Function<T, @Nullable String> deployment) {
            this.deployment = deployment;
        }

        @Override
        public void onAdd(T obj) {
            enqueue(deployment.apply(obj));
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            enqueue(deployment.apply(newObj));
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            enqueue(deployment.apply(obj));
        }
    }

    private void enqueue(@Nullable String name) {
        if (name == null || !queued.add(name)) {
            return; // already queued: one reconcile sees every change made before it starts
        }
        try {
            worker.execute(() -> {
                queued.remove(name);
                reconcile(name);
            });
        } catch (RejectedExecutionException closed) {
            // closed meanwhile
        }
    }

    private void reconcile(String name) {
        try {
            Deployment d = client.apps()
                    .deployments()
                    .inNamespace(namespace)
                    .withName(name)
                    .get();
            if (d == null || d.getSpec() == null) {
                return;
            }
            int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            List<Pod> live = live(name);
            for (int i = live.size(); i < desired; i++) {
                createPod(name);
            }
            for (int i = desired; i < live.size(); i++) {
                client.pods().inNamespace(namespace).resource(live.get(i)).delete();
            }
            int now = live.size() == desired ? desired : live(name).size();
            Integer statusReplicas =
                    d.getStatus() == null ? null : d.getStatus().getReplicas();
            Integer statusReady = d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
            if (statusReplicas == null || statusReplicas != now || statusReady == null || statusReady != now) {
                client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withName(name)
                        .patch(
                                PatchContext.of(PatchType.JSON_MERGE),
                                "{\"status\":{\"replicas\":" + now + ",\"readyReplicas\":" + now
                                        + ",\"availableReplicas\":" + now + "}}");
            }
        } catch (RuntimeException e) {
            if (!worker.isShutdown()) {
                Progress.log("  controller simulation: reconcile of " + name + " failed: " + e);
            }
        }
    }

    private List<Pod> live(String name) {
        return client.pods().inNamespace(namespace).withLabel("app", name).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                .toList();
    }

    private void createPod(String deployment) {
        String now = Instant.now().toString();
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(deployment + "-" + String.format("%05d", serial.incrementAndGet()))
                .withNamespace(namespace)
                .withLabels(Map.of("app", deployment))
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("builder")
                .withImage("quay.io/buildah/stable")
                .endContainer()
                .endSpec()
                .withNewStatus()
                .withPhase("Running")
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .withLastTransitionTime(now)
                .endCondition()
                .addNewContainerStatus()
                .withName("builder")
                .withReady(true)
                .withNewState()
                .withNewRunning()
                .withStartedAt(now)
                .endRunning()
                .endState()
                .endContainerStatus()
                .endStatus()
                .build();
        client.pods().inNamespace(namespace).resource(pod).create();
    }

    static boolean isReady(Pod pod) {
        return pod.getStatus() != null
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    @Override
    public void close() {
        worker.shutdownNow();
        deployments.stop();
        pods.stop();
    }
}
