package io.github.replicalock.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The end-to-end tests' cluster and CLI processes: a {@link MockApi} in {@code dir}, {@code
 * replica-lock} started against it through its kubeconfig, and everything stopped on {@link
 * #close()}: SIGTERM first, as a cancelled pipeline would, so that a run stops its command; then
 * SIGKILL for what is left, commands included (a SIGKILLed run cannot stop its own).
 */
final class CliRuns implements AutoCloseable {
    private final Path dir;
    final MockApi api;
    private final List<CliProcess> started = new CopyOnWriteArrayList<>();

    CliRuns(Path dir) throws IOException {
        this.dir = dir;
        this.api = new MockApi(dir);
    }

    /** Starts {@code replica-lock args}, the cluster options put before {@code --}. */
    CliProcess start(Map<String, String> env, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of(args));
        int at = all.indexOf("--") < 0 ? all.size() : all.indexOf("--");
        all.addAll(at, List.of("--kubeconfig", api.kubeconfig.toString()));
        CliProcess p = CliProcess.start(dir, env, all.toArray(String[]::new));
        started.add(p);
        return p;
    }

    /** The processes started so far, oldest first. */
    List<CliProcess> started() {
        return List.copyOf(started);
    }

    @Override
    public void close() throws InterruptedException {
        started.forEach(p -> p.process.destroy());
        for (CliProcess p : started) {
            if (!p.process.waitFor(15, TimeUnit.SECONDS)) {
                p.process.descendants().forEach(ProcessHandle::destroyForcibly);
                p.process.destroyForcibly();
            }
        }
        api.close();
    }
}
