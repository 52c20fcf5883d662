package io.github.replicalock.cli;

import io.github.replicalock.ReplicaLocks;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * A command about one deployment: its name, the cluster options, and where it writes. Error
 * messages about its arguments name the deployment and the namespace.
 */
abstract class DeploymentCommand implements Callable<Integer> {
    @Parameters(
            index = "0",
            paramLabel = "DEPLOYMENT",
            description = "The builder Deployment whose replicas are the lock.")
    String deployment = "";

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    final Terminal terminal;

    DeploymentCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    /** {@code ReplicaLocks} for looking only: no lock is taken, so no shutdown hook. */
    static ReplicaLocks observe(ClusterOptions.Cluster connection) {
        return ReplicaLocks.builder()
                .backend(connection.backend())
                .shutdownHook(false)
                .build();
    }
}
