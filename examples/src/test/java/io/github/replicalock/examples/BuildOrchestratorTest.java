package io.github.replicalock.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.testkit.FakeCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BuildOrchestratorTest {

    @Test
    void twoBuildsTakeTurnsAndTheFailedOneStillReleases() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int failed;
        try (FakeCluster cluster = FakeCluster.builder()
                .virtualTime()
                .podReadyDelay(Duration.ofSeconds(5))
                .podTerminationDelay(Duration.ofSeconds(3))
                .build()) {
            cluster.createDeployment(BuildOrchestrator.BUILDER.namespace(), BuildOrchestrator.BUILDER.name());

            failed = new BuildOrchestrator(
                            cluster::backend,
                            cluster.clock(),
                            new PrintStream(bytes, true, StandardCharsets.UTF_8),
                            Duration.ofMinutes(3))
                    .run();

            assertThat(cluster.ready(BuildOrchestrator.BUILDER)).isEqualTo("0/0");
            assertThat(cluster.deployment(BuildOrchestrator.BUILDER).pods()).isEmpty();
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();

        assertThat(failed).isEqualTo(1);
        assertThat(lines)
                .filteredOn(l -> l.contains("kubectl"))
                .extracting(l -> l.replaceAll(".*READY (\\d/\\d).*", "$1"))
                // The IDLE between the two builds can be too short to see: build-2 is woken by it and takes the lock.
                .containsSubsequence("0/0", "0/1", "1/1", "1/0", "0/1", "1/1", "1/0", "0/0");
        assertThat(String.join("\n", lines))
                .containsSubsequence(
                        "build-1: got the lock, fencing token 1, builder pod",
                        "build-1: build FAILED (simulated compile error); the lock was released all the same",
                        "build-2: got the lock, fencing token 2, builder pod",
                        "build-2: build succeeded, releasing")
                .doesNotContain("could not use the builder");
    }

    @Test
    void unknownArgumentsAreNamedWithTheUsage() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> BuildOrchestrator.main(new String[] {"--kubecfg", "x"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'--kubecfg'")
                .hasMessageContaining("--kubeconfig <file>");
    }

    @Test
    void aKubeconfigThatIsNotThereIsNamed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> BuildOrchestrator.main(new String[] {"--kubeconfig", "/nonexistent/kubeconfig"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--kubeconfig '/nonexistent/kubeconfig' is not a readable file");
    }
}
