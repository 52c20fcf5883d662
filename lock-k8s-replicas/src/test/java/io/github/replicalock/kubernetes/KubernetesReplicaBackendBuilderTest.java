package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;

class KubernetesReplicaBackendBuilderTest {
    private final KubernetesClient client = Mockito.mock(KubernetesClient.class);

    @Test
    @SuppressWarnings("NullAway") // passes null on purpose
    void settersRejectBadValuesNamingFieldAndValue() {
        KubernetesReplicaBackend.Builder b = KubernetesReplicaBackend.builder(client);
        assertThatThrownBy(() -> b.maxAttempts(0)).hasMessage("maxAttempts must be at least 1, got 0");
        assertThatThrownBy(() -> b.initialBackoff(Duration.ZERO))
                .hasMessage("initialBackoff must be positive, got PT0S");
        assertThatThrownBy(() -> b.maxBackoff(Duration.ofSeconds(-1)))
                .hasMessage("maxBackoff must be positive, got PT-1S");
        assertThatThrownBy(() -> b.maxRetryDuration(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("maxRetryDuration must not be null");
        assertThatThrownBy(() -> b.requestTimeout(Duration.ofNanos(5))).hasMessageContaining("requestTimeout");
        assertThatThrownBy(() -> KubernetesReplicaBackend.builder(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("client must not be null");
    }

    @Test
    void buildChecksSettingsAgainstEachOther() {
        assertThatThrownBy(() -> KubernetesReplicaBackend.builder(client)
                        .initialBackoff(Duration.ofSeconds(2))
                        .maxBackoff(Duration.ofSeconds(1))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBackoff PT1S must not be shorter than initialBackoff PT2S");
    }
}
