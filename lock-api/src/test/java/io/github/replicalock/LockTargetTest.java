package io.github.replicalock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LockTargetTest {

    @Test
    void acceptsTheNamesOfThePipelineItReplaces() {
        LockTarget target = LockTarget.of("apps--droneio--prd", "buildah-external");

        assertThat(target.namespace()).isEqualTo("apps--droneio--prd");
        assertThat(target.name()).isEqualTo("buildah-external");
        assertThat(target).hasToString("apps--droneio--prd/buildah-external");
    }

    @Test
    void acceptsLongestLegalNamesAndDotsInDeploymentNames() {
        String namespace = "n".repeat(63);
        String name = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61);

        assertThat(name).hasSize(253);
        assertThat(LockTarget.of(namespace, name).name()).isEqualTo(name);
    }

    @ParameterizedTest(name = "namespace ''{0}''")
    @CsvSource(
            delimiter = '|',
            value = {
                "Apps",
                "apps.droneio",
                "-apps",
                "apps-",
                "''",
                "apps_prd",
                "apps prd",
            })
    void rejectsNamespacesThatAreNotDnsLabels(String namespace) {
        assertThatThrownBy(() -> LockTarget.of(namespace, "buildah-external"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("namespace '" + namespace + "'")
                .hasMessageContaining("DNS-1123 label");
    }

    @Test
    void rejectsNamespaceLongerThan63() {
        String namespace = "n".repeat(64);

        assertThatThrownBy(() -> LockTarget.of(namespace, "buildah-external"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 64");
    }

    @ParameterizedTest(name = "name ''{0}''")
    @CsvSource(
            delimiter = '|',
            value = {"Buildah", "buildah..external", ".buildah", "buildah-", "''", "buildah/external"})
    void rejectsDeploymentNamesThatAreNotDnsSubdomains(String name) {
        assertThatThrownBy(() -> LockTarget.of("apps", name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deployment name '" + name + "' in namespace 'apps'");
    }

    @Test
    void rejectsDeploymentNameLongerThan253() {
        assertThatThrownBy(() -> LockTarget.of("apps", "a".repeat(254)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 254");
    }

    @Test
    void rejectsNullsNamingTheField() {
        assertThatThrownBy(() -> LockTarget.of(null, "buildah-external"))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("namespace");
        assertThatThrownBy(() -> LockTarget.of("apps", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("deployment name")
                .hasMessageContaining("'apps'");
    }
}
