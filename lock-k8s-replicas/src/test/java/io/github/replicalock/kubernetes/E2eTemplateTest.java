package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The e2e profile's deployment template, checked in every build (the profile itself needs a
 * cluster): it parses, is a free lock with a selector its pods match, has a readiness probe, and
 * the CRUD mock accepts it.
 */
class E2eTemplateTest {
    private MockCluster cluster;

    @BeforeEach
    void setUp() {
        cluster = MockCluster.crud();
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void theTemplateIsAFreeLockWithAProbedBuilder() {
        Deployment d =
                RealClusterContractTest.deployment(cluster.client, "replica-lock-e2e", "contract-7", "busybox:1.36");

        assertThat(d.getMetadata().getName()).isEqualTo("contract-7");
        assertThat(d.getMetadata().getNamespace()).isEqualTo("replica-lock-e2e");
        assertThat(d.getMetadata().getLabels()).containsEntry(RealClusterContractTest.E2E_LABEL, "true");
        assertThat(d.getSpec().getReplicas()).isZero();
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
        Container builder = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(builder.getImage()).isEqualTo("busybox:1.36");
        assertThat(builder.getReadinessProbe().getExec().getCommand()).containsExactly("cat", "/tmp/ready");

        Deployment created = cluster.client
                .apps()
                .deployments()
                .inNamespace("replica-lock-e2e")
                .resource(d)
                .create();
        assertThat(created.getMetadata().getResourceVersion()).isNotBlank();
    }
}
