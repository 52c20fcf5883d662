package io.github.replicalock.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One conditional write of the queue of waiters, derived once for every backend from the queue as
 * read and the queue desired (see {@code docs/lock-protocol.md} section 10.4): the annotations it
 * tests, each with the exact text it must still have, and the annotations it writes. A backend
 * applies it atomically: every test holds, then every write, or nothing.
 *
 * <p>What is tested follows from what changes, so that writers of different entries never conflict:
 *
 * <ul>
 *   <li>a change of the order (an entry joins or leaves) tests and writes {@value
 *       LockQueue#ANNOTATION}'s text;
 *   <li>a renewal writes the waiter's own renewal annotation and tests only its previous text (or
 *       that it is absent, for a line never renewed);
 *   <li>an entry that leaves also has its renewal annotation removed, tested on the text read (or
 *       tested absent): a waiter judged dead that renewed after all makes the pruning write fail.
 * </ul>
 *
 * <pre>{@code
 * LockQueue read = backend.read(target).queue();
 * QueueChange renewal = QueueChange.between(read, read.renew("build-42", clock.wallTime()));
 * boolean renewed = backend.compareAndSetQueue(target, renewal);
 * }</pre>
 */
public final class QueueChange {
    private final Map<String, @Nullable String> tests;
    private final Map<String, @Nullable String> writes;
    private final LockQueue desired;

    private QueueChange(Map<String, @Nullable String> tests, Map<String, @Nullable String> writes, LockQueue desired) {
        this.tests = Collections.unmodifiableMap(tests);
        this.writes = Collections.unmodifiableMap(writes);
        this.desired = desired;
    }

    /**
     * The write that turns the queue {@code read} (as a backend returned it, with its stored texts)
     * into {@code desired}.
     */
    public static QueueChange between(LockQueue read, LockQueue desired) {
        Objects.requireNonNull(read, "read");
        Objects.requireNonNull(desired, "desired");
        Map<String, @Nullable String> tests = new LinkedHashMap<>();
        Map<String, @Nullable String> writes = new LinkedHashMap<>();
        String text = desired.text();
        if (!text.equals(read.storedText())) {
            tests.put(LockQueue.ANNOTATION, read.storedText());
            writes.put(LockQueue.ANNOTATION, text);
        }
        for (QueueEntry entry : desired.entries()) {
            // Only the entries that change: a write never rewrites another waiter's renewal.
            Optional<QueueEntry> before = read.entry(entry.waiter());
            if (before.isPresent() && before.get().equals(entry)) {
                continue;
            }
            String key = LockQueue.renewalAnnotation(entry.waiter());
            writes.put(key, entry.renewalText());
            if (before.isPresent()) {
                // Its renewal as read; null (absent) for a line never renewed, such as a hand-written one.
                tests.put(key, read.storedRenewal(entry.waiter()));
            } else {
                // A new entry: the order changes too, and is tested; an annotation left without a line
                // by a hand edit is overwritten.
                tests.putIfAbsent(LockQueue.ANNOTATION, read.storedText());
            }
        }
        for (QueueEntry entry : read.entries()) {
            if (!desired.contains(entry.waiter())) {
                // Tested even when absent: a waiter judged dead may renew, for the first time, after the read.
                String key = LockQueue.renewalAnnotation(entry.waiter());
                String stored = read.storedRenewal(entry.waiter());
                tests.put(key, stored);
                if (stored != null) {
                    writes.put(key, null);
                }
            }
        }
        return new QueueChange(tests, writes, desired);
    }

    /**
     * The annotations tested, in order, each with the exact text it must have; a null text means the
     * annotation must be absent ({@value LockQueue#ANNOTATION} before the first queue write, or the
     * renewal annotation of a line never renewed). JSON Patch cannot test an absence: the Kubernetes
     * backend tests the whole annotations object instead, which such rare writes can afford.
     */
    public Map<String, @Nullable String> tests() {
        return tests;
    }

    /** The annotations written, in order, each with its new text; a null text removes it. */
    public Map<String, @Nullable String> writes() {
        return writes;
    }

    /** The queue as it is once this change is applied. */
    public LockQueue desired() {
        return desired;
    }

    /** True when there is nothing to write: the queue read is the queue desired. */
    public boolean isEmpty() {
        return writes.isEmpty();
    }

    /** Whether every test holds on {@code annotations}: applying the change now would succeed. */
    public boolean testsHoldOn(Map<String, String> annotations) {
        return holdOn(tests, annotations);
    }

    /**
     * Whether {@code annotations} show every write applied: what a backend that retried a write of
     * unknown outcome checks before it answers that the write was its own.
     */
    public boolean isAppliedIn(Map<String, String> annotations) {
        return holdOn(writes, annotations);
    }

    private static boolean holdOn(Map<String, @Nullable String> expected, Map<String, String> annotations) {
        Objects.requireNonNull(annotations, "annotations");
        for (Map.Entry<String, @Nullable String> want : expected.entrySet()) {
            if (!Objects.equals(annotations.get(want.getKey()), want.getValue())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "QueueChange[tests " + tests + ", writes " + writes + "]";
    }
}
