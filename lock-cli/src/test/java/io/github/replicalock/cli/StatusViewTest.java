package io.github.replicalock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.replicalock.LockStatus;
import io.github.replicalock.LockTarget;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatusViewTest {
    private static final LockTarget TARGET = LockTarget.of("apps--droneio--prd", "buildah-external");
    private static final Instant NOW = Instant.parse("2026-12-03T08:00:00Z");
    private static final LockStatus HELD =
            Statuses.held(TARGET, "octo/app/42", 7, NOW.minusSeconds(60), NOW.minusSeconds(4), Duration.ofSeconds(30));

    @Test
    void textIsAHeaderAndOneAlignedLine() {
        assertThat(StatusView.text(HELD, NOW).lines())
                .containsExactly(
                        "NAMESPACE            DEPLOYMENT         READY   STATE    HOLDER        TOKEN   LEASE-LEFT",
                        "apps--droneio--prd   buildah-external   1/1     ACTIVE   octo/app/42   7       26s");
        LockStatus free = Statuses.idle(TARGET, 7);
        assertThat(StatusView.text(free, NOW).lines().toList().get(1))
                .isEqualTo("apps--droneio--prd   buildah-external   0/0     IDLE    <none>   7       -");
    }

    @Test
    void jsonHasEveryFieldAndEscapes() {
        assertThat(StatusView.json(HELD, NOW))
                .isEqualTo(
                        "{\"namespace\":\"apps--droneio--prd\",\"deployment\":\"buildah-external\",\"state\":\"ACTIVE\","
                                + "\"ready\":\"1/1\",\"desiredReplicas\":1,\"readyReplicas\":1,\"holder\":\"octo/app/42\","
                                + "\"token\":7,\"acquired\":\"2026-12-03T07:59:00Z\",\"renewed\":\"2026-12-03T07:59:56Z\","
                                + "\"leaseSeconds\":30,\"leaseLeftSeconds\":26,\"reason\":null}");
        LockStatus odd = Statuses.unknown(TARGET, "replicas 3: \"not\\a lock\"\n", 3, "a\u0001", 1);
        assertThat(StatusView.json(odd, NOW))
                .contains("\"state\":\"UNKNOWN\"")
                .contains("\"holder\":\"a\\u0001\"")
                .contains("\"reason\":\"replicas 3: \\\"not\\\\a lock\\\"\\n\"")
                .contains("\"leaseLeftSeconds\":null");
    }

    @Test
    void waitersAreListedHeadFirstInTextAndJson() {
        String queue = NOW.minusSeconds(240) + " drone-build-41\n" + NOW.minusSeconds(30) + " ci-runner-7/4711";
        LockStatus queued = Statuses.heldWithQueue(TARGET, "octo/app/42", 7, NOW.minusSeconds(4), queue);
        Instant now =
                queued.waiters().get(0).enqueued().plus(queued.waiters().get(0).waited());

        assertThat(StatusView.text(queued, now).lines().skip(2))
                .containsExactly(
                        "WAITERS (head first):",
                        "  1. drone-build-41   waiting "
                                + Durations.format(queued.waiters().get(0).waited()),
                        "  2. ci-runner-7/4711   waiting "
                                + Durations.format(queued.waiters().get(1).waited()));
        assertThat(StatusView.json(queued, now))
                .endsWith(",\"reason\":null,\"waiters\":[{\"identity\":\"drone-build-41\",\"enqueued\":\""
                        + NOW.minusSeconds(240) + "\",\"waitedSeconds\":"
                        + queued.waiters().get(0).waited().toSeconds()
                        + "},{\"identity\":\"ci-runner-7/4711\",\"enqueued\":\"" + NOW.minusSeconds(30)
                        + "\",\"waitedSeconds\":"
                        + queued.waiters().get(1).waited().toSeconds() + "}]}");
        assertThat(StatusView.json(HELD, NOW)).doesNotContain("waiters");
        assertThat(StatusView.phrase(queued, queued.renewed().orElseThrow()))
                .isEqualTo("ACTIVE READY 1/1, held by 'octo/app/42' (token 7), lease left 30s,"
                        + " 2 queued (head 'drone-build-41')");
        assertThat(StatusView.phrase(HELD, NOW)).doesNotContain("queued");
    }

    @Test
    void anExpiredLeaseIsSaidSo() {
        Instant late = NOW.plusSeconds(40);
        assertThat(StatusView.leaseLeft(HELD, late)).isEqualTo(Duration.ofSeconds(-14));
        assertThat(StatusView.text(HELD, late)).endsWith("expired");
        assertThat(StatusView.phrase(HELD, late))
                .isEqualTo("ACTIVE READY 1/1, held by 'octo/app/42' (token 7), lease expired 14s ago");
        assertThat(StatusView.phrase(HELD, NOW))
                .isEqualTo("ACTIVE READY 1/1, held by 'octo/app/42' (token 7), lease left 26s");
    }
}
