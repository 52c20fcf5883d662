package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The child process of {@link CrashTakeoverTest}: takes the lock through the backend against the
 * given API server, prints {@code HELD <token> <pod>} on stdout, then keeps holding it (renewing in
 * the background) until it is killed.
 *
 * <p>Arguments: server URL (or the path of a kubeconfig, for a real API server), namespace,
 * deployment, lease in seconds, holder.
 */
public final class CrashingHolder {
    private CrashingHolder() {}

    /**
     * Starts a child JVM that takes {@code target} through {@code server} (a URL, or the path of a
     * kubeconfig) with a lease of {@code leaseSeconds}; its stderr goes to {@code log}.
     */
    static Process start(String server, LockTarget target, int leaseSeconds, String holder, Path log)
            throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                CrashingHolder.class.getName(),
                server,
                target.namespace(),
                target.name(),
                Integer.toString(leaseSeconds),
                holder);
        return new ProcessBuilder(command)
                .redirectError(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
    }

    /** The child's first stdout line ({@code HELD <token> <pod>}), or a failure that shows its log. */
    static String awaitFirstLine(Process process, Path log, Duration limit) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader reader =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                return String.valueOf(reader.readLine());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            return line.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(
                    "child did not take the lock within " + limit + "; its log:\n" + Files.readString(log));
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        LockTarget target = LockTarget.of(args[1], args[2]);
        Duration lease = Duration.ofSeconds(Long.parseLong(args[3]));
        String holder = args[4];
        // Config.empty(): nothing from this machine's kubeconfig or environment.
        Config config = url.startsWith("http")
                ? new ConfigBuilder(Config.empty())
                        .withMasterUrl(url)
                        .withNamespace(target.namespace())
                        .build()
                : Config.fromKubeconfig(new java.io.File(url));
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        ReplicaLocks locks = ReplicaLocks.builder()
                .backend(KubernetesReplicaBackend.builder(client)
                        .initialBackoff(Duration.ofMillis(10))
                        .maxBackoff(Duration.ofMillis(100))
                        .build())
                .holder(holder)
                .options(LockOptions.builder()
                        .leaseDuration(lease)
                        .readyTimeout(Duration.ofSeconds(30))
                        .build())
                .build();
        ReplicaLock lock = locks.acquire(target, Duration.ofSeconds(30));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("HELD " + lock.fencingToken() + " " + lock.pods().get(0));
        // Hold until killed: SIGKILL runs no shutdown hook, so nothing gives the lock back.
        new CountDownLatch(1).await();
    }
}
