package io.github.replicalock.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Registers {@link FakeClusterExtension} and chooses how the {@link FakeCluster} it injects is
 * built. On a test method it overrides the one on the class (or an enclosing class).
 *
 * <pre>{@code
 * @WithFakeCluster(virtualTime = true, podReadyDelay = "PT20S", podTerminationDelay = "PT5S")
 * class SlowBuilderTest {
 *     @Test
 *     void waitsForTheBuilderPod(FakeCluster cluster) { ... }
 *
 *     @Test
 *     @WithFakeCluster // real time, instant pods, for this test only
 *     void fast(FakeCluster cluster) { ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(FakeClusterExtension.class)
public @interface WithFakeCluster {
    /** Runs the cluster on an auto-advancing {@link VirtualClock}; see {@link FakeCluster.Builder#virtualTime()}. */
    boolean virtualTime() default false;

    /** {@link FakeCluster.Builder#podReadyDelay}, in ISO-8601 ({@code PT5S}); default zero. */
    String podReadyDelay() default "PT0S";

    /** {@link FakeCluster.Builder#podTerminationDelay}, in ISO-8601 ({@code PT3S}); default zero. */
    String podTerminationDelay() default "PT0S";
}
