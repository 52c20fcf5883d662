package io.github.replicalock.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code replica-lock ...} as a pipeline step starts it: the launcher script, which execs {@code java
 * -jar target/replica-lock.jar}, in a process of its own with its own environment (no KUBECONFIG, a
 * HOME of its own), stdout and stderr captured to files.
 */
final class CliProcess {
    private static final AtomicInteger SERIAL = new AtomicInteger();
    private static final Duration PATIENCE =
            Duration.ofSeconds(60L * Integer.getInteger("replicalock.test.timeoutScale", 1));

    final Process process;
    private final Path stdout;
    private final Path stderr;

    private CliProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    static Path jar() {
        Path path = Path.of(System.getProperty("replicalock.cli.jar", "target/replica-lock.jar"));
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException(path + " is missing: the end-to-end tests run after package");
        }
        return path.toAbsolutePath();
    }

    /** The launcher script users run; it execs {@code java -jar replica-lock.jar}. */
    static Path launcher() {
        return Path.of(System.getProperty("replicalock.cli.launcher", "replica-lock"))
                .toAbsolutePath();
    }

    /** Starts the CLI with {@code args}; {@code env} is added to a clean environment. */
    static CliProcess start(Path dir, Map<String, String> env, String... args) throws IOException {
        int n = SERIAL.incrementAndGet();
        Path out = dir.resolve("cli-" + n + ".out");
        Path err = dir.resolve("cli-" + n + ".err");
        List<String> command = new ArrayList<>();
        command.add("sh");
        command.add(launcher().toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> environment = builder.environment();
        environment
                .keySet()
                .removeIf(k -> k.startsWith("KUBE")
                        || k.startsWith("DRONE_")
                        || k.startsWith("CI_")
                        || k.startsWith("GITHUB_")
                        || k.equals("HOSTNAME"));
        environment.put("HOME", dir.toString());
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("REPLICA_LOCK_JAR", jar().toString());
        environment.putAll(env);
        return new CliProcess(builder.start(), out, err);
    }

    /** Waits for the exit; fails the test if the CLI is still running after a minute. */
    int exitCode() throws InterruptedException {
        if (!process.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("replica-lock still running after " + PATIENCE + "; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    /** SIGTERM, as a cancelled pipeline (or a deleted pipeline pod) sends it. */
    void terminate() {
        process.destroy();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
