package io.github.replicalock.examples;

import io.github.replicalock.LockException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.kubernetes.KubernetesReplicaBackend;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Wakeup;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.FakeCluster;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Two builds contend for the builder {@code apps--droneio--prd/buildah-external}, as two Drone
 * pipelines would: the first takes it and fails, and still gives it back; the second waits and
 * then builds. Each prints its fencing token, and a watcher prints the Deployment the way {@code
 * kubectl get deployment} shows it (READY 0/0, 0/1, 1/1, 1/0).
 *
 * <p>Run it with {@code ./mvnw -B -q -pl examples -am compile exec:java}; it uses an embedded fake
 * cluster whose builder pods take a moment to start and stop.
 */
public final class BuildOrchestrator {
    static final LockTarget BUILDER = LockTarget.of("apps--droneio--prd", "buildah-external");

    private final Supplier<LockBackend> backends;
    private final LockClock clock;
    private final PrintStream out;
    private final Duration buildTime;
    private final LockTarget target;

    /**
     * @param backends a new client of the cluster per call (each build is its own process in CI)
     * @param clock the cluster's clock: the system clock on a real cluster, the fake cluster's own
     *     (virtual, in tests) on a fake one
     * @param out where the story is printed
     * @param buildTime how long each simulated build runs, on {@code clock}
     */
    public BuildOrchestrator(Supplier<LockBackend> backends, LockClock clock, PrintStream out, Duration buildTime) {
        this(backends, clock, out, buildTime, BUILDER);
    }

    /** The same on another Deployment. */
    public BuildOrchestrator(
            Supplier<LockBackend> backends, LockClock clock, PrintStream out, Duration buildTime, LockTarget target) {
        this.backends = Objects.requireNonNull(backends, "backends");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.out = Objects.requireNonNull(out, "out");
        this.buildTime = Objects.requireNonNull(buildTime, "buildTime");
        this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * Without arguments, runs on an embedded fake cluster. With {@code --kubeconfig <file>} (and
     * optionally {@code --namespace <ns> --deployment <name>}), runs on that cluster; the
     * Deployment must exist with replicas 0 ({@code examples/k8s/} has one).
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        String kubeconfig = options.get("--kubeconfig");
        if (kubeconfig == null) {
            runOnFakeCluster();
            return;
        }
        LockTarget target = LockTarget.of(
                options.getOrDefault("--namespace", BUILDER.namespace()),
                options.getOrDefault("--deployment", BUILDER.name()));
        if (!Files.isReadable(Path.of(kubeconfig))) {
            throw new IllegalArgumentException("--kubeconfig '" + kubeconfig + "' is not a readable file");
        }
        // fabric8 reads this property before KUBECONFIG and ~/.kube/config.
        System.setProperty("kubeconfig", kubeconfig);
        System.out.println("Cluster from " + kubeconfig + ": building on " + target + ".");
        int failed = new BuildOrchestrator(
                        KubernetesReplicaBackend::fromDefaultConfig,
                        LockClock.system(),
                        System.out,
                        Duration.ofSeconds(10),
                        target)
                .run();
        System.out.println(failed + " of 2 builds failed, as planned.");
    }

    private static void runOnFakeCluster() throws InterruptedException {
        try (FakeCluster cluster = FakeCluster.builder()
                .podReadyDelay(Duration.ofMillis(1500))
                .podTerminationDelay(Duration.ofMillis(800))
                .build()) {
            cluster.createDeployment(BUILDER.namespace(), BUILDER.name());
            System.out.println("Embedded fake cluster: deployment " + BUILDER + " created with replicas 0.");
            new BuildOrchestrator(cluster::backend, cluster.clock(), System.out, Duration.ofSeconds(2)).run();
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (!Set.of("--kubeconfig", "--namespace", "--deployment").contains(flag) || i + 1 == args.length) {
                throw new IllegalArgumentException("unknown or incomplete argument '" + flag
                        + "'; expected [--kubeconfig <file> [--namespace <ns>] [--deployment <name>]]");
            }
            options.put(flag, args[++i]);
        }
        return options;
    }

    /** Runs both builds to their end and returns how many failed (the first always does). */
    public int run() throws InterruptedException {
        Build first;
        Build second;
        try (KubectlWatcher watcher = new KubectlWatcher(backends.get())) {
            watcher.start();
            CountDownLatch firstHoldsTheLock = new CountDownLatch(1);
            first = new Build("build-1", true, firstHoldsTheLock::countDown);
            second = new Build("build-2", false, () -> {});
            Thread firstThread = new Thread(first, "build-1");
            firstThread.start();
            firstHoldsTheLock.await();
            Thread secondThread = new Thread(second, "build-2");
            secondThread.start();
            firstThread.join();
            secondThread.join();
            watcher.printIfChanged();
        }
        return (first.failed ? 1 : 0) + (second.failed ? 1 : 0);
    }

