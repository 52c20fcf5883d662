package io.github.replicalock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The module a module-path user gets. Tests run on the class path, so this reads the compiled
 * {@code module-info} and resolves it the way the JVM would at start-up.
 */
class ModuleDescriptorTest {
    private static final String MODULE = "io.github.replicalock.kubernetes";

    private static Path classes() throws URISyntaxException {
        return Path.of(KubernetesReplicaBackend.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    }

    @Test
    void onlyTheBackendsPackageIsExported() throws URISyntaxException {
        ModuleDescriptor descriptor =
                ModuleFinder.of(classes()).find(MODULE).orElseThrow().descriptor();

        assertThat(descriptor.isAutomatic()).isFalse();
        assertThat(descriptor.exports())
                .extracting(ModuleDescriptor.Exports::source)
                .containsExactly("io.github.replicalock.kubernetes");
        assertThat(descriptor.packages()).contains("io.github.replicalock.kubernetes.internal");
        assertThat(descriptor.opens()).isEmpty();
    }

    @Test
    void resolvesOnTheModulePathWithFabric8AndAnHttpTransport() throws URISyntaxException {
        Path[] path = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of)
                .filter(ModuleDescriptorTest::isLibrary)
                .toArray(Path[]::new);
        Path[] withUs = Arrays.copyOf(path, path.length + 1);
        withUs[path.length] = classes();

        Configuration configuration = Configuration.resolve(
                ModuleFinder.of(withUs),
                List.of(ModuleLayer.boot().configuration()),
                ModuleFinder.of(),
                Set.of(MODULE, "io.fabric8.kubernetes.client.jdkhttp"));

        Set<String> read = configuration.findModule(MODULE).orElseThrow().reads().stream()
                .map(ResolvedModule::name)
                .collect(Collectors.toSet());
        assertThat(read)
                .contains(
                        "io.github.replicalock.api",
                        "kubernetes.client.api",
                        "kubernetes.model.core",
                        "kubernetes.model.apps",
                        "io.github.resilience4j.retry",
                        "org.slf4j");
    }

    /** The backend's own dependencies, not the test libraries (which a user's module path lacks). */
    private static boolean isLibrary(Path jar) {
        String p = jar.toString().replace(File.separatorChar, '/');
        return Files.exists(jar)
                && (p.contains("/io/fabric8/kubernetes-")
                        || p.contains("/io/github/resilience4j/")
                        || p.contains("/org/slf4j/slf4j-api/")
                        || p.contains("/org/jspecify/")
                        || p.contains("/tools/jackson/")
                        || p.contains("/com/fasterxml/jackson/")
                        || p.contains("/org/snakeyaml/")
                        || p.contains("/lock-api/"))
                && !p.contains("kubernetes-server-mock");
    }
}
