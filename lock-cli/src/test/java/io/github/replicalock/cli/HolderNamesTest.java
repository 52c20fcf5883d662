package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class HolderNamesTest {

    @Test
    void aDroneBuildIsNamedByRepositoryBuildAndStep() {
        assertThat(HolderNames.fromEnvironment(
                        Map.of("DRONE_REPO", "octo/app", "DRONE_BUILD_NUMBER", "42", "DRONE_STEP_NAME", "image"),
                        "runner-0",
                        1))
                .isEqualTo("octo/app/42/image");
        assertThat(HolderNames.fromEnvironment(Map.of("DRONE_REPO", "octo/app", "DRONE_BUILD_NUMBER", "42"), "h", 1))
                .isEqualTo("octo/app/42");
    }

    @Test
    void gitlabAndGithubBuildsToo() {
        assertThat(HolderNames.fromEnvironment(Map.of("CI_PROJECT_PATH", "group/app", "CI_JOB_ID", "977"), "h", 1))
                .isEqualTo("group/app/977");
        assertThat(HolderNames.fromEnvironment(
                        Map.of("GITHUB_REPOSITORY", "octo/app", "GITHUB_RUN_ID", "555", "GITHUB_JOB", "build"), "h", 1))
                .isEqualTo("octo/app/555/build");
    }

    @Test
    void elseHostPidAndARandomPart() {
        assertThat(HolderNames.fromEnvironment(Map.of("DRONE_REPO", "octo/app"), "runner-0", 7))
                .matches("runner-0/7/[0-9a-f]{4}");
    }

    @Test
    void theResultIsAValidHolder() {
        String long300 = "x".repeat(300);
        assertThat(HolderNames.fromEnvironment(Map.of("DRONE_REPO", long300, "DRONE_BUILD_NUMBER", "1"), "h", 1))
                .hasSize(HolderNames.MAX_LENGTH);
        assertThat(HolderNames.fromEnvironment(Map.of("DRONE_REPO", "a\tb", "DRONE_BUILD_NUMBER", "1"), "h", 1))
                .isEqualTo("a_b/1");
    }
}
