package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The threads of one {@code ReplicaLocks} waiting for one target under {@code Fairness.FIFO}, in
 * arrival order. The queue on the Deployment holds one entry per holder identity (section 10.2),
 * so only the first thread of the line waits in it; the others wait behind it here, and the next
 * one joins the cluster's queue when the first has acquired or left.
 */
final class LocalLine {
    /** One thread's place in a line. */
    static final class Ticket {
        private final LockTarget target;

        private Ticket(LockTarget target) {
            this.target = target;
        }
    }

    // Guarded by this.
    private final Map<LockTarget, ArrayDeque<Ticket>> lines = new HashMap<>();
    /** Targets where a wait of this instance left its entry behind (its removal failed). Guarded by this. */
    private final Set<LockTarget> leftBehind = new HashSet<>();

    synchronized Ticket join(LockTarget target) {
        Ticket ticket = new Ticket(target);
        lines.computeIfAbsent(target, t -> new ArrayDeque<>()).addLast(ticket);
        return ticket;
    }

    synchronized boolean isFirst(Ticket ticket) {
        ArrayDeque<Ticket> line = lines.get(ticket.target);
        return line != null && line.peekFirst() == ticket;
    }

    /**
     * Records whether this instance's entry may still be queued on {@code target} after a wait
     * ended: true when its removal failed (cut off, the store unreachable), false once it is known
     * gone. The next wait there removes it on leaving even if it never reads the queue itself (an
     * acquire interrupted at once), rather than leave it to expire.
     */
    synchronized void entryLeftBehind(LockTarget target, boolean mayBeThere) {
        if (mayBeThere) {
            leftBehind.add(target);
        } else {
            leftBehind.remove(target);
        }
    }

    synchronized boolean mayHaveLeftAnEntry(LockTarget target) {
        return leftBehind.contains(target);
    }

    /** Leaves the line; the caller wakes the target's waiters so that the next one moves up. */
    synchronized void leave(Ticket ticket) {
        ArrayDeque<Ticket> line = lines.get(ticket.target);
        if (line != null && line.remove(ticket) && line.isEmpty()) {
            lines.remove(ticket.target);
        }
    }
}
