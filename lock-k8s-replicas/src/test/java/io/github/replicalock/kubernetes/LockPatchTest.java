package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.kubernetes.internal.LockPatch;
import io.github.replicalock.kubernetes.internal.ObservedLock;
import io.github.replicalock.spi.LockFields;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LockPatchTest {
    private static final LockFields HELD =
            LockFields.free(0).heldBy("build/42", 1, Instant.parse("2026-11-25T10:00:00Z"), Duration.ofSeconds(30));

    @Test
    void withoutAnEarlierReadItTestsTheCanonicalForm() {
        String patch = LockPatch.build(LockFields.free(0), HELD, null);

        assertThat(patch)
                .startsWith("[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":0},"
                        + "{\"op\":\"test\",\"path\":\"/metadata/annotations/replicalock.io~1holder\",\"value\":\"\"},"
                        + "{\"op\":\"test\",\"path\":\"/metadata/annotations/replicalock.io~1token\",\"value\":\"0\"},")
                .contains("{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":1}")
                .contains(
                        "{\"op\":\"add\",\"path\":\"/metadata/annotations/replicalock.io~1holder\",\"value\":\"build/42\"}")
                .contains(
                        "{\"op\":\"add\",\"path\":\"/metadata/annotations/replicalock.io~1lease-seconds\",\"value\":\"30\"}");
    }

    @Test
    void absentLockKeysAreGuardedByTheWholeAnnotationsObject() {
        ObservedLock stored = new ObservedLock(0, Map.of("deployment.kubernetes.io/revision", "3"), "17", null);

        String patch = LockPatch.build(LockFields.free(0), HELD, stored);

        assertThat(patch)
                .contains("{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":0}")
                .contains("{\"op\":\"test\",\"path\":\"/metadata/annotations\",\"value\":"
                        + "{\"deployment.kubernetes.io/revision\":\"3\"}}")
                .doesNotContain("resourceVersion");
    }

    @Test
    void anAbsentAnnotationsObjectIsGuardedByTheResourceVersionAndCreated() {
        ObservedLock stored = new ObservedLock(0, null, "17", null);

        String patch = LockPatch.build(LockFields.free(0), HELD, stored);

        assertThat(patch)
                .contains("{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"17\"}")
                .contains("{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{}}");
    }

    @Test
    void clearedOptionalAnnotationsAreRemovedWhetherPresentOrNot() {
        String patch = LockPatch.build(HELD, HELD.released(), null);

        assertThat(patch)
                .contains(
                        "{\"op\":\"test\",\"path\":\"/metadata/annotations/replicalock.io~1holder\",\"value\":\"build/42\"}")
                .contains("{\"op\":\"add\",\"path\":\"/metadata/annotations/replicalock.io~1acquired\",\"value\":\"\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/annotations/replicalock.io~1acquired\"}")
                .contains("{\"op\":\"add\",\"path\":\"/metadata/annotations/replicalock.io~1holder\",\"value\":\"\"}")
                .contains("{\"op\":\"add\",\"path\":\"/metadata/annotations/replicalock.io~1token\",\"value\":\"1\"}");
    }
}
