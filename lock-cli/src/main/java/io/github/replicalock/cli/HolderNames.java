package io.github.replicalock.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The default holder: something a person recognises in a pipeline ({@code $DRONE_REPO/$DRONE_BUILD_NUMBER},
 * GitLab's and GitHub's equivalents), else {@code host/pid/random}.
 */
final class HolderNames {
    static final int MAX_LENGTH = 253;

    private HolderNames() {}

    static String fromEnvironment(Map<String, String> env, String host, long pid) {
        String ci = ciBuild(env);
        if (ci != null) {
            return clean(ci);
        }
        byte[] random = new byte[2];
        ThreadLocalRandom.current().nextBytes(random);
        // A random part: containers of different pipelines often share pid 1 and a host name pattern.
        return clean(host + "/" + pid + "/" + HexFormat.of().formatHex(random));
    }

    /** {@code $HOSTNAME}, else the local host name, else {@code localhost}. */
    static String host(Map<String, String> env) {
        String host = env.get("HOSTNAME");
        if (host != null && !host.isBlank()) {
            return host;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static @Nullable String ciBuild(Map<String, String> env) {
        String drone = join(env, "DRONE_REPO", "DRONE_BUILD_NUMBER", "DRONE_STEP_NAME");
        if (drone != null) {
            return drone;
        }
        String gitlab = join(env, "CI_PROJECT_PATH", "CI_JOB_ID", null);
        if (gitlab != null) {
            return gitlab;
        }
        return join(env, "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_JOB");
    }

    /** {@code a/b} or {@code a/b/c} when the first two are set; the step tells parallel steps of one build apart. */
    private static @Nullable String join(Map<String, String> env, String first, String second, @Nullable String third) {
        String a = env.get(first);
        String b = env.get(second);
        if (a == null || a.isBlank() || b == null || b.isBlank()) {
            return null;
        }
        String c = third == null ? null : env.get(third);
        return a.strip() + "/" + b.strip() + (c == null || c.isBlank() ? "" : "/" + c.strip());
    }

    /** Printable and at most {@value #MAX_LENGTH} characters, as the holder annotation requires. */
    private static String clean(String holder) {
        StringBuilder out = new StringBuilder();
        holder.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '_' : c));
        return out.length() <= MAX_LENGTH ? out.toString() : out.substring(0, MAX_LENGTH);
    }
}
