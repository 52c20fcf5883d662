package io.github.replicalock.testkit;

import java.lang.reflect.AnnotatedElement;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects a {@link FakeCluster} into test methods, lifecycle methods and constructors, one per
 * test, closed after it. Thin on purpose: the cluster lives in JUnit's {@link
 * ExtensionContext.Store}, which closes it (it is {@link AutoCloseable}) when the test's context
 * ends, so the extension itself keeps no state. Configure it with {@link WithFakeCluster}.
 *
 * <pre>{@code
 * @ExtendWith(FakeClusterExtension.class)
 * class LockTest {
 *     @Test
 *     void acquires(FakeCluster cluster) throws InterruptedException {
 *         LockTarget target = cluster.createDeployment("ci", "builder");
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>A {@code @BeforeEach} method and the test method of one test get the same cluster.
 */
public final class FakeClusterExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(FakeClusterExtension.class);

    /** For JUnit. */
    public FakeClusterExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == FakeCluster.class;
    }

    @Override
    public FakeCluster resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return extensionContext
                .getStore(NAMESPACE)
                .computeIfAbsent(FakeCluster.class, key -> create(settings(extensionContext)), FakeCluster.class);
    }

    private static @Nullable WithFakeCluster settings(ExtensionContext context) {
        Optional<WithFakeCluster> onMethod =
                context.getTestMethod().map(method -> method.getAnnotation(WithFakeCluster.class));
        if (onMethod.isPresent()) {
            return onMethod.get();
        }
        // The test class, then the classes it is nested in (@Nested tests).
        for (Class<?> type = context.getTestClass().orElse(null); type != null; type = type.getEnclosingClass()) {
            WithFakeCluster onClass = annotation(type);
            if (onClass != null) {
                return onClass;
            }
        }
        return null;
    }

    private static @Nullable WithFakeCluster annotation(AnnotatedElement element) {
        return element.getAnnotation(WithFakeCluster.class);
    }

    private static FakeCluster create(@Nullable WithFakeCluster settings) {
        FakeCluster.Builder builder = FakeCluster.builder();
        if (settings != null) {
            if (settings.virtualTime()) {
                builder.virtualTime();
            }
            builder.podReadyDelay(duration("podReadyDelay", settings.podReadyDelay()));
            builder.podTerminationDelay(duration("podTerminationDelay", settings.podTerminationDelay()));
        }
        return builder.build();
    }

    private static Duration duration(String attribute, String value) {
        try {
            return Duration.parse(value);
        } catch (DateTimeParseException e) {
            throw new ParameterResolutionException(
                    "@WithFakeCluster(" + attribute + " = \"" + value
                            + "\") is not an ISO-8601 duration such as \"PT5S\" or \"PT1M30S\"",
                    e);
        }
    }
}
