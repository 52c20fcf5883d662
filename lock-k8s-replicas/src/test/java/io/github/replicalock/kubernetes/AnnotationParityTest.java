package io.github.replicalock.kubernetes;

import static io.github.replicalock.kubernetes.MockCluster.BUILDER;
import static io.github.replicalock.kubernetes.MockCluster.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import io.github.replicalock.spi.ForceRelease;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.FakeCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Kubernetes backend (on fabric8's CRUD mock) and the testkit's fake cluster read and write
 * the lock annotations alike, so that what the protocol simulation proves on the fake holds on a
 * cluster: the same judgement of every hand-edited value, the same text for every write.
 */
class AnnotationParityTest {
    private static final LockTarget TARGET = LockTarget.of(NAMESPACE, BUILDER);
    private static final Instant NOW = Instant.parse("2030-01-01T10:00:00.250Z");

    private FakeCluster fake;
    private MockCluster mock;
    private List<Side> sides;

    @BeforeEach
    void setUp() {
        fake = FakeCluster.create();
        fake.createDeployment(NAMESPACE, BUILDER);
        mock = MockCluster.crud();
        mock.createBuilder(BUILDER);
        sides = List.of(new FakeSide(fake), new KubernetesSide(mock));
    }

    @AfterEach
    void tearDown() {
        for (Side side : sides) {
            side.backend().close();
        }
        fake.close();
        mock.close();
    }

    /** One hand-edited annotation, and how every backend must read it: fields, or "invalid". */
    static Stream<Arguments> handEdits() {
        LockFields legacy = new LockFields(1, null, 0, null, null, null);
        String invalid = "invalid";
        return Stream.of(
                edit(LockFields.TOKEN_ANNOTATION, "-5", invalid),
                edit(LockFields.TOKEN_ANNOTATION, "+5", invalid),
                edit(LockFields.TOKEN_ANNOTATION, "seven", invalid),
                edit(LockFields.TOKEN_ANNOTATION, "7.0", invalid),
                edit(LockFields.TOKEN_ANNOTATION, "9223372036854775808", invalid),
                edit(LockFields.TOKEN_ANNOTATION, "", legacy),
                edit(LockFields.TOKEN_ANNOTATION, " \t", legacy),
                edit(LockFields.TOKEN_ANNOTATION, " 7 ", new LockFields(1, null, 7, null, null, null)),
                edit(LockFields.LEASE_ANNOTATION, "0", invalid),
                edit(LockFields.LEASE_ANNOTATION, "-30", invalid),
                edit(LockFields.LEASE_ANNOTATION, "2.5", invalid),
                edit(LockFields.LEASE_ANNOTATION, "thirty", invalid),
                edit(LockFields.LEASE_ANNOTATION, "", legacy),
                edit(LockFields.LEASE_ANNOTATION, "  ", legacy),
                edit(
                        LockFields.LEASE_ANNOTATION,
                        " 45\n",
                        new LockFields(1, null, 0, null, null, Duration.ofSeconds(45))),
                edit(LockFields.ACQUIRED_ANNOTATION, "yesterday", invalid),
                edit(LockFields.RENEWED_ANNOTATION, "2030-01-01T10:00:00", invalid),
                edit(LockFields.RENEWED_ANNOTATION, " ", legacy),
                edit(
                        LockFields.ACQUIRED_ANNOTATION,
                        " 2030-01-01T12:00:00+02:00 ",
                        new LockFields(1, null, 0, Instant.parse("2030-01-01T10:00:00Z"), null, null)),
                edit(LockFields.HOLDER_ANNOTATION, "", legacy),
                edit(LockFields.HOLDER_ANNOTATION, "   ", legacy),
                edit(LockFields.HOLDER_ANNOTATION, " build-1 ", new LockFields(1, " build-1 ", 0, null, null, null)),
                edit(ForceRelease.ANNOTATION, "token: 7\nholder: b\nat: now\nby: ops\nreason: wedged", invalid),
                edit(ForceRelease.ANNOTATION, "token: 7\nholder: b\nby: ops\nreason: wedged", invalid),
                edit(ForceRelease.ANNOTATION, " ", legacy),
                edit(
                        ForceRelease.ANNOTATION,
                        "token: 7\nholder: b\nat: 2030-01-01T10:00:00Z\nby: ops\nreason: wedged\nticket: INC-1",
                        legacy.withForceReleased(
                                new ForceRelease(7, "b", Instant.parse("2030-01-01T10:00:00Z"), "ops", "wedged"))),
                edit("example.com/token", "seven", legacy));
    }

    private static Arguments edit(String key, String value, Object expected) {
        return Arguments.of(key, value, expected);
    }

    @ParameterizedTest(name = "{0}=''{1}''")
    @MethodSource("handEdits")
    void everyHandEditedAnnotationIsJudgedAlikeByBothBackends(String key, String value, Object expected)
            throws InterruptedException {
        List<String> judgements = new ArrayList<>();
        for (Side side : sides) {
            side.scale(1);
            side.annotate(key, value);

            String judgement = judge(side.backend());

            if (expected instanceof LockFields fields) {
                assertThat(judgement).as(side.name()).isEqualTo(fields.toString());
            } else {
                assertThat(judgement)
                        .as(side.name())
                        .startsWith("invalid: " + TARGET + ": annotation " + key + " has value '" + value + "'");
            }
            judgements.add(judgement);
        }
        assertThat(judgements.get(1)).as("same judgement, same message").isEqualTo(judgements.get(0));
    }

    private static String judge(LockBackend backend) throws InterruptedException {
        try {
            return backend.read(TARGET).fields().toString();
        } catch (LockTargetInvalidException e) {
            return "invalid: " + e.getMessage();
        }
    }

    @Test
    void aFractionalLeaseWrittenByEitherBackendReadsBackAtLeastAsLong() throws InterruptedException {
        Duration lease = Duration.ofMillis(2500);
        for (Side side : sides) {
            LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, lease);

            assertThat(side.backend().compareAndSet(TARGET, LockFields.free(0), held))
                    .as(side.name())
                    .isTrue();

            Duration stored = side.backend().read(TARGET).fields().lease();
            assertThat(stored).as(side.name()).isNotNull().isGreaterThanOrEqualTo(lease);
            assertThat(side.lockAnnotations()).as(side.name()).containsEntry(LockFields.LEASE_ANNOTATION, "3");
        }
    }

    @Test
    void aLockCycleLeavesTheSameAnnotationsOnBothBackends() throws InterruptedException {
        LockFields held = LockFields.free(0).heldBy("build-1", 1, NOW, Duration.ofMillis(29_001));
        LockFields renewed = held.renewedAt(NOW.plusMillis(9_667));
        LockFields released = renewed.released();
        LockFields[][] steps = {{LockFields.free(0), held}, {held, renewed}, {renewed, released}};

        for (LockFields[] step : steps) {
            List<Map<String, String>> stored = new ArrayList<>();
            for (Side side : sides) {
                LockFields before = side.backend().read(TARGET).fields();
                assertThat(before.sameLockAs(step[0])).as(side.name()).isTrue();
                assertThat(side.backend().compareAndSet(TARGET, before, step[1]))
                        .as(side.name())
                        .isTrue();
                stored.add(side.lockAnnotations());
            }
            assertThat(stored.get(1)).as("after writing %s", step[1]).isEqualTo(stored.get(0));
        }
        assertThat(sides.get(0).lockAnnotations())
                .as("a free lock keeps an empty holder and its token")
                .containsOnly(Map.entry(LockFields.HOLDER_ANNOTATION, ""), Map.entry(LockFields.TOKEN_ANNOTATION, "1"));
    }

    private interface Side {
        String name();

        LockBackend backend();

        void scale(int replicas);

        void annotate(String key, @Nullable String value);

        /** The {@code replicalock.io/} annotations as stored. */
        Map<String, String> lockAnnotations();
    }

    private static Map<String, String> lockOnly(@Nullable Map<String, String> annotations) {
        Map<String, String> lock = new TreeMap<>();
        if (annotations != null) {
            annotations.forEach((k, v) -> {
                if (k.startsWith("replicalock.io/")) {
                    lock.put(k, v);
                }
            });
        }
        return lock;
    }

    private static final class FakeSide implements Side {
        private final FakeCluster cluster;
        private final LockBackend backend;

        FakeSide(FakeCluster cluster) {
            this.cluster = cluster;
            this.backend = cluster.backend();
        }

        @Override
        public String name() {
            return "FakeBackend";
        }

        @Override
        public LockBackend backend() {
            return backend;
        }

        @Override
        public void scale(int replicas) {
            cluster.scale(TARGET, replicas);
        }

        @Override
        public void annotate(String key, @Nullable String value) {
            cluster.annotate(NAMESPACE, BUILDER, key, value);
        }

        @Override
        public Map<String, String> lockAnnotations() {
            return lockOnly(cluster.deployment(TARGET).annotations());
        }
    }

    private static final class KubernetesSide implements Side {
        private final MockCluster cluster;
        private final LockBackend backend;

        KubernetesSide(MockCluster cluster) {
            this.cluster = cluster;
            this.backend = KubernetesReplicaBackendTest.backend(cluster);
        }

        @Override
        public String name() {
            return "KubernetesReplicaBackend";
        }

        @Override
        public LockBackend backend() {
            return backend;
        }

        @Override
        public void scale(int replicas) {
            cluster.client
                    .apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(BUILDER)
                    .edit(d -> new DeploymentBuilder(d)
                            .editSpec()
                            .withReplicas(replicas)
                            .endSpec()
                            .build());
        }

        @Override
        public void annotate(String key, @Nullable String value) {
            cluster.client
                    .apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(BUILDER)
                    .edit(d -> {
                        Map<String, String> annotations = new LinkedHashMap<>();
                        if (d.getMetadata().getAnnotations() != null) {
                            annotations.putAll(d.getMetadata().getAnnotations());
                        }
                        if (value == null) {
                            annotations.remove(key);
                        } else {
                            annotations.put(key, value);
                        }
                        return new DeploymentBuilder(d)
                                .editMetadata()
                                .withAnnotations(annotations)
                                .endMetadata()
                                .build();
                    });
        }

        @Override
        public Map<String, String> lockAnnotations() {
            return lockOnly(cluster.client
                    .apps()
                    .deployments()
                    .inNamespace(NAMESPACE)
                    .withName(BUILDER)
                    .get()
                    .getMetadata()
                    .getAnnotations());
        }
    }
}
