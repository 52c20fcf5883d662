package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

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
