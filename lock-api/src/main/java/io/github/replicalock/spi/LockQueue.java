package io.github.replicalock.spi;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The queue of waiters on a lock, in arrival order, and its one text form, the annotation {@value
 * #ANNOTATION} (see {@code docs/lock-protocol.md} section 10). Immutable: every change returns a new
 * queue, which the writer stores with a write conditional on the text it read.
 *
 * <pre>{@code
 * String stored = annotations.get(LockQueue.ANNOTATION);
 * LockQueue queue = LockQueue.parse(target, stored);          // LockTargetInvalidException if malformed
 * if (!queue.contains(me) && !queue.isFull()) {
 *     LockQueue next = queue.enqueue(QueueEntry.joining(me, now, Duration.ofSeconds(2)));
 *     // write next.text(), conditional on the annotation's text still being `stored`
 * }
 * }</pre>
 *
 * <p><b>Text.</b> One line per waiter, head first, separated by {@code \n}, no trailing newline; a
 * line is {@code <enqueued> <renewed> <lease-seconds> <waiter>} with single spaces, the instants in
 * RFC 3339 ({@link Instant#toString()}), the lease in whole seconds, and the waiter's identity as the
 * rest of the line, so that it may contain spaces. An empty queue is the empty string.
 *
 * <p><b>Reading.</b> Absent, empty and blank texts are the empty queue; blank lines are skipped and
 * a {@code \r} before a line break is dropped (a hand edit). Anything else that does not parse, the
 * same waiter twice included, is a {@link LockTargetInvalidException} naming the annotation, its
 * value, the offending line and what was expected. A queue longer than {@link #MAX_WAITERS} is read
 * as it is (a later version may allow more); only {@link #enqueue} refuses to grow it past the cap.
 */
public final class LockQueue {
    /** The annotation holding the queue. */
    public static final String ANNOTATION = "replicalock.io/queue";

    /**
     * The most waiters {@link #enqueue} admits: annotations are limited to 256 KiB in total, and each
     * waiter renews its entry 1.5 times a second at the default waiter lease.
     */
    public static final int MAX_WAITERS = 32;

    private static final String EXPECTED = "one waiter per line as '<enqueued> <renewed> <lease-seconds> <waiter>',"
            + " such as '2026-01-31T12:00:00Z 2026-01-31T12:03:10.500Z 2 build-42'";
    private static final LockQueue EMPTY = new LockQueue(List.of());

    private final List<QueueEntry> entries;

    private LockQueue(List<QueueEntry> entries) {
        this.entries = entries;
    }

    /** The queue with nobody in it. */
    public static LockQueue empty() {
        return EMPTY;
    }

    /**
     * The queue of {@code entries}, head first.
     *
     * @throws IllegalArgumentException if a waiter appears twice
     */
    public static LockQueue of(List<QueueEntry> entries) {
        List<QueueEntry> copy = List.copyOf(entries);
        Set<String> seen = new HashSet<>();
        for (QueueEntry entry : copy) {
            if (!seen.add(entry.waiter())) {
                throw new IllegalArgumentException("waiter '" + entry.waiter() + "' is queued twice");
            }
        }
        return copy.isEmpty() ? EMPTY : new LockQueue(copy);
    }

    /**
     * The queue stored as {@code text}, the value of the annotation {@value #ANNOTATION}.
     *
     * @param text the annotation's value; null when the annotation is absent
     * @throws LockTargetInvalidException naming the annotation, its value, the offending line and
     *     what was expected, if the text does not parse
     */
    public static LockQueue parse(LockTarget target, @Nullable String text) {
        Objects.requireNonNull(target, "target");
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        List<QueueEntry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) {
                continue;
            }
            String problem;
            try {
                QueueEntry entry = entryOf(line);
                if (seen.add(entry.waiter())) {
                    entries.add(entry);
                    continue;
                }
                problem = "waiter '" + entry.waiter() + "' is queued twice";
            } catch (MalformedLine e) {
                problem = e.getMessage();
            }
            throw LockAnnotations.invalid(
                    target, ANNOTATION, text, EXPECTED + " (line " + (i + 1) + " '" + line + "': " + problem + ")");
        }
        return entries.isEmpty() ? EMPTY : new LockQueue(List.copyOf(entries));
    }

    /** The annotation's text for this queue; the empty string for an empty queue. */
    public String text() {
        StringBuilder out = new StringBuilder(entries.size() * 96);
        for (QueueEntry entry : entries) {
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append(entry.line());
        }
        return out.toString();
    }

    /** The entries, head first. */
    public List<QueueEntry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** True when {@link #enqueue} would refuse another waiter. */
    public boolean isFull() {
        return entries.size() >= MAX_WAITERS;
    }

    /** The first entry, the one that acquires next when every entry is alive. */
    public Optional<QueueEntry> head() {
        return entries.isEmpty() ? Optional.empty() : Optional.of(entries.get(0));
    }

    /** The position of {@code waiter}'s entry, 0 for the head; -1 if it is not queued. */
    public int positionOf(String waiter) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).waiter().equals(waiter)) {
                return i;
            }
        }
        return -1;
    }

    public boolean contains(String waiter) {
        return positionOf(waiter) >= 0;
    }

    public Optional<QueueEntry> entry(String waiter) {
        int at = positionOf(waiter);
        return at < 0 ? Optional.empty() : Optional.of(entries.get(at));
    }

    /**
     * The entries ahead of {@code waiter}'s, head first: the ones it must see dead or gone before it
     * may acquire.
     *
     * @throws IllegalArgumentException if {@code waiter} is not queued
     */
    public List<QueueEntry> ahead(String waiter) {
        return entries.subList(0, indexOf(waiter));
    }

    /**
     * This queue with {@code entry} at the tail.
     *
     * @throws IllegalStateException if the queue {@linkplain #isFull() is full}
     * @throws IllegalArgumentException if the waiter is queued already
     */
    public LockQueue enqueue(QueueEntry entry) {
        Objects.requireNonNull(entry, "entry");
        if (isFull()) {
            throw new IllegalStateException("the queue holds " + entries.size() + " waiters, at most " + MAX_WAITERS
                    + " are admitted; '" + entry.waiter() + "' must wait outside it");
        }
        if (contains(entry.waiter())) {
            throw new IllegalArgumentException("waiter '" + entry.waiter() + "' is queued already");
        }
        List<QueueEntry> next = new ArrayList<>(entries.size() + 1);
        next.addAll(entries);
        next.add(entry);
        return new LockQueue(List.copyOf(next));
    }

    /**
     * This queue with {@code waiter}'s entry renewed at {@code now}, in the same place.
     *
     * @throws IllegalArgumentException if {@code waiter} is not queued (its entry was removed: it
     *     must enqueue again, at the tail)
     */
    public LockQueue renew(String waiter, Instant now) {
        Objects.requireNonNull(now, "now");
        int at = indexOf(waiter);
        List<QueueEntry> next = new ArrayList<>(entries);
        next.set(at, entries.get(at).renewedAt(now));
        return new LockQueue(List.copyOf(next));
    }

    /** This queue without {@code waiter}'s entry; the same queue if it is not queued. */
    public LockQueue without(String waiter) {
        return withoutAll(List.of(waiter));
    }

    /** This queue without the entries of {@code waiters}, the others in the same order. */
    public LockQueue withoutAll(Collection<String> waiters) {
        Objects.requireNonNull(waiters, "waiters");
        List<QueueEntry> next = new ArrayList<>(entries.size());
        for (QueueEntry entry : entries) {
            if (!waiters.contains(entry.waiter())) {
                next.add(entry);
            }
        }
        if (next.size() == entries.size()) {
            return this;
        }
        return next.isEmpty() ? EMPTY : new LockQueue(List.copyOf(next));
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof LockQueue other && entries.equals(other.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    /** The annotation's text, lines separated by {@code " | "}, for logs. */
    @Override
    public String toString() {
        return "LockQueue[" + text().replace("\n", " | ") + "]";
    }

    private int indexOf(String waiter) {
        Objects.requireNonNull(waiter, "waiter");
        int at = positionOf(waiter);
        if (at < 0) {
            throw new IllegalArgumentException("waiter '" + waiter + "' is not queued");
        }
        return at;
    }

    /** The entry of a non-blank line. */
    private static QueueEntry entryOf(String line) throws MalformedLine {
        int first = line.indexOf(' ');
        int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        int third = second < 0 ? -1 : line.indexOf(' ', second + 1);
        if (third < 0) {
            throw new MalformedLine("expected 4 fields separated by single spaces");
        }
        Instant enqueued = instant("enqueued", line.substring(0, first));
        Instant renewed = instant("renewed", line.substring(first + 1, second));
        String lease = line.substring(second + 1, third);
        Long seconds = LockAnnotations.digits(lease);
        if (seconds == null || seconds == 0) {
            throw new MalformedLine("lease-seconds '" + lease + "' is not a positive whole number of seconds");
        }
        String waiter = line.substring(third + 1);
        if (!LockAnnotations.isIdentity(waiter)) {
            throw new MalformedLine("waiter '" + waiter + "' is not 1 to " + LockAnnotations.MAX_IDENTITY_LENGTH
                    + " characters, not blank, without control characters");
        }
        return new QueueEntry(waiter, enqueued, renewed, Duration.ofSeconds(seconds));
    }

    private static Instant instant(String field, String text) throws MalformedLine {
        Instant parsed = LockAnnotations.instantOrNull(text);
        if (parsed == null) {
            throw new MalformedLine(field + " '" + text + "' is not an RFC 3339 instant");
        }
        return parsed;
    }

    /** What is wrong with one line; becomes part of the {@link LockTargetInvalidException}'s message. */
    private static final class MalformedLine extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedLine(String problem) {
            super(problem, null, false, false);
        }
    }
}
