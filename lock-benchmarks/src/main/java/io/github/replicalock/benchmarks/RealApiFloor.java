package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.LockTarget;
import io.github.replicalock.kubernetes.apiserver.NodeStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenario 7's floor: what the real server takes for one GET, one conditional JSON Patch, and the
 * causal chain a handoff cannot beat (patch replicas 0→1, the controllers and the stand-in node
 * act, a Ready pod shows in an informer already open). No lock around any of them.
 */
final class RealApiFloor {
    private static final int FLOOR_SAMPLES = 60;
    private static final int FLOOR_WARMUP = 10;
    private static final int CHAIN_SAMPLES = 20;
    private static final int CHAIN_WARMUP = 3;
    private static final Duration POD_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POD_POLL = Duration.ofNanos(100_000);

    private final RealApiSession session;

    RealApiFloor(RealApiSession session) {
        this.session = session;
    }

    Stats get() {
        LockTarget target = session.builder("floor-get");
        KubernetesClient client = session.client("floor");
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < FLOOR_SAMPLES + FLOOR_WARMUP; i++) {
            long t0 = System.nanoTime();
            deployment(client, target);
            if (i >= FLOOR_WARMUP) {
                samples.add(System.nanoTime() - t0);
            }
        }
        return Stats.of(samples);
    }

    /** Each patch tests replicas and the annotation the previous one wrote, then bumps it. */
    Stats conditionalPatch() {
        LockTarget target = session.builder("floor-patch");
        KubernetesClient client = session.client("floor");
        Deployment ref = deployment(client, target);
        client.apps()
                .deployments()
                .inNamespace(session.namespace())
                .resource(ref)
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"example.com/n\":\"0\"}}}");
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < FLOOR_SAMPLES + FLOOR_WARMUP; i++) {
            String patch = "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":0},"
                    + "{\"op\":\"test\",\"path\":\"/metadata/annotations/example.com~1n\",\"value\":\"" + i + "\"},"
                    + "{\"op\":\"replace\",\"path\":\"/metadata/annotations/example.com~1n\",\"value\":\"" + (i + 1)
                    + "\"}]";
            long t0 = System.nanoTime();
            client.apps()
                    .deployments()
                    .inNamespace(session.namespace())
                    .resource(ref)
                    .patch(PatchContext.of(PatchType.JSON), patch);
            if (i >= FLOOR_WARMUP) {
                samples.add(System.nanoTime() - t0);
            }
        }
        return Stats.of(samples);
    }

    /** Patch 0→1 until a Ready pod shows in an informer, then 1→0 until the pods are gone: the first leg timed. */
    Stats causalChain() {
        LockTarget target = session.builder("floor-chain");
        KubernetesClient client = session.client("floor");
        String namespace = session.namespace();
        SharedIndexInformer<Pod> pods = client.pods()
                .inNamespace(namespace)
                .withLabel(NodeStandIn.APP_LABEL, target.name())
                .inform();
        Deployment ref = deployment(client, target);
        List<Long> samples = new ArrayList<>();
        try {
            for (int i = 0; i < CHAIN_SAMPLES + CHAIN_WARMUP; i++) {
                long t0 = System.nanoTime();
                CausalChain.scale(client, namespace, ref, 0, 1);
                CausalChain.awaitPods(pods, true, POD_TIMEOUT, POD_POLL, "causal chain");
                if (i >= CHAIN_WARMUP) {
                    samples.add(System.nanoTime() - t0);
                }
                CausalChain.scale(client, namespace, ref, 1, 0);
                CausalChain.awaitPods(pods, false, POD_TIMEOUT, POD_POLL, "causal chain");
            }
        } finally {
            pods.stop();
        }
        return Stats.of(samples);
    }

    private Deployment deployment(KubernetesClient client, LockTarget target) {
        return client.apps()
                .deployments()
                .inNamespace(session.namespace())
                .withName(target.name())
                .get();
    }
}
