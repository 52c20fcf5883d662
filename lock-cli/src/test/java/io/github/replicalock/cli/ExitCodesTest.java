package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockAccessDeniedException;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.PodNotReadyException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExitCodesTest {
    private static final LockTarget TARGET = LockTarget.of("apps--droneio--prd", "buildah-external");

    @Test
    void eachFailureHasItsOwnCode() {
        LockStatus held = Statuses.held(TARGET, "a", 3, null, null, null);
        assertThat(ExitCodes.forFailure(new LockTimeoutException(TARGET, Duration.ofMinutes(1), held), 75))
                .isEqualTo(75);
        assertThat(ExitCodes.forFailure(new LockTimeoutException(TARGET, Duration.ofMinutes(1), held), 3))
                .as("--busy-exit-code")
                .isEqualTo(3);
        assertThat(ExitCodes.forFailure(
                        new PodNotReadyException(TARGET, Duration.ofSeconds(5), "ImagePullBackOff"), 75))
                .isEqualTo(71);
        assertThat(ExitCodes.forFailure(new LockLostException(TARGET, "a", 3, "scaled to 0"), 75))
                .isEqualTo(76);
        assertThat(ExitCodes.forFailure(new LockAccessDeniedException(TARGET, "patch", "deployments", null), 75))
                .isEqualTo(77);
        assertThat(ExitCodes.forFailure(new LockTargetNotFoundException(TARGET, null), 75))
                .isEqualTo(66);
        assertThat(ExitCodes.forFailure(new LockTargetInvalidException(TARGET, "replicas 3"), 75))
                .isEqualTo(65);
        assertThat(ExitCodes.forFailure(new LockBackendUnavailableException(TARGET, "connection refused", null), 75))
                .isEqualTo(69);
        assertThat(ExitCodes.forFailure(new LockException(TARGET, "something else"), 75))
                .isEqualTo(70);
        assertThat(ExitCodes.forFailure(new IllegalStateException("bug"), 75)).isEqualTo(70);
        assertThat(ExitCodes.forFailure(CliFailure.usage("bad"), 75)).isEqualTo(64);
        assertThat(ExitCodes.forSignal(Signals.SIGTERM)).isEqualTo(143);
        assertThat(ExitCodes.forSignal(Signals.SIGINT)).isEqualTo(130);
    }

    @Test
    void theFixedCodesAreDistinctAndDocumented() {
        List<Integer> codes = List.of(
                ExitCodes.USAGE,
                ExitCodes.NOT_A_LOCK,
                ExitCodes.NOT_FOUND,
                ExitCodes.UNAVAILABLE,
                ExitCodes.INTERNAL,
                ExitCodes.POD_NOT_READY,
                ExitCodes.BUSY,
                ExitCodes.LOST,
                ExitCodes.ACCESS_DENIED,
                ExitCodes.COMMAND_NOT_EXECUTABLE,
                ExitCodes.COMMAND_NOT_FOUND);
        assertThat(codes).doesNotHaveDuplicates();
        String help = String.join("\n", ExitCodes.HELP);
        assertThat(codes).allSatisfy(code -> assertThat(help).contains(Integer.toString(code)));
        assertThat(Arrays.stream(ExitCodes.HELP))
                .allSatisfy(line -> assertThat(line).contains(":"));
    }
}
