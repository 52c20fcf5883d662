package io.github.replicalock.cli;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.Map;

/**
 * Where a command writes and what it reads from its surroundings: stdout for results, stderr for
 * progress and errors, the environment (for the default holder). Injected so that tests run the
 * commands in-process.
 */
record Terminal(PrintWriter out, PrintWriter err, Map<String, String> env, Clock clock) {

    /** One line on stderr, prefixed with the command's name, flushed at once (a pipeline log interleaves). */
    void error(String message) {
        write(err, message);
    }

    /** One line, {@code replica-lock: } first, flushed. */
    static void write(PrintWriter to, String message) {
        to.println("replica-lock: " + oneLine(message));
        to.flush();
    }

    /** Progress and what happened, unless {@code quiet}. */
    void info(boolean quiet, String message) {
        if (!quiet) {
            error(message);
        }
    }

    private static String oneLine(String message) {
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
