package io.github.replicalock.kubernetes.mock;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.internal.Selectors;
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

/**
 * A small deployment controller for the CRUD mock, which has none: it watches the Deployments of a
 * namespace and, for each, keeps as many pods of its selector as {@code spec.replicas} asks for
 * (creating pods with the template's labels, deleting the newest extra ones), and keeps {@code
 * status.replicas} and {@code status.readyReplicas} true. New pods are Ready unless {@link
 * #podsStartAs} says otherwise. Reconciles one Deployment per event, on one thread, with fresh
 * reads, on a client of its own whose User-Agent ({@link #USER_AGENT}) lets request logs leave it
 * out. Shared by lock-k8s-replicas' tests and lock-benchmarks (through the test-jar).
 *
 * <pre>{@code
 * try (ControllerSimulation controller = ControllerSimulation.start(client, namespace)) { ... }
 * }</pre>
 */
public final class ControllerSimulation implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ControllerSimulation.class);

    /** What a new pod looks like. */
    public enum PodStart {
        READY,
        IMAGE_PULL_BACK_OFF,
        UNSCHEDULABLE
    }

    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "controller-simulation");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger podSerial = new AtomicInteger();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final SharedIndexInformer<Deployment> deployments;
    private final SharedIndexInformer<Pod> pods;
    private volatile PodStart podStart = PodStart.READY;

    /** The User-Agent of the simulation's own client, so that request logs can leave it out. */
    public static final String USER_AGENT = "controller-simulation";

    private ControllerSimulation(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.deployments = client.apps().deployments().inNamespace(namespace).runnableInformer(0);
        this.pods = client.pods().inNamespace(namespace).runnableInformer(0);
        deployments.addEventHandler(new Trigger<>());
        pods.addEventHandler(new Trigger<>());
    }

    /** Starts the simulation on a client of its own, with {@code client}'s server and credentials. */
    public static ControllerSimulation start(KubernetesClient client, String namespace) {
        KubernetesClient own = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(client.getConfiguration())
                        .withUserAgent(USER_AGENT)
                        .build())
                .build();
        ControllerSimulation sim = new ControllerSimulation(own, namespace);
        sim.pods.start().toCompletableFuture().join();
        sim.deployments.start().toCompletableFuture().join();
        sim.reconcileAll();
        return sim;
    }

    /** How pods created from now on start. */
    public ControllerSimulation podsStartAs(PodStart start) {
        this.podStart = start;
        return this;
    }

    private final class Trigger<T> implements ResourceEventHandler<T> {
        @Override
        public void onAdd(T obj) {
            changed(obj);
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            changed(newObj);
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            changed(obj);
        }
    }

    /** Queues the Deployment an event is about, or for a pod every Deployment whose selector has it. */
    private void changed(Object obj) {
        if (obj instanceof Deployment d) {
            enqueue(d.getMetadata().getName());
        } else if (obj instanceof Pod p) {
            Map<String, String> labels = p.getMetadata().getLabels();
            for (Deployment d : deployments.getStore().list()) {
                if (d.getSpec() != null
                        && d.getSpec().getSelector() != null
                        && Selectors.matches(d.getSpec().getSelector(), labels)) {
                    enqueue(d.getMetadata().getName());
                }
            }
        }
    }

    private void reconcileAll() {
        deployments.getStore().list().forEach(d -> enqueue(d.getMetadata().getName()));
    }

    private void enqueue(String name) {
        if (worker.isShutdown() || !queued.add(name)) {
            return; // already queued: one reconcile sees every change made before it starts
        }
        try {
            worker.execute(() -> {
                queued.remove(name);
                reconcile(name);
            });
        } catch (RejectedExecutionException closed) {
            queued.remove(name);
        }
    }

    /** One Deployment, from fresh reads: the cache may lag behind what the lock just wrote. */
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
            LockTarget target = LockTarget.of(namespace, name);
            String selector = Selectors.render(target, d.getSpec().getSelector());
            if (selector == null) {
                return;
            }
            int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            List<Pod> live = live(selector);
            for (int i = live.size(); i < desired; i++) {
                createPod(d);
            }
            for (int i = desired; i < live.size(); i++) {
                client.pods().inNamespace(namespace).resource(live.get(i)).delete();
            }
            List<Pod> now = live.size() == desired ? live : live(selector);
            int ready = (int) now.stream().filter(ControllerSimulation::isReady).count();
            Integer statusReplicas =
                    d.getStatus() == null ? null : d.getStatus().getReplicas();
            Integer statusReady = d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
            if (statusReplicas == null || statusReplicas != now.size() || statusReady == null || statusReady != ready) {
                // The status write changes resourceVersion, as the real controller's does.
                client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withName(name)
                        .patch(
                                PatchContext.of(PatchType.JSON_MERGE),
                                "{\"status\":{\"replicas\":" + now.size() + ",\"readyReplicas\":" + ready
                                        + ",\"availableReplicas\":" + ready + "}}");
            }
        } catch (RuntimeException e) {
            // a simulation: the next event reconciles again
            log.debug("reconcile of {} failed: {}", name, e.toString());
        }
    }

    private List<Pod> live(String selector) {
        return client.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                .toList();
    }

    private void createPod(Deployment d) {
        Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
        String name = d.getMetadata().getName() + "-" + String.format("%05d", podSerial.incrementAndGet());
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("builder")
                .withImage("quay.io/buildah/stable")
                .endContainer()
                .endSpec()
                .withStatus(status(podStart))
                .build();
        client.pods().inNamespace(namespace).resource(pod).create();
    }

    public static PodStatus status(PodStart start) {
        String now = Instant.now().toString();
        return switch (start) {
            case READY ->
                new PodStatusBuilder()
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
                        .build();
            case IMAGE_PULL_BACK_OFF ->
                new PodStatusBuilder()
                        .withPhase("Pending")
                        .addNewCondition()
                        .withType("Ready")
                        .withStatus("False")
                        .withReason("ContainersNotReady")
                        .withMessage("containers with unready status: [builder]")
                        .endCondition()
                        .addNewContainerStatus()
                        .withName("builder")
                        .withReady(false)
                        .withNewState()
                        .withNewWaiting()
                        .withReason("ImagePullBackOff")
                        .withMessage("Back-off pulling image \"quay.io/buildah/stable\"")
                        .endWaiting()
                        .endState()
                        .endContainerStatus()
                        .build();
            case UNSCHEDULABLE ->
                new PodStatusBuilder()
                        .withPhase("Pending")
                        .addNewCondition()
                        .withType("PodScheduled")
                        .withStatus("False")
                        .withReason("Unschedulable")
                        .withMessage("0/3 nodes are available: 3 Insufficient cpu.")
                        .endCondition()
                        .build();
        };
    }

    public static boolean isReady(Pod pod) {
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
        client.close();
    }
}
