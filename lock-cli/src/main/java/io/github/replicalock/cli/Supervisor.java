package io.github.replicalock.cli;

import io.github.replicalock.LockException;
import io.github.replicalock.LockLostException;
import io.github.replicalock.ReleaseTimeoutException;
import io.github.replicalock.ReplicaLock;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs the build as a child process under a held lock and releases the lock however the child ends.
 * One thread (the caller's) decides everything, from a queue of what happened: the child exited, a
 * signal came (forwarded to the child; after the kill-after grace the child and its descendants are
 * killed; a second signal kills at once), or the lock was lost (the child is stopped the same way
 * and the exit code is {@link ExitCodes#LOST}). The release comes only after the child is gone, so
 * the builder pod is never scaled away under a build that still runs.
 */
final class Supervisor {
    private sealed interface Event {}

    private record ChildExited() implements Event {}

    private record SignalReceived(int signal) implements Event {}

    private record Lost(LockLostException why) implements Event {}

    /** How long a killed child may take to be reaped before we release anyway. */
    private static final Duration REAP_TIMEOUT = Duration.ofSeconds(10);

    private final Terminal terminal;
    private final boolean quiet;
    private final Duration killAfter;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    Supervisor(Terminal terminal, boolean quiet, Duration killAfter) {
        this.terminal = terminal;
        this.quiet = quiet;
        this.killAfter = killAfter;
    }

    /** Called on the signal thread (or the shutdown hook): queued for the supervising thread. */
    void signal(int signal) {
        events.add(new SignalReceived(signal));
    }

    /**
     * Runs {@code command} with {@code env} added to ours and stdio inherited, waits for it, stops it
     * if a signal comes or the lock is lost, then releases the lock.
     *
     * @return the child's exit code; {@link ExitCodes#LOST} if the lock was lost; 128 + signal if a
     *     signal came before the child started
     */
    int run(ReplicaLock lock, List<String> command, Map<String, String> env) {
        Event early = events.peek();
        if (early instanceof SignalReceived s) {
            release(lock, null);
            return ExitCodes.forSignal(s.signal());
        }
        Process child;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
            builder.environment().putAll(env);
            child = builder.start();
        } catch (IOException | RuntimeException e) {
            release(lock, null);
            String reason = String.valueOf(e.getMessage());
            int code = reason.contains("error=13") ? ExitCodes.COMMAND_NOT_EXECUTABLE : ExitCodes.COMMAND_NOT_FOUND;
            throw new CliFailure(
                    code,
                    lock.target() + ": cannot run command '" + command.get(0) + "': " + reason
                            + "; the lock was released");
        }
        child.onExit().thenRun(() -> events.add(new ChildExited()));
        lock.onLost(e -> events.add(new Lost(e)));

        LockLostException lost = null;
        Event first = take();
        if (first instanceof SignalReceived s) {
            terminal.info(
                    quiet,
                    lock.target() + ": got " + signalName(s.signal()) + ", passing it to the command" + " (pid "
                            + child.pid() + "), killing it after " + Durations.format(killAfter));
            forward(child, s.signal());
            lost = stop(child, null);
        } else if (first instanceof Lost l) {
            lost = l.why();
            terminal.error(l.why().getMessage() + "; stopping the command (SIGTERM, SIGKILL after "
                    + Durations.format(killAfter) + ")");
            child.destroy();
            stop(child, lost);
        }
        int childCode = exitCode(child);
        lost = release(lock, lost);
        return lost != null ? ExitCodes.LOST : childCode;
    }

    /** Waits up to the kill-after grace for the child, then kills it and its descendants. */
    private @Nullable LockLostException stop(Process child, @Nullable LockLostException lostBefore) {
        LockLostException lost = lostBefore;
        long deadline = System.nanoTime() + killAfter.toNanos();
        while (child.isAlive()) {
            long left = deadline - System.nanoTime();
            Event next = left <= 0 ? null : poll(left);
            if (next instanceof Lost l && lost == null) {
                lost = l.why();
                terminal.error(String.valueOf(l.why().getMessage()));
            } else if (next instanceof SignalReceived
                    || (next == null && deadline - System.nanoTime() <= 0 && child.isAlive())) {
                killTree(child);
                break;
            }
        }
        return lost;
    }

    private void killTree(Process child) {
        List<ProcessHandle> descendants = child.descendants().toList();
        terminal.info(
                quiet,
                "killing the command (pid " + child.pid() + ") and its " + descendants.size()
                        + " descendant process(es)");
        child.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
    }

    private static int exitCode(Process child) {
        try {
            if (child.waitFor(REAP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                return child.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ExitCodes.forSignal(9);
    }

    /**
     * Releases; reports a loss found now that was not known before.
     *
     * @return the loss, if any
     */
    private @Nullable LockLostException release(ReplicaLock lock, @Nullable LockLostException lost) {
        try {
            lock.close();
            if (lost == null) {
                terminal.info(quiet, lock.target() + ": released (token " + lock.fencingToken() + ")");
            }
            return lost;
        } catch (LockLostException e) {
            if (lost == null) {
                terminal.error(String.valueOf(e.getMessage()));
            }
            return lost != null ? lost : e;
        } catch (ReleaseTimeoutException e) {
            terminal.error(e.getMessage() + " (the next build waits for them)");
            return lost;
        } catch (LockException e) {
            terminal.error(e.getMessage() + "; the lock expires after its lease (" + lock.target() + ")");
            return lost;
        }
    }

    private static void forward(Process child, int signal) {
        if (signal != Signals.SIGTERM) {
            try {
                Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid()))
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                if (kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0) {
                    return;
                }
            } catch (IOException e) {
                // no kill(1): SIGTERM below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        child.destroy(); // SIGTERM
    }

    private Event take() {
        while (true) {
            try {
                return events.take();
            } catch (InterruptedException e) {
                // Only signals interrupt this thread; they are queued as events too.
            }
        }
    }

    private @Nullable Event poll(long nanos) {
        try {
            return events.poll(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            return null;
        }
    }

    static String signalName(int signal) {
        return switch (signal) {
            case Signals.SIGINT -> "SIGINT";
            case Signals.SIGTERM -> "SIGTERM";
            default -> "signal " + signal;
        };
    }
}