    private synchronized void say(String line) {
        out.println(line);
    }

    private final class Build implements Runnable {
        private final String id;
        private final boolean fails;
        private final Runnable onLocked;
        private volatile boolean failed;

        Build(String id, boolean fails, Runnable onLocked) {
            this.id = id;
            this.fails = fails;
            this.onLocked = onLocked;
        }

        @Override
        public void run() {
            LockOptions options = LockOptions.builder()
                    .readyTimeout(Duration.ofMinutes(2))
                    .releaseTimeout(Duration.ofMinutes(1))
                    .build();
            try (ReplicaLocks locks = ReplicaLocks.builder()
                    .backend(backends.get())
                    .clock(clock)
                    .holder(id)
                    .options(options)
                    .build()) {
                say(id + ": waiting for " + target + " (" + locks.status(target).state() + ")");
                try (ReplicaLock lock = locks.acquire(target, Duration.ofMinutes(10))) {
                    say(id + ": got the lock, fencing token " + lock.fencingToken() + ", builder pod "
                            + lock.pods().get(0));
                    onLocked.run();
                    build(lock);
                    say(id + ": build succeeded, releasing");
                } catch (BuildFailedException e) {
                    failed = true;
                    say(id + ": build FAILED (" + e.getMessage() + "); the lock was released all the same");
                }
            } catch (LockException e) {
                failed = true;
                say(id + ": could not use the builder: " + e.getMessage());
            } catch (InterruptedException e) {
                failed = true;
                Thread.currentThread().interrupt();
            }
        }

        private void build(ReplicaLock lock) throws InterruptedException {
            // Stands in for the build's work; on the cluster's clock so that tests run it in virtual time.
            clock.newWakeup().awaitUntil(clock.nanoTime() + buildTime.toNanos());
            if (!lock.isHeld()) {
                throw new BuildFailedException("lost the builder lock mid-build");
            }
            if (fails) {
                throw new BuildFailedException("simulated compile error");
            }
        }
    }

    private static final class BuildFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BuildFailedException(String message) {
            super(message);
        }
    }

    /** Prints a line like kubectl's each time the READY column or the state changes. */
    private final class KubectlWatcher implements AutoCloseable, Runnable {
        private final LockBackend backend;
        private final ReplicaLocks observer;
        private final Wakeup changed;
        private final Subscription watch;
        private final Thread thread;
        private volatile boolean stopping;
        private @Nullable LockStatus last;

        KubectlWatcher(LockBackend backend) {
            this.backend = backend;
            this.observer = ReplicaLocks.builder()
                    .backend(backend)
                    .clock(clock)
                    .holder("kubectl-watcher")
                    .shutdownHook(false)
                    .build();
            this.changed = clock.newWakeup();
            this.watch = backend.watch(target, changed::signal);
            this.thread = new Thread(this, "kubectl-watcher");
            thread.setDaemon(true);
        }

        void start() {
            printIfChanged();
            thread.start();
        }

        @Override
        public void run() {
            try {
                while (!stopping) {
                    // A finite wait: on a virtual clock, "forever" would be a deadline time could jump to.
                    changed.awaitUntil(clock.nanoTime() + Duration.ofHours(1).toNanos());
                    printIfChanged();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        synchronized void printIfChanged() {
            LockStatus now = observer.status(target);
            LockStatus previous = last;
            if (previous != null
                    && now.ready().equals(previous.ready())
                    && now.state() == previous.state()
                    && now.fencingToken() == previous.fencingToken()
                    && waiting(now).equals(waiting(previous))) {
                return;
            }
            last = now;
            say(String.format(
                    "  $ kubectl get deployment %s   READY %s   %-9s holder=%s token=%d queue=%s",
                    target.name(),
                    now.ready(),
                    now.state(),
                    now.holder().orElse("-"),
                    now.fencingToken(),
                    waiting(now)));
        }

        /** The fair queue, head first: who waits next, as {@code kubectl get -o jsonpath} shows it. */
        private static List<String> waiting(LockStatus status) {
            return status.waiters().stream().map(LockStatus.Waiter::identity).toList();
        }

        @Override
        public void close() {
            stopping = true;
            changed.signal();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                watch.close();
                observer.close();
            }
        }
    }
}
