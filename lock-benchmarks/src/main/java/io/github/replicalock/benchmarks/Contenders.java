package io.github.replicalock.benchmarks;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.mock.ControllerSimulation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/** The three ways to take the builder: replica-lock, the shell steps, and fabric8's LeaderElector. */
final class Contenders {
    private Contenders() {}

    /** Something that takes and gives back one lock, one holder at a time. */
    interface Contender extends AutoCloseable {
        /** The User-Agent of its requests. */
        String agent();

        void acquire(Duration timeout) throws Exception;

        void release() throws Exception;

        @Override
        default void close() {}
    }

    /** replica-lock: one {@link ReplicaLocks} on a backend and client of its own. */
    static final class ReplicaLockContender implements Contender {
        private final String agent;
        private final ReplicaLocks locks;
        private final LockTarget target;
        private @Nullable ReplicaLock held;

        ReplicaLockContender(MockApi api, String agent, LockTarget target, LockOptions options) {
            this.agent = agent;
            this.target = target;
            this.locks = ReplicaLocks.builder()
                    .backend(api.backend(agent))
                    .holder(agent)
                    .options(options)
                    .shutdownHook(false)
                    .build();
            api.closeLater(locks);
        }

        @Override
        public String agent() {
            return agent;
        }

        @Override
        public void acquire(Duration timeout) throws InterruptedException {
            held = locks.acquire(target, timeout);
        }

        long token() {
            ReplicaLock lock = held;
            return lock == null ? -1 : lock.fencingToken();
        }

        @Override
        public void release() {
            ReplicaLock lock = held;
            held = null;
            if (lock != null) {
                lock.close();
            }
        }
    }

    /**
     * The shell steps, replayed with fabric8 calls: read replicas ({@code kubectl get -o jsonpath}),
     * scale to 1, wait for a Ready pod ({@code kubectl wait --for=condition=ready pod -l app=...}),
     * and for release scale to 0 and wait until the pods are gone. Check-then-act, as the script.
     */
    static final class ShellSteps implements Contender {
        static final Duration RELIST = Duration.ofSeconds(1);
        final AtomicInteger relists = new AtomicInteger();
        private final KubernetesClient client;
        private final LockTarget target;

        ShellSteps(MockApi api, LockTarget target) {
            this.client = api.client(agent());
            this.target = target;
        }

        @Override
        public String agent() {
            return "shell-steps";
        }

        @Override
        public void acquire(Duration timeout) throws Exception {
            Deployment d = client.apps()
                    .deployments()
                    .inNamespace(target.namespace())
                    .withName(target.name())
                    .get();
            Integer replicas = d.getSpec().getReplicas();
            if (replicas == null || replicas != 0) {
                throw new IllegalStateException("the shell step found replicas " + replicas + "; exit 1");
            }
            client.apps()
                    .deployments()
                    .inNamespace(target.namespace())
                    .withName(target.name())
                    .scale(1);
            waitFor(
                    pods -> !pods.isEmpty() && pods.stream().allMatch(ControllerSimulation::isReady),
                    Duration.ofMinutes(2));
        }

        @Override
        public void release() throws Exception {
            client.apps()
                    .deployments()
                    .inNamespace(target.namespace())
                    .withName(target.name())
                    .scale(0);
            waitFor(List::isEmpty, Duration.ofMinutes(1));
        }

        /**
         * {@code kubectl wait}: list the pods, then watch them until the condition holds. The CRUD mock
         * does not replay the events between a list and the watch that follows it (a real API server
         * does, from the list's resourceVersion), so a change in that gap would be missed for good:
         * after {@link #RELIST} without an answer the wait lists again.
         */
        private void waitFor(Predicate<List<Pod>> condition, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    client.pods()
                            .inNamespace(target.namespace())
                            .withLabel("app", target.name())
                            .informOnCondition(condition)
                            .get(RELIST.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                } catch (TimeoutException e) {
                    relists.incrementAndGet();
                    if (System.nanoTime() - deadline >= 0) {
                        throw e;
                    }
                }
            }
        }
    }

    /** LeaderElector timings: lease, renew deadline, retry period. */
    record Timings(Duration lease, Duration renewDeadline, Duration retryPeriod) {
        static final Timings CUSTOMARY =
                new Timings(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
        static final Timings TIGHTEST =
                new Timings(Duration.ofSeconds(1), Duration.ofMillis(800), Duration.ofMillis(300));

        @Override
        public String toString() {
            return seconds(lease) + "/" + seconds(renewDeadline) + "/" + seconds(retryPeriod) + " s";
        }

        private static String seconds(Duration d) {
            return d.toMillis() % 1000 == 0 ? String.valueOf(d.toSeconds()) : String.valueOf(d.toMillis() / 1000.0);
        }
    }

    /**
     * fabric8's LeaderElector on a LeaseLock with releaseOnCancel: acquire starts an elector and
     * returns when it leads; release cancels it, which gives the lease back before returning.
     */
    static final class Elector implements Contender {
        private final String agent;
        private final KubernetesClient client;
        private final String namespace;
        private final String lease;
        private final Timings timings;
        private volatile CountDownLatch started = new CountDownLatch(1);
        private volatile CountDownLatch stopped = new CountDownLatch(1);
        private @Nullable CompletableFuture<?> running;

        Elector(MockApi api, String agent, String namespace, String lease, Timings timings) {
            this(api.client(agent), agent, namespace, lease, timings);
        }

        /**
         * On a client the caller made and closes (scenario 7 counts requests on its own clients);
         * {@code identity} is the lease holder's name and what {@link #agent()} returns, which need
         * not be the client's User-Agent.
         */
        Elector(KubernetesClient client, String identity, String namespace, String lease, Timings timings) {
            this.agent = identity;
            this.client = client;
            this.namespace = namespace;
            this.lease = lease;
            this.timings = timings;
        }

        @Override
        public String agent() {
            return agent;
        }

        /** Starts campaigning without waiting for leadership. */
        void start() {
            started = new CountDownLatch(1);
            stopped = new CountDownLatch(1);
            CountDownLatch onStart = started;
            CountDownLatch onStop = stopped;
            LeaderElectionConfig config = new LeaderElectionConfigBuilder()
                    .withName("bench")
                    .withLock(new LeaseLock(namespace, lease, agent))
                    .withLeaseDuration(timings.lease())
                    .withRenewDeadline(timings.renewDeadline())
                    .withRetryPeriod(timings.retryPeriod())
                    .withReleaseOnCancel(true)
                    .withLeaderCallbacks(new LeaderCallbacks(onStart::countDown, onStop::countDown, leader -> {}))
                    .build();
            running = client.leaderElector().withConfig(config).build().start();
        }

        @Override
        public void acquire(Duration timeout) throws Exception {
            start();
            awaitLeading(timeout);
        }

        /** Waits until the elector {@link #start() started} last leads. */
        void awaitLeading(Duration timeout) throws Exception {
            if (!started.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TimeoutException(agent + " did not lead within " + timeout);
            }
        }

        @Override
        public void release() throws Exception {
            CompletableFuture<?> future = running;
            running = null;
            if (future != null) {
                future.cancel(true); // releaseOnCancel: GET and PUT of the lease, on this thread
                if (!stopped.await(10, TimeUnit.SECONDS)) {
                    throw new TimeoutException(agent + " did not stop leading");
                }
            }
        }

        @Override
        public void close() {
            CompletableFuture<?> future = running;
            if (future != null) {
                future.cancel(true);
            }
        }
    }
}
