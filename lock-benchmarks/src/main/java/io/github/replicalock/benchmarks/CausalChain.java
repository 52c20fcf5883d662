package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The two halves of the shortest causal chain a handoff needs, with no lock around it: one
 * conditional JSON Patch of the builder's replicas, then an informer that is already open sees the
 * pods Ready (or gone). The floor of scenario 2 on the mock and of scenario 7 on a real server.
 */
final class CausalChain {
    private CausalChain() {}

    /** One JSON Patch that sets replicas {@code from} → {@code to}, failing if they are not {@code from}. */
    static void scale(KubernetesClient client, String namespace, Deployment ref, int from, int to) {
        client.apps()
                .deployments()
                .inNamespace(namespace)
                .resource(ref)
                .patch(
                        PatchContext.of(PatchType.JSON),
                        "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":" + from
                                + "},{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":" + to + "}]");
    }

    /**
     * Polls the informer's store every {@code poll} until its pods are all Ready (at least one) or
     * all gone; {@code what} names the measurement in the error after {@code timeout}.
     */
    static void awaitPods(SharedIndexInformer<Pod> pods, boolean ready, Duration timeout, Duration poll, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Pod> now = pods.getStore().list();
            if (ready ? !now.isEmpty() && now.stream().allMatch(ControllerSimulation::isReady) : now.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException(
                        what + ": pods not " + (ready ? "ready" : "gone") + " in " + timeout.toSeconds() + " s");
            }
            LockSupport.parkNanos(poll.toNanos());
        }
    }
}
