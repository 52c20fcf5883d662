package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.ClusterEvent;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.QueueWrite;
import io.github.replicalock.testkit.RequestKind;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What the fake cluster saw, for tests to assert on afterwards: every accepted lock write in the
 * order it was applied (and the listener that hears them as they happen), the events recorded on
 * each Deployment, and how many requests of each kind the clients made.
 *
 * <p>Writes are recorded by the store under its lock, so the order here is the order of the store;
 * this class's own monitor is only ever taken inside it or alone, never the other way round.
 */
final class ClusterHistory {
    private static final System.Logger LOG = System.getLogger(ClusterHistory.class.getName());

    private final int historyLimit;
    private final @Nullable Consumer<? super LockWrite> writeListener;
    private final ArrayDeque<LockWrite> writes = new ArrayDeque<>();
    private final ArrayDeque<QueueWrite> queueWrites = new ArrayDeque<>();
    /** Writes recorded but not yet given to the listener. */
    private final ArrayDeque<LockWrite> undelivered = new ArrayDeque<>();
    /** Held while delivering, so that the listener hears the writes one at a time, in order. */
    private final ReentrantLock delivery = new ReentrantLock();

    private final Map<LockTarget, ArrayDeque<ClusterEvent>> events = new HashMap<>();
    private final Map<RequestKind, LongAdder> requests = new EnumMap<>(RequestKind.class);
    private long droppedWrites;

    ClusterHistory(int historyLimit, @Nullable Consumer<? super LockWrite> writeListener) {
        this.historyLimit = historyLimit;
        this.writeListener = writeListener;
        for (RequestKind kind : RequestKind.values()) {
            requests.put(kind, new LongAdder());
        }
    }

    /** Records an applied lock write; called under the store's lock, in the order of the writes. */
    synchronized LockWrite recordWrite(
            Instant time, LockTarget target, String client, LockFields before, LockFields after) {
        LockWrite write = new LockWrite(time, target, client, before, after);
        if (writeListener != null) {
            undelivered.add(write);
        }
        if (historyLimit == 0) {
            droppedWrites++;
            return write;
        }
        writes.add(write);
        if (writes.size() > historyLimit) {
            writes.removeFirst();
            droppedWrites++;
        }
        return write;
    }

    /** Records an applied queue write; called under the store's lock, in the order of the writes. */
    synchronized void recordQueueWrite(QueueWrite write) {
        if (historyLimit == 0) {
            return;
        }
        queueWrites.add(write);
        if (queueWrites.size() > historyLimit) {
            queueWrites.removeFirst();
        }
    }

    synchronized List<QueueWrite> queueWrites(LockTarget target) {
        return queueWrites.stream().filter(w -> w.target().equals(target)).toList();
    }

    /**
     * Gives the listener the writes recorded so far, in the order they were applied. Called with no
     * lock of the cluster held, so that the listener may call the cluster; a listener's exception is
     * logged, never thrown at the writer.
     */
    void deliverWrites() {
        Consumer<? super LockWrite> listener = writeListener;
        if (listener == null) {
            return;
        }
        delivery.lock();
        try {
            while (true) {
                LockWrite next;
                synchronized (this) {
                    next = undelivered.poll();
                }
                if (next == null) {
                    return;
                }
                try {
                    listener.accept(next);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "lock write listener failed on " + next, e);
                }
            }
        } finally {
            delivery.unlock();
        }
    }

    synchronized List<LockWrite> lockWrites() {
        return List.copyOf(writes);
    }

    synchronized long droppedLockWrites() {
        return droppedWrites;
    }

    /** Records an event on the Deployment, keeping the newest {@code maxEvents}. */
    synchronized void recordEvent(ClusterEvent event, int maxEvents) {
        ArrayDeque<ClusterEvent> list = events.computeIfAbsent(event.target(), t -> new ArrayDeque<>());
        list.add(event);
        if (list.size() > maxEvents) {
            list.removeFirst();
        }
    }

    synchronized List<ClusterEvent> events(LockTarget target) {
        ArrayDeque<ClusterEvent> list = events.get(target);
        return list == null ? List.of() : List.copyOf(list);
    }

    /** Counts one SPI call, however many attempts it then takes. */
    void countRequest(RequestKind kind) {
        counter(kind).increment();
    }

    long requests(RequestKind kind) {
        return counter(Objects.requireNonNull(kind, "kind")).sum();
    }

    private LongAdder counter(RequestKind kind) {
        return Objects.requireNonNull(requests.get(kind), "every kind has a counter");
    }
}
