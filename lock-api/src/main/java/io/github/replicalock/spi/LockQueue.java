package io.github.replicalock.spi;

import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * The queue of waiters on a lock, in arrival order, and its one text form (see {@code
 * docs/lock-protocol.md} section 10.2): the annotation {@value #ANNOTATION} holds the order, one line
 * per waiter, and each waiter's renewals go to an annotation of its own ({@link
 * #renewalAnnotation}), so that a renewal tests and writes nothing another waiter writes. Immutable:
 * every change returns a new queue, which the writer stores with the conditional write {@link
 * QueueChange#between} derives from the queue it read.
 *
 * <pre>{@code
 * LockQueue queue = LockQueue.parse(target, annotations);     // LockTargetInvalidException if malformed
 * if (!queue.contains(me) && !queue.isFull()) {
 *     LockQueue next = queue.enqueue(QueueEntry.joining(me, now, Duration.ofSeconds(2)));
 *     backend.compareAndSetQueue(target, QueueChange.between(queue, next));
 * }
 * }</pre>
 *
 * <p><b>Text.</b> The queue annotation holds one line per waiter, head first, separated by {@code
 * \n}, no trailing newline; a line is {@code <enqueued> <waiter>}, the instant in RFC 3339 ({@link
 * Instant#toString()}), a single space, and the waiter's identity as the rest of the line, so that it
 * may contain spaces. An empty queue is the empty
 * string. A waiter's renewal annotation holds {@code <renewed> <lease-seconds> <waiter>}, the lease
 * it promised at that renewal in whole seconds; an entry without one is judged as renewed when it
 * joined, on {@link #UNRENEWED_LEASE}.
 *
 * <p><b>Reading.</b> Absent, empty and blank texts are the empty queue; blank lines are skipped and
 * a {@code \r} before a line break is dropped (a hand edit). Anything else that does not parse, the
 * same waiter twice and a renewal annotation naming another waiter included, is a {@link
 * LockTargetInvalidException} naming the annotation, its value, the offending line and what was
 * expected. Renewal annotations of waiters not in the queue (left behind by a hand edit) are ignored.
 * A queue longer than {@link #MAX_WAITERS} is read as it is (a later version may allow more); only
 * {@link #enqueue} refuses to grow it past the cap.
 *
 * <p>A queue that was read remembers the texts it was read from ({@link #storedText()}, {@link
 * #storedRenewal}), which the write derived from it tests; equality compares the entries only.
 */
public final class LockQueue {
    /** The annotation holding the queue's order. */
    public static final String ANNOTATION = "replicalock.io/queue";

    /** The prefix of every waiter's renewal annotation, followed by 16 hexadecimal digits. */
    public static final String RENEWAL_ANNOTATION_PREFIX = "replicalock.io/waiter-";

    /**
     * The most waiters {@link #enqueue} admits: annotations are limited to 256 KiB in total, and
     * every renewal is a write to the Deployment (docs/lock-protocol.md section 10.6).
     */
    public static final int MAX_WAITERS = 32;

    /**
     * The lease an entry without a renewal annotation is judged on (a hand-written line; every waiter
     * writes its renewal annotation with its line): the shortest a waiter promises.
     */
    public static final Duration UNRENEWED_LEASE = Duration.ofSeconds(2);

    private static final String EXPECTED =
            "one waiter per line as '<enqueued> <waiter>', such as '2026-01-31T12:00:00Z build-42'";
    private static final String RENEWAL_EXPECTED = "'<renewed> <lease-seconds> <waiter>' with the waiter of its"
            + " queue entry, such as '2026-01-31T12:03:10.500Z 2 build-42'";
    private static final LockQueue EMPTY = new LockQueue(List.of(), null, Map.of());
    private static final int MAX_CACHED_KEYS = 1024;
    private static final ConcurrentMap<String, String> RENEWAL_KEYS = new ConcurrentHashMap<>();

    private final List<QueueEntry> entries;
    private final @Nullable String storedText;
    private final Map<String, String> storedRenewals;

    private LockQueue(List<QueueEntry> entries, @Nullable String storedText, Map<String, String> storedRenewals) {
        this.entries = entries;
        this.storedText = storedText;
        this.storedRenewals = storedRenewals;
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
        return copy.isEmpty() ? EMPTY : new LockQueue(copy, null, Map.of());
    }

    /**
     * The annotation that holds {@code waiter}'s renewals: {@value #RENEWAL_ANNOTATION_PREFIX}
     * followed by the first 16 hexadecimal digits of the SHA-256 of the identity's UTF-8 bytes (an
     * identity may hold characters an annotation key may not).
     */
    public static String renewalAnnotation(String waiter) {
        Objects.requireNonNull(waiter, "waiter");
        String cached = RENEWAL_KEYS.get(waiter);
        if (cached != null) {
            return cached;
        }
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(waiter.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        String key = RENEWAL_ANNOTATION_PREFIX + HexFormat.of().formatHex(digest, 0, 8);
        if (RENEWAL_KEYS.size() >= MAX_CACHED_KEYS) {
            RENEWAL_KEYS.clear();
        }
        RENEWAL_KEYS.put(waiter, key);
        return key;
    }

    /**
     * The queue stored in a Deployment's {@code annotations}: the order in {@value #ANNOTATION} and
     * each entry's latest renewal in its {@linkplain #renewalAnnotation renewal annotation}.
     *
     * @throws LockTargetInvalidException naming the annotation, its value, the offending line and
     *     what was expected, if a text does not parse
     */
    public static LockQueue parse(LockTarget target, Map<String, String> annotations) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(annotations, "annotations");
        String text = annotations.get(ANNOTATION);
        List<QueueEntry> lines = lines(target, text);
        if (lines.isEmpty()) {
            return text == null ? EMPTY : new LockQueue(List.of(), text, Map.of());
        }
        List<QueueEntry> entries = new ArrayList<>(lines.size());
        Map<String, String> renewals = new HashMap<>();
        for (QueueEntry line : lines) {
            String key = renewalAnnotation(line.waiter());
            String renewal = annotations.get(key);
            if (renewal == null) {
                entries.add(line);
                continue;
            }
            entries.add(renewed(target, key, renewal, line));
            renewals.put(line.waiter(), renewal);
        }
        return new LockQueue(List.copyOf(entries), text, Map.copyOf(renewals));
    }

    /**
     * The queue stored as {@code text}, the value of the annotation {@value #ANNOTATION}, without
     * renewal annotations: every entry's {@code renewed} is its {@code enqueued}. For the codec's
     * tests only: a write derived from it would not know the renewals stored.
     *
     * @param text the annotation's value; null when the annotation is absent
     * @throws LockTargetInvalidException naming the annotation, its value, the offending line and
     *     what was expected, if the text does not parse
     */
    static LockQueue parse(LockTarget target, @Nullable String text) {
        Objects.requireNonNull(target, "target");
        List<QueueEntry> lines = lines(target, text);
        if (lines.isEmpty() && text == null) {
            return EMPTY;
        }
        return new LockQueue(lines, text, Map.of());
    }

    /** The entries of the queue annotation's text, renewed when they joined. */
    private static List<QueueEntry> lines(LockTarget target, @Nullable String text) {
        if (text == null || text.isBlank()) {
            return List.of();
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
        return List.copyOf(entries);
    }

    /** {@code line}'s entry as its renewal annotation's value tells, which must name its waiter. */
    private static QueueEntry renewed(LockTarget target, String key, String value, QueueEntry line) {
        int first = value.indexOf(' ');
        int second = first < 0 ? -1 : value.indexOf(' ', first + 1);
        Instant renewed = second < 0 ? null : LockAnnotations.instantOrNull(value.substring(0, first));
        Long lease = renewed == null ? null : LockAnnotations.digits(value.substring(first + 1, second));
        if (renewed == null
                || lease == null
                || lease == 0
                || !value.substring(second + 1).equals(line.waiter())) {
            throw LockAnnotations.invalid(target, key, value, RENEWAL_EXPECTED + " ('" + line.waiter() + "')");
        }
        return new QueueEntry(line.waiter(), line.enqueued(), renewed, Duration.ofSeconds(lease));
    }

    /**
     * The text of {@value #ANNOTATION} this queue was read from, exactly as stored; null when the
     * key was absent, or for a queue that was built rather than read.
     */
    public @Nullable String storedText() {
        return storedText;
    }

    /**
     * The text of {@code waiter}'s renewal annotation this queue was read from, exactly as stored;
     * null when there was none, or for a queue that was built rather than read.
     */
    public @Nullable String storedRenewal(String waiter) {
        return storedRenewals.get(waiter);
    }

    /** Whether {@code other} was read from the same texts as this queue: a copy no newer than it. */
    public boolean sameStoredTextsAs(LockQueue other) {
        return Objects.equals(storedText, other.storedText) && storedRenewals.equals(other.storedRenewals);
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
        return new LockQueue(List.copyOf(next), null, Map.of());
    }

    /**
     * This queue with {@code waiter}'s entry renewed at {@code now}, in the same place.
     *
     * @throws IllegalArgumentException if {@code waiter} is not queued (its entry was removed: it
     *     must enqueue again, at the tail)
     */
    public LockQueue renew(String waiter, Instant now) {
        return renew(waiter, now, entries.get(indexOf(waiter)).lease());
    }

    /**
     * This queue with {@code waiter}'s entry renewed at {@code now} with the promise of {@code
     * lease}, in the same place.
     *
     * @throws IllegalArgumentException if {@code waiter} is not queued
     */
    public LockQueue renew(String waiter, Instant now, Duration lease) {
        Objects.requireNonNull(now, "now");
        int at = indexOf(waiter);
        List<QueueEntry> next = new ArrayList<>(entries);
        next.set(at, entries.get(at).renewedAt(now, lease));
        return new LockQueue(List.copyOf(next), null, Map.of());
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
        return next.isEmpty() ? EMPTY : new LockQueue(List.copyOf(next), null, Map.of());
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof LockQueue other && entries.equals(other.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    /** The entries, head first, each with its last renewal, for logs. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("LockQueue[");
        for (QueueEntry entry : entries) {
            if (out.length() > "LockQueue[".length()) {
                out.append(" | ");
            }
            out.append(entry.line()).append(" renewed ").append(LockAnnotations.instantText(entry.renewed()));
        }
        return out.append(']').toString();
    }

    private int indexOf(String waiter) {
        Objects.requireNonNull(waiter, "waiter");
        int at = positionOf(waiter);
        if (at < 0) {
            throw new IllegalArgumentException("waiter '" + waiter + "' is not queued");
        }
        return at;
    }

    /** The entry of a non-blank line, judged on {@link #UNRENEWED_LEASE} until its first renewal. */
    private static QueueEntry entryOf(String line) throws MalformedLine {
        int first = line.indexOf(' ');
        if (first < 0) {
            throw new MalformedLine("expected 2 fields separated by a single space");
        }
        Instant enqueued = instant("enqueued", line.substring(0, first));
        String waiter = line.substring(first + 1);
        if (!LockAnnotations.isIdentity(waiter)) {
            throw new MalformedLine("waiter '" + waiter + "' is not 1 to " + LockAnnotations.MAX_IDENTITY_LENGTH
                    + " characters, not blank, without control characters");
        }
        return QueueEntry.joining(waiter, enqueued, UNRENEWED_LEASE);
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
