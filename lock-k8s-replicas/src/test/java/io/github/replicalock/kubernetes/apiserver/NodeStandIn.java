package io.github.replicalock.kubernetes.apiserver;

import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Plays the kubelet for the pods of one namespace on a real API server that has no node: registers
 * a Node (and keeps its Ready heartbeat, so that the node lifecycle controller neither marks its
 * pods not Ready nor evicts them), binds each unscheduled pod to it through the {@code binding}
 * subresource (bound pods are deleted gracefully, as on a real node, instead of at once), reports
 * it Running and Ready through {@code pods/status} after {@link Builder#readyAfter}, and finishes a
 * terminating pod's deletion (a delete with grace 0, as the kubelet does once its containers have
 * stopped) after {@link Builder#terminateAfter}. Pods of a given app (label {@value #APP_LABEL}) can
 * be kept not Ready with a container waiting reason, or stuck terminating.
 *
 * <p>Everything else is the real server's: the Deployment and ReplicaSet controllers create and
 * delete the pods, the Deployment's {@code readyReplicas} follows the pods' Ready condition.
 *
 * <pre>{@code
 * try (NodeStandIn node = NodeStandIn.builder(client, "my-namespace").readyAfter(Duration.ofMillis(300)).start()) {
 *     node.keepNotReady("builder", "ImagePullBackOff");
 *     ...
 * }
 * }</pre>
 *
 * <p>Shared by lock-k8s-replicas' {@code *ApiServerTest} classes and lock-benchmarks (test-jar).
 */
public final class NodeStandIn implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(NodeStandIn.class);

    /** The label whose value names a pod's app (the builder template's selector). */
    public static final String APP_LABEL = "app.kubernetes.io/name";

    /**
     * A scheduler name no scheduler answers to: pods naming it are left to the stand-in even on a
     * cluster that runs kube-scheduler and real nodes.
     */
    public static final String SCHEDULER_NAME = "replica-lock-node-stand-in";

    /** The User-Agent of the stand-in's own client, so that request counts can leave it out. */
    public static final String USER_AGENT = "replica-lock-node-stand-in";

    private static final Duration HEARTBEAT = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final String namespace;
    private final String nodeName;
    private final Duration readyAfter;
    private final Duration terminateAfter;
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "node-stand-in");
        t.setDaemon(true);
        return t;
    });
    /** When each pod (by uid) was bound, and when it was first seen terminating. */
    private final Map<String, Instant> boundAt = new ConcurrentHashMap<>();

    private final Map<String, Instant> terminatingSince = new ConcurrentHashMap<>();
    private final Map<String, String> notReadyReasons = new ConcurrentHashMap<>();
    private final Map<String, Boolean> stuckTerminating = new ConcurrentHashMap<>();
    private @Nullable SharedIndexInformer<Pod> pods;

    private NodeStandIn(Builder builder) {
        this.client = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(builder.client.getConfiguration())
                        .withUserAgent(USER_AGENT)
                        .build())
                .build();
        this.namespace = builder.namespace;
        this.nodeName = builder.nodeName != null ? builder.nodeName : defaultNodeName(builder.namespace);
        this.readyAfter = builder.readyAfter;
        this.terminateAfter = builder.terminateAfter;
    }

    private static String defaultNodeName(String namespace) {
        String name = "stand-in-" + namespace;
        return name.length() <= 63 ? name : name.substring(0, 63).replaceAll("-+$", "");
    }

    /** A stand-in for the pods of {@code namespace}, with {@code client}'s server and credentials. */
    public static Builder builder(KubernetesClient client, String namespace) {
        return new Builder(client, namespace);
    }

    /** The Node the pods are bound to. */
    public String nodeName() {
        return nodeName;
    }

    /**
     * Pods of {@code app} (new ones and those already there) stay Pending and not Ready, their
     * container waiting with {@code reason}, for example {@code ImagePullBackOff}.
     */
    public void keepNotReady(String app, String reason) {
        notReadyReasons.put(app, reason);
        reconcileAll();
    }

    /** Pods of {@code app} that are deleted stay terminating until {@link #behaveNormally}. */
    public void keepTerminating(String app) {
        stuckTerminating.put(app, true);
    }

    /** Pods of {@code app} turn Ready and finish terminating again. */
    public void behaveNormally(String app) {
        notReadyReasons.remove(app);
        stuckTerminating.remove(app);
        reconcileAll();
    }

    private NodeStandIn start() {
        registerNode();
        worker.scheduleWithFixedDelay(
                this::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        SharedIndexInformer<Pod> informer = client.pods().inNamespace(namespace).runnableInformer(0);
        informer.addEventHandler(new ResourceEventHandler<Pod>() {
            @Override
            public void onAdd(Pod pod) {
                schedule(name(pod), Duration.ZERO);
            }

            @Override
            public void onUpdate(Pod oldPod, Pod newPod) {
                schedule(name(newPod), Duration.ZERO);
            }

            @Override
            public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                String uid = pod.getMetadata().getUid();
                if (uid != null) {
                    boundAt.remove(uid);
                    terminatingSince.remove(uid);
                }
            }
        });
        pods = informer;
        informer.run();
        return this;
    }

    private static String name(Pod pod) {
        return Objects.requireNonNull(pod.getMetadata().getName(), "pod name");
    }

    private void registerNode() {
        if (client.nodes().withName(nodeName).get() == null) {
            client.nodes()
                    .resource(new NodeBuilder()
                            .withNewMetadata()
                            .withName(nodeName)
                            .addToLabels("kubernetes.io/hostname", nodeName)
                            .addToLabels("replicalock.io/node-stand-in", "true")
                            .endMetadata()
                            .build())
                    .create();
        }
        heartbeat();
    }

    private void heartbeat() {
        try {
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            NodeCondition ready = new NodeConditionBuilder()
                    .withType("Ready")
                    .withStatus("True")
                    .withReason("KubeletReady")
                    .withMessage("replica-lock's node stand-in is posting ready status")
                    .withLastHeartbeatTime(now)
                    .withLastTransitionTime(now)
                    .build();
            Map<String, Quantity> capacity =
                    Map.of("cpu", new Quantity("8"), "memory", new Quantity("16Gi"), "pods", new Quantity("110"));
            Map<String, Object> status =
                    Map.of("conditions", List.of(ready), "capacity", capacity, "allocatable", capacity);
            client.nodes()
                    .withName(nodeName)
                    .subresource("status")
                    .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), json(Map.of("status", status)));
        } catch (KubernetesClientException e) {
            log.warn("node stand-in {}: heartbeat failed: {}", nodeName, e.getMessage());
        }
    }

    private void reconcileAll() {
        SharedIndexInformer<Pod> informer = pods;
        if (informer != null) {
            for (Pod pod : informer.getStore().list()) {
                schedule(name(pod), Duration.ZERO);
            }
        }
    }

    private void schedule(String pod, Duration delay) {
        try {
            worker.schedule(() -> reconcile(pod), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            // closing: nothing more to play
        }
    }

    private void reconcile(String podName) {
        try {
            Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
            if (pod == null) {
                return;
            }
            String uid = Objects.requireNonNull(pod.getMetadata().getUid(), "pod uid");
            String app = Optional.ofNullable(pod.getMetadata().getLabels())
                    .map(labels -> labels.get(APP_LABEL))
                    .orElse("");
            String node = pod.getSpec().getNodeName();
            if (node == null || node.isEmpty()) {
                if (pod.getMetadata().getDeletionTimestamp() == null) {
                    bind(pod, uid);
                }
                return;
            }
            if (!node.equals(nodeName)) {
                return; // a real node's pod
            }
            Instant now = Instant.now();
            if (pod.getMetadata().getDeletionTimestamp() != null) {
                if (stuckTerminating.containsKey(app)) {
                    return;
                }
                Instant due = terminatingSince.computeIfAbsent(uid, u -> now).plus(terminateAfter);
                if (now.isBefore(due)) {
                    schedule(podName, Duration.between(now, due));
                } else {
                    // The kubelet's last word once the containers have stopped.
                    client.pods()
                            .inNamespace(namespace)
                            .withName(podName)
                            .withGracePeriod(0)
                            .delete();
                }
                return;
            }
            String notReadyReason = notReadyReasons.get(app);
            if (notReadyReason != null) {
                if (!waitingWith(pod, notReadyReason)) {
                    writeStatus(pod, "Pending", false, notReadyReason);
                }
                return;
            }
            if (isReady(pod)) {
                return;
            }
            Instant due = boundAt.computeIfAbsent(uid, u -> now).plus(readyAfter);
            if (now.isBefore(due)) {
                schedule(podName, Duration.between(now, due));
            } else {
                writeStatus(pod, "Running", true, null);
            }
        } catch (KubernetesClientException e) {
            if (worker.isShutdown()) {
                return; // closing: the request was interrupted
            }
            if (e.getCode() == 404 || e.getCode() == 409) {
                return; // gone, or changed: the informer brings the next state
            }
            log.warn(
                    "node stand-in {}: pod {}: HTTP {}: {}",
                    nodeName,
                    podName,
                    e.getCode(),
                    e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage());
            schedule(podName, Duration.ofMillis(500));
        } catch (RuntimeException e) {
            if (worker.isShutdown()) {
                return;
            }
            log.warn("node stand-in {}: pod {}", nodeName, podName, e);
            schedule(podName, Duration.ofMillis(500));
        }
    }

    private void bind(Pod pod, String uid) {
        client.bindings()
                .inNamespace(namespace)
                .resource(new BindingBuilder()
                        .withNewMetadata()
                        .withName(name(pod))
                        .withUid(uid)
                        .endMetadata()
                        .withNewTarget()
                        .withApiVersion("v1")
                        .withKind("Node")
                        .withName(nodeName)
                        .endTarget()
                        .build())
                .create();
        boundAt.put(uid, Instant.now());
        // As the kubelet: the pod is accepted and its containers are being created.
        writeStatus(
                client.pods().inNamespace(namespace).withName(name(pod)).get(), "Pending", false, "ContainerCreating");
    }

    private static boolean isReady(Pod pod) {
        return pod.getStatus() != null
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static boolean waitingWith(Pod pod, String reason) {
        return pod.getStatus() != null
                && pod.getStatus().getContainerStatuses() != null
                && pod.getStatus().getContainerStatuses().stream()
                        .anyMatch(cs -> cs.getState() != null
                                && cs.getState().getWaiting() != null
                                && reason.equals(cs.getState().getWaiting().getReason()));
    }

    /** Phase, conditions and container states as the kubelet reports them; a waiting reason when not ready. */
    private void writeStatus(@Nullable Pod pod, String phase, boolean ready, @Nullable String waitingReason) {
        if (pod == null) {
            return;
        }
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String readiness = ready ? "True" : "False";
        List<PodCondition> conditions = new ArrayList<>();
        conditions.add(condition("PodScheduled", "True", null, now));
        conditions.add(condition("Initialized", "True", null, now));
        conditions.add(condition("ContainersReady", readiness, ready ? null : "ContainersNotReady", now));
        conditions.add(condition("Ready", readiness, ready ? null : "ContainersNotReady", now));
        List<ContainerStatus> containers = new ArrayList<>();
        pod.getSpec().getContainers().forEach(c -> {
            ContainerStatusBuilder status = new ContainerStatusBuilder()
                    .withName(c.getName())
                    .withImage(c.getImage())
                    .withImageID(ready ? "stand-in://" + c.getImage() : "")
                    .withReady(ready)
                    .withStarted(ready)
                    .withRestartCount(0);
            if (ready) {
                status.withNewState()
                        .withNewRunning()
                        .withStartedAt(now)
                        .endRunning()
                        .endState();
            } else {
                status.withNewState()
                        .withNewWaiting()
                        .withReason(waitingReason)
                        .withMessage(waitingMessage(waitingReason, c.getImage()))
                        .endWaiting()
                        .endState();
            }
            containers.add(status.build());
        });
        Map<String, Object> status = Map.of(
                "phase",
                phase,
                "hostIP",
                "127.0.0.1",
                "conditions",
                conditions,
                "containerStatuses",
                containers,
                "startTime",
                now);
        // A merge patch replaces the lists whole: the conditions and container states are ours alone.
        client.pods()
                .inNamespace(namespace)
                .withName(name(pod))
                .subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), json(Map.of("status", status)));
    }

    private static String waitingMessage(@Nullable String reason, String image) {
        if (reason == null) {
            return "";
        }
        return switch (reason.toLowerCase(Locale.ROOT)) {
            case "imagepullbackoff" -> "Back-off pulling image \"" + image + "\"";
            case "errimagepull" -> "rpc error: pulling image \"" + image + "\" failed";
            default -> "";
        };
    }

    private static PodCondition condition(String type, String status, @Nullable String reason, String now) {
        return new PodConditionBuilder()
                .withType(type)
                .withStatus(status)
                .withReason(reason)
                .withLastTransitionTime(now)
                .build();
    }

    private String json(Object value) {
        return client.getKubernetesSerialization().asJson(value);
    }

    /** Stops playing the node and deletes it (the pod garbage collector then removes its pods). */
    @Override
    public void close() {
        SharedIndexInformer<Pod> informer = pods;
        if (informer != null) {
            informer.close();
        }
        worker.shutdownNow();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
            client.nodes().withName(nodeName).delete();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (KubernetesClientException e) {
            log.warn("node stand-in {}: could not delete the node: {}", nodeName, e.getMessage());
        } finally {
            client.close();
        }
    }

    /** Settings of a {@link NodeStandIn}. */
    public static final class Builder {
        private final KubernetesClient client;
        private final String namespace;
        private @Nullable String nodeName;
        private Duration readyAfter = Duration.ofMillis(200);
        private Duration terminateAfter = Duration.ofMillis(200);

        private Builder(KubernetesClient client, String namespace) {
            this.client = client;
            this.namespace = namespace;
        }

        /** The Node's name; by default {@code stand-in-<namespace>}. */
        public Builder nodeName(String nodeName) {
            this.nodeName = nodeName;
            return this;
        }

        /** How long after binding a pod turns Ready (the container start and first readiness probe). */
        public Builder readyAfter(Duration readyAfter) {
            this.readyAfter = readyAfter;
            return this;
        }

        /** How long after its deletion starts a pod is gone (the containers' stop). */
        public Builder terminateAfter(Duration terminateAfter) {
            this.terminateAfter = terminateAfter;
            return this;
        }

        /** Registers the Node and starts watching the namespace's pods. */
        public NodeStandIn start() {
            return new NodeStandIn(this).start();
        }
    }
}
