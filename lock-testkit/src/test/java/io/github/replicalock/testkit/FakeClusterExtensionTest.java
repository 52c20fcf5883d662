package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

@WithFakeCluster(virtualTime = true, podReadyDelay = "PT20S", podTerminationDelay = "PT5S")
class FakeClusterExtensionTest {
    private @Nullable FakeCluster fromBeforeEach;

    @BeforeEach
    void setUp(FakeCluster cluster) {
        fromBeforeEach = cluster;
    }

    @Test
    void injectsOneClusterPerTestBuiltAsTheClassAnnotationSays(FakeCluster cluster) {
        assertThat(cluster).isSameAs(fromBeforeEach);
        LockTarget target = cluster.createDeployment("ci", "builder");

        cluster.scale(target, 1);
        assertThat(cluster.ready(target)).isEqualTo("0/1");
        cluster.virtualClock().advance(Duration.ofSeconds(20));

        assertThat(cluster.ready(target)).isEqualTo("1/1");
    }

    @Test
    @WithFakeCluster
    void aMethodAnnotationOverridesTheClassOne(FakeCluster cluster) {
        LockTarget target = cluster.createDeployment("ci", "builder");

        cluster.scale(target, 1);

        assertThat(cluster.ready(target)).isEqualTo("1/1");
        assertThatThrownBy(cluster::virtualClock).isInstanceOf(IllegalStateException.class);
    }

    @Nested
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class ClosesTheClusterAfterEachTest {
        private static final AtomicReference<@Nullable FakeBackend> FIRST = new AtomicReference<>();

        @Test
        @Order(1)
        void first(FakeCluster cluster) {
            cluster.createDeployment("ci", "builder");
            FIRST.set(cluster.backend());
            assertThat(cluster.clock()).isInstanceOf(VirtualClock.class); // from the enclosing class
        }

        @Test
        @Order(2)
        void second(FakeCluster cluster) {
            FakeBackend first = Objects.requireNonNull(FIRST.get(), "the first test did not run");
            assertThatThrownBy(() -> first.read(LockTarget.of("ci", "builder")))
                    .isInstanceOf(LockBackendUnavailableException.class)
                    .hasMessageContaining("closed");
            cluster.createDeployment("ci", "builder"); // a fresh cluster
        }
    }
}
