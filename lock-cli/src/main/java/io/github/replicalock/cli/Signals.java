package io.github.replicalock.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT, handled by {@code run} itself instead of starting JVM shutdown: a cancelled
 * pipeline must first stop the build, then release the lock, and only then exit; the JVM's shutdown
 * hooks run in no order and would race the release against the still running build. {@code
 * sun.misc.Signal} (module jdk.unsupported) is the JDK's only way to do that; where it is refused,
 * {@code run}'s shutdown hook does the same work, less precisely.
 */
final class Signals implements AutoCloseable {
    static final int SIGINT = 2;
    static final int SIGTERM = 15;

    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private final List<Restore> installed = new ArrayList<>();

    private record Restore(Signal signal, sun.misc.SignalHandler previous) {}

    private Signals() {}

    /** Sends SIGTERM and SIGINT to {@code handler} (on the JVM's signal thread) until closed. */
    static Signals handle(IntConsumer handler) {
        Signals signals = new Signals();
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal signal = new Signal(name);
                sun.misc.SignalHandler previous = Signal.handle(signal, s -> handler.accept(s.getNumber()));
                signals.installed.add(new Restore(signal, previous));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.debug("cannot handle SIG{} (the shutdown hook covers it): {}", name, e.toString());
            }
        }
        return signals;
    }

    /** Gives the signals back to the JVM: from now on they start its shutdown, as usual. */
    @Override
    public void close() {
        for (Restore r : installed) {
            try {
                Signal.handle(r.signal(), r.previous());
            } catch (IllegalArgumentException e) {
                log.debug("cannot restore {}: {}", r.signal(), e.toString());
            }
        }
        installed.clear();
    }
}
