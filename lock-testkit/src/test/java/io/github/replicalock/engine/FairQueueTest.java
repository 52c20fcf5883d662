package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.Fairness;
import io.github.replicalock.LockBackendUnavailableException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockQueue;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.QueueEntry;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.LockWrite;
import io.github.replicalock.testkit.QueueWrite;
import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The fair queue of waiters (docs/lock-protocol.md section 10) on the fake cluster in virtual time:
 * arrival order, dead and leaving waiters, tryAcquire's refusal, shell steps, and BARGING as before.
 * Replay one seed of the order test with {@code -Dreplicalock.seed=<seed>}.
 */
class FairQueueTest {
    private static final int SEEDS = 12;
    private static final Duration LONG = Duration.ofHours(1);

    private VirtualClusterFixture fixture = new VirtualClusterFixture();

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    private LockQueue queue() {
        return LockQueue.parse(
                fixture.target, fixture.cluster.deployment(fixture.target).annotations());
    }

    private String queueText() {
        return fixture.cluster.deployment(fixture.target).annotations().get(LockQueue.ANNOTATION);
    }

    /** Acquires on a thread of its own; the outcome is the lock, or what was thrown. */
    private Thread startAcquire(ReplicaLocks locks, AtomicReference<Object> outcome, Duration holdFor) {
        Thread thread = new Thread(() -> {
            try {
                ReplicaLock lock = locks.acquire(fixture.target, LONG);
                outcome.set(lock);
                if (!holdFor.isZero()) {
                    fixture.cluster
                            .clock()
                            .newWakeup()
                            .awaitUntil(fixture.cluster.clock().nanoTime() + holdFor.toNanos());
                    lock.close();
                }
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        thread.start();
        return thread;
    }

    private void awaitQueued(String... waiters) {
        await().atMost(20, TimeUnit.SECONDS)
                .until(() -> queue().entries().stream()
                        .map(QueueEntry::waiter)
                        .toList()
                        .equals(List.of(waiters)));
    }

    /** Waits for the waiters' threads; each got the lock, in the order of {@code names}, after "first". */
    private void assertEveryWaiterAcquiredAfterFirstInOrder(
            List<Thread> threads, List<AtomicReference<Object>> outcomes, List<String> names)
            throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        }
        for (AtomicReference<Object> outcome : outcomes) {
            assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        }
        List<String> expected = new ArrayList<>(List.of("first"));
        expected.addAll(names);
        assertThat(acquisitionOrder()).isEqualTo(expected);
    }

    /** The holders of the acquisitions, in the order the cluster applied them. */
    private List<String> acquisitionOrder() {
        List<String> order = new ArrayList<>();
        for (LockWrite write : fixture.cluster.lockWrites()) {
            if (write.after().token() > write.before().token()) {
                order.add(write.after().holder());
            }
        }
        return order;
    }

    @TestFactory
    Stream<DynamicTest> waitersAcquireInArrivalOrder() {
        String replay = System.getProperty("replicalock.seed");
        LongStream seeds =
                replay != null ? LongStream.of(Long.parseLong(replay)) : new SplittableRandom(20261203L).longs(SEEDS);
        return seeds.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            try {
                arrivalOrder(seed);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(
                        "arrival order failed for seed " + seed + "; replay with ./mvnw -pl lock-testkit -am verify"
                                + " -Dtest=FairQueueTest -Dsurefire.failIfNoSpecifiedTests=false -Dreplicalock.seed="
                                + seed,
                        e);
            }
        }));
    }

    private void arrivalOrder(long seed) throws Exception {
        fixture.close();
        fixture = new VirtualClusterFixture(Duration.ofMillis(200), Duration.ofMillis(100));
        SplittableRandom random = new SplittableRandom(seed);
        int waiters = 8 + random.nextInt(9);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            names.add("build-" + i);
        }
        Collections.shuffle(names, new java.util.Random(seed));
        ReplicaLock first = fixture.locks("first").acquire(fixture.target, LONG);
        List<Thread> threads = new ArrayList<>();
        List<AtomicReference<Object>> outcomes = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            AtomicReference<Object> outcome = new AtomicReference<>();
            outcomes.add(outcome);
            threads.add(
                    startAcquire(fixture.locks(names.get(i)), outcome, Duration.ofMillis(1 + random.nextInt(3000))));
            awaitQueued(names.subList(0, i + 1).toArray(String[]::new));
        }
        first.close();
        assertEveryWaiterAcquiredAfterFirstInOrder(threads, outcomes, names);
        assertThat(queue().isEmpty()).isTrue();
        assertThat(queueText()).as("the key is kept, empty").isEmpty();
    }

    /**
     * Each waiter renews in its own annotation (section 10.4): eight waiters renewing behind a holder
     * for 20 s of virtual time write only their renewals, and not one of those writes loses; the
     * five behind the first three renew ten times more rarely (section 10.3). With the whole queue in
     * one text, every renewal tested that text and most of them lost.
     */
    @Test
    void waitersRenewingBehindAHolderNeverMakeEachOthersWritesLose() throws Exception {
        ReplicaLock first = fixture.locks("first").acquire(fixture.target, LONG);
        List<String> names = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<AtomicReference<Object>> outcomes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            names.add("build-" + i);
            AtomicReference<Object> outcome = new AtomicReference<>();
            outcomes.add(outcome);
            threads.add(startAcquire(fixture.locks(names.get(i)), outcome, Duration.ofMillis(100)));
            awaitQueued(names.toArray(String[]::new));
        }
        long requestsBefore = fixture.cluster.requests(RequestKind.QUEUE_WRITE);
        int writesBefore = fixture.cluster.queueWrites(fixture.target).size();

        fixture.cluster
                .clock()
                .newWakeup()
                .awaitUntil(fixture.cluster.clock().nanoTime()
                        + Duration.ofSeconds(20).toNanos());

        List<QueueWrite> writes = new ArrayList<>(fixture.cluster.queueWrites(fixture.target));
        writes = writes.subList(writesBefore, writes.size());
        long requests = fixture.cluster.requests(RequestKind.QUEUE_WRITE) - requestsBefore;
        assertThat(writes).as("accepted queue writes").hasSize((int) requests);
        for (QueueWrite write : writes) {
            assertThat(write.after().text())
                    .as("the order, after %s's write", write.client())
                    .isEqualTo(write.before().text());
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long renewals = writes.stream().filter(w -> w.client().equals(name)).count();
            // Section 10.3: the first three promise a 2 s lease, those further back 20 s.
            if (i < 3) {
                assertThat(renewals)
                        .as("renewals of %s in 20 s, every 2/3 s", name)
                        .isBetween(25L, 35L);
            } else {
                assertThat(renewals)
                        .as("renewals of %s in 20 s, every 20/3 s", name)
                        .isBetween(2L, 4L);
            }
            assertThat(queue().entry(name).orElseThrow().lease())
                    .as("%s's promise at position %d", name, i)
                    .isEqualTo(Duration.ofSeconds(i < 3 ? 2 : 20));
        }
        first.close();
        assertEveryWaiterAcquiredAfterFirstInOrder(threads, outcomes, names);
        assertThat(fixture.cluster.deployment(fixture.target).annotations().keySet())
                .as("no renewal annotation outlives its entry")
                .noneMatch(key -> key.startsWith(LockQueue.RENEWAL_ANNOTATION_PREFIX));
    }

    @Test
    void aDeadWaiterAheadIsPrunedWithinLeasePlusGraceAndTheNextAcquires() throws Exception {
        fixture.close();
        fixture = new VirtualClusterFixture(Duration.ofMillis(200), Duration.ofMillis(100));
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        AtomicReference<Object> a = new AtomicReference<>();
        AtomicReference<Object> b = new AtomicReference<>();
        AtomicReference<Object> c = new AtomicReference<>();
        Thread first = startAcquire(fixture.locks("a"), a, Duration.ofSeconds(1));
        awaitQueued("a");
        FakeBackend crashing = fixture.cluster.backend("b");
        Thread dying = startAcquire(fixture.locks(crashing, "b", LockOptions.defaults()), b, Duration.ZERO);
        awaitQueued("a", "b");
        Thread last = startAcquire(fixture.locks("c"), c, Duration.ZERO);
        awaitQueued("a", "b", "c");

        // b, in the middle, can neither renew nor leave from now on; a acquires at once and holds 1 s,
        // less than b's lease and grace: c must wait for b's entry to be judged dead.
        crashing.disconnect();
        held.close();
        dying.join(TimeUnit.SECONDS.toMillis(30));
        first.join(TimeUnit.SECONDS.toMillis(30));
        last.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(a.get()).isInstanceOf(ReplicaLock.class);
        assertThat(c.get()).isInstanceOf(ReplicaLock.class);
        assertThat(acquisitionOrder()).containsExactly("holder", "a", "c");
        Instant bLastWritten = lastQueueChangeOf("b");
        Instant cAcquired = acquisitionTime("c");
        Instant aReleased = releaseTime("a");
        // c waits for whichever comes last: a's release, or b's entry dead (lease 2 s + grace 1 s
        // after its last renewal); never less than b's lease.
        Instant allowed = later(aReleased, bLastWritten.plus(Duration.ofSeconds(3)));
        assertThat(Duration.between(allowed, cAcquired)).isLessThan(Duration.ofMillis(500));
        assertThat(cAcquired).isAfterOrEqualTo(bLastWritten.plus(Duration.ofSeconds(2)));
        assertThat(queue().contains("b")).as("b's entry is gone").isFalse();
        ((ReplicaLock) c.get()).close();
    }

    private static Instant later(Instant x, Instant y) {
        return x.isAfter(y) ? x : y;
    }

    private Instant lastQueueChangeOf(String waiter) {
        Instant last = null;
        for (QueueWrite write : fixture.cluster.queueWrites(fixture.target)) {
            if (!write.before().entry(waiter).equals(write.after().entry(waiter))
                    && write.after().contains(waiter)) {
                last = write.time();
            }
        }
        assertThat(last).as(waiter + " was queued").isNotNull();
        return last;
    }

    private Instant acquisitionTime(String holder) {
        return fixture.cluster.lockWrites().stream()
                .filter(w -> holder.equals(w.after().holder())
                        && w.after().token() > w.before().token())
                .findFirst()
                .orElseThrow()
                .time();
    }

    private Instant releaseTime(String holder) {
        return fixture.cluster.lockWrites().stream()
                .filter(w -> holder.equals(w.before().holder()) && w.after().replicas() == 0)
                .findFirst()
                .orElseThrow()
                .time();
    }

    /**
     * A waiter that joins behind three entries promises the long lease (section 10.3), but still
     * looks again when the entries ahead would be dead: three waiters that died just before, whose
     * entries nobody changes any more, hold it up for their 2 s lease and 1 s grace, not for its
     * own renewal 6.7 s away.
     */
    @Test
    void aWaiterBehindThreeDeadEntriesAcquiresOnceTheyAreDeadNotAtItsNextRenewal() throws Exception {
        Instant now = fixture.cluster.clock().now();
        LockQueue dead = LockQueue.empty();
        for (String gone : List.of("gone-1", "gone-2", "gone-3")) {
            dead = dead.enqueue(QueueEntry.joining(gone, now, Duration.ofSeconds(2)));
        }
        QueueChange.between(LockQueue.empty(), dead)
                .writes()
                .forEach((key, value) -> fixture.cluster.annotate(fixture.target, key, value));
        Instant start = fixture.cluster.clock().now();

        ReplicaLock lock = fixture.locks("late").acquire(fixture.target, LONG);

        // Until the acquiring write; the builder pod's start (3 s here) comes after it.
        Duration waited = Duration.between(start, acquisitionTime("late"));
        assertThat(waited).isBetween(Duration.ofSeconds(3), Duration.ofMillis(3500));
        assertThat(queue().isEmpty())
                .as("the dead entries went with the acquiring write")
                .isTrue();
        lock.close();
    }

    @Test
    void aWaiterInterruptedWhileQueuedLeavesNoEntryBeforeTheInterruptedExceptionReachesIt() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread waiter = startAcquire(fixture.locks("w"), outcome, Duration.ZERO);
        awaitQueued("w");

        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(queue().isEmpty()).isTrue();
        held.close();
    }

    @Test
    void aWaiterThatTimesOutLeavesNoEntry() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        ReplicaLocks waiting = fixture.locks("w");

        assertThat(catchTimeout(waiting)).isInstanceOf(io.github.replicalock.LockTimeoutException.class);

        assertThat(queueText()).isEmpty();
        held.close();
    }

    /**
     * Leaving prunes what the leaver judged dead, as acquiring does: the entry ahead died (3 s: its
     * 2 s lease and 1 s grace) after the leaver's last renewal (every 2/3 s: 2.67 s, the next at
     * 3.33 s) and before its timeout (3.2 s), so only the removing write can drop it.
     */
    @Test
    void aWaiterThatLeavesAlsoRemovesTheEntriesItJudgedDead() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        String dead = LockQueue.empty()
                .enqueue(QueueEntry.joining("gone", fixture.cluster.clock().now(), Duration.ofSeconds(2)))
                .text();
        fixture.cluster.annotate(fixture.target.namespace(), fixture.target.name(), LockQueue.ANNOTATION, dead);

        assertThatThrownBy(() -> fixture.locks("w").acquire(fixture.target, Duration.ofMillis(3200)))
                .isInstanceOf(LockTimeoutException.class);

        List<QueueWrite> writes = fixture.cluster.queueWrites(fixture.target);
        QueueWrite removal = writes.get(writes.size() - 1);
        assertThat(removal.client()).isEqualTo("w");
        assertThat(removal.before().entries()).extracting(QueueEntry::waiter).containsExactly("gone", "w");
        assertThat(removal.after().isEmpty())
                .as("w and the dead entry, in one write")
                .isTrue();
        assertThat(queueText()).isEmpty();
        held.close();
    }

    private Throwable catchTimeout(ReplicaLocks waiting) {
        try {
            waiting.acquire(fixture.target, Duration.ofSeconds(20)).close();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * Simulation seed 11550: an acquire cut off from the API server ends without removing its entry;
     * the same instance's next acquire finds that entry, and must renew it and remove it on leaving.
     * It did neither when its clock's origin was far below zero: the renewal was due at "the last
     * write plus a third of the lease", the last write being the instant 0 of a wait that had not
     * written, so the entry stood unrenewed, and leaving skipped it as one this wait never wrote.
     */
    @Test
    void anEntryLeftByAnEarlierAcquireIsRenewedAndRemovedByTheNextOneWhateverTheClocksOrigin() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        FakeBackend cutOff = fixture.cluster.backend("w");
        ReplicaLocks waiting = fixture.locksWithOrigin(cutOff, "w", -(1L << 62));
        AtomicReference<Object> first = new AtomicReference<>();
        Thread firstWait = startAcquire(waiting, first, Duration.ZERO);
        awaitQueued("w");

        cutOff.disconnect();
        firstWait.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(first.get()).isInstanceOf(LockBackendUnavailableException.class);
        assertThat(queue().contains("w")).as("left behind: unreachable").isTrue();
        cutOff.reconnect();
        int writesBefore = fixture.cluster.queueWrites(fixture.target).size();

        assertThatThrownBy(() -> waiting.acquire(fixture.target, Duration.ofMillis(300)))
                .isInstanceOf(LockTimeoutException.class);

        List<QueueWrite> writes = fixture.cluster.queueWrites(fixture.target);
        assertThat(writes.subList(writesBefore, writes.size()))
                .as("renewed at once, then removed")
                .extracting(w -> w.after().contains("w"))
                .containsExactly(true, false);
        assertThat(queue().contains("w")).isFalse();
        held.close();
    }

    /**
     * Simulation seed 1000320: as above, but the next acquire is interrupted before it reads the
     * queue at all; its leaving must still remove the entry the earlier one left, which this
     * instance remembers, instead of leaving it to expire.
     */
    @Test
    void anAcquireInterruptedAtOnceStillRemovesTheEntryAnEarlierOneLeftBehind() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        FakeBackend cutOff = fixture.cluster.backend("w");
        ReplicaLocks waiting = fixture.locks(cutOff, "w", LockOptions.defaults());
        AtomicReference<Object> first = new AtomicReference<>();
        Thread firstWait = startAcquire(waiting, first, Duration.ZERO);
        awaitQueued("w");
        cutOff.disconnect();
        firstWait.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(first.get()).isInstanceOf(LockBackendUnavailableException.class);
        assertThat(queue().contains("w")).as("left behind: unreachable").isTrue();
        cutOff.reconnect();

        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> waiting.acquire(fixture.target, LONG)).isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }

        assertThat(queue().contains("w"))
                .as("removed on leaving, not left to expire")
                .isFalse();
        held.close();
    }

    /** The entry found is renewed, so it keeps its place ahead of a waiter who came later. */
    @Test
    void anAdoptedEntryKeepsItsPlace() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        String left = LockQueue.empty()
                .enqueue(QueueEntry.joining("w", fixture.cluster.clock().now(), Duration.ofSeconds(2)))
                .text();
        fixture.cluster.annotate(fixture.target.namespace(), fixture.target.name(), LockQueue.ANNOTATION, left);
        AtomicReference<Object> adopting = new AtomicReference<>();
        Thread adoptingWait = startAcquire(fixture.locksWithOrigin("w", -(1L << 62)), adopting, Duration.ofSeconds(1));
        AtomicReference<Object> later = new AtomicReference<>();
        Thread laterWait = startAcquire(fixture.locks("x"), later, Duration.ofSeconds(1));
        // Not awaitQueued("w", "x"): unfixed, w's entry is pruned a few virtual seconds later, which
        // an auto-advancing clock may reach before a poll from outside sees the queue.
        await().atMost(20, TimeUnit.SECONDS).until(() -> queue().contains("x"));

        // Longer than the entry's lease and grace: unrenewed, x would judge it dead and prune it.
        fixture.sleep(Duration.ofSeconds(5));
        held.close();
        adoptingWait.join(TimeUnit.SECONDS.toMillis(30));
        laterWait.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(List.of(adopting.get(), later.get())).allMatch(o -> o instanceof ReplicaLock);
        assertThat(acquisitionOrder()).containsExactly("holder", "w", "x");
    }

    @Test
    void closingReplicaLocksWhileQueuedLeavesNoEntry() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        ReplicaLocks waiting = fixture.locks("w");
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread waiter = startAcquire(waiting, outcome, Duration.ZERO);
        awaitQueued("w");

        waiting.close();
        waiter.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get()).isInstanceOf(io.github.replicalock.LocksClosedException.class);
        assertThat(queue().isEmpty()).isTrue();
        held.close();
    }

    @Test
    void tryAcquireRefusesAFreeLockWithALiveWaiterAndPrunesADeadOne() throws Exception {
        Instant now = fixture.cluster.clock().now();
        String stale = LockQueue.empty()
                .enqueue(QueueEntry.joining("gone", now, Duration.ofSeconds(2)))
                .text();
        fixture.cluster.annotate(fixture.target.namespace(), fixture.target.name(), LockQueue.ANNOTATION, stale);
        ReplicaLocks locks = fixture.locks("try");

        assertThat(locks.tryAcquire(fixture.target))
                .as("a waiter first seen is alive")
                .isEmpty();
        fixture.cluster
                .clock()
                .newWakeup()
                .awaitUntil(fixture.cluster.clock().nanoTime()
                        + Duration.ofSeconds(4).toNanos());
        Optional<ReplicaLock> got = locks.tryAcquire(fixture.target);

        assertThat(got).as("unchanged for longer than lease + grace: dead").isPresent();
        assertThat(queue().isEmpty()).isTrue();
        got.get().close();
    }

    @Test
    void bargingTryAcquireIgnoresTheQueue() throws Exception {
        String waiting = LockQueue.empty()
                .enqueue(QueueEntry.joining("someone", fixture.cluster.clock().now(), Duration.ofSeconds(2)))
                .text();
        fixture.cluster.annotate(fixture.target.namespace(), fixture.target.name(), LockQueue.ANNOTATION, waiting);
        ReplicaLocks barging = fixture.locks(
                "barging", LockOptions.builder().fairness(Fairness.BARGING).build());

        Optional<ReplicaLock> got = barging.tryAcquire(fixture.target);

        assertThat(got).isPresent();
        assertThat(queueText()).as("untouched").isEqualTo(waiting);
        got.get().close();
    }

    @Test
    void aBargingWaiterNeverWritesTheQueue() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread waiter = startAcquire(
                fixture.locks(
                        "barging",
                        LockOptions.builder().fairness(Fairness.BARGING).build()),
                outcome,
                Duration.ZERO);
        // Polled at once and every millisecond: while this thread sleeps between polls, virtual time
        // runs (the holder's renewals every 10 s are all that is pending), and Awaitility's default
        // first 100 ms let it run past the waiter's one-hour deadline on a fast machine.
        await().pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1))
                .atMost(10, TimeUnit.SECONDS)
                .until(() -> fixture.cluster.requests(RequestKind.WATCH) >= 2);
        fixture.cluster
                .clock()
                .newWakeup()
                .awaitUntil(fixture.cluster.clock().nanoTime()
                        + Duration.ofMinutes(1).toNanos());

        held.close();
        waiter.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        assertThat(fixture.cluster.requests(RequestKind.QUEUE_WRITE)).isZero();
        assertThat(queueText()).isNull();
        ((ReplicaLock) outcome.get()).close();
    }

    @Test
    void theHeadStillAcquiresAfterAShellStepHeldTheLock() throws Exception {
        fixture.cluster.scale(fixture.target, 1); // the shell pipeline's step: no holder annotation
        AtomicReference<Object> a = new AtomicReference<>();
        AtomicReference<Object> b = new AtomicReference<>();
        Thread first = startAcquire(fixture.locks("a"), a, Duration.ofSeconds(1));
        awaitQueued("a");
        Thread second = startAcquire(fixture.locks("b"), b, Duration.ofSeconds(1));
        awaitQueued("a", "b");
        fixture.cluster
                .clock()
                .newWakeup()
                .awaitUntil(fixture.cluster.clock().nanoTime()
                        + Duration.ofMinutes(2).toNanos());
        assertThat(queue().entries()).extracting(QueueEntry::waiter).containsExactly("a", "b");

        fixture.cluster.scale(fixture.target, 0);
        first.join(TimeUnit.SECONDS.toMillis(30));
        second.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(a.get()).isInstanceOf(ReplicaLock.class);
        assertThat(b.get()).isInstanceOf(ReplicaLock.class);
        assertThat(acquisitionOrder()).containsExactly("a", "b");
    }

    @Test
    void threadsOfOneInstanceWaitInOneEntryInArrivalOrder() throws Exception {
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        ReplicaLocks shared = fixture.locks("shared");
        AtomicReference<Object> one = new AtomicReference<>();
        AtomicReference<Object> two = new AtomicReference<>();
        AtomicReference<Object> other = new AtomicReference<>();
        Thread t1 = startAcquire(shared, one, Duration.ofSeconds(1));
        awaitQueued("shared");
        Thread t2 = startAcquire(shared, two, Duration.ofSeconds(1));
        Thread t3 = startAcquire(fixture.locks("other"), other, Duration.ofSeconds(1));
        awaitQueued("shared", "other");

        held.close();
        for (Thread t : List.of(t1, t2, t3)) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }

        assertThat(List.of(one.get(), two.get(), other.get())).allMatch(o -> o instanceof ReplicaLock);
        // The second thread of "shared" enqueued after "other", when the first had acquired.
        assertThat(acquisitionOrder()).containsExactly("holder", "shared", "other", "shared");
    }

    @Test
    void theThirtyThirdWaiterWaitsOutsideTheQueueWithoutWritingAndJoinsWhenThereIsRoom() throws Exception {
        fixture.close();
        fixture = new VirtualClusterFixture(Duration.ofMillis(200), Duration.ofMillis(100));
        ReplicaLock held = fixture.locks("holder").acquire(fixture.target, LONG);
        List<Thread> threads = new ArrayList<>();
        List<AtomicReference<Object>> outcomes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < LockQueue.MAX_WAITERS; i++) {
            names.add("w" + i);
            AtomicReference<Object> outcome = new AtomicReference<>();
            outcomes.add(outcome);
            threads.add(startAcquire(fixture.locks("w" + i), outcome, Duration.ofMillis(10)));
            awaitQueued(names.toArray(String[]::new));
        }
        AtomicReference<Object> outside = new AtomicReference<>();
        outcomes.add(outside);
        threads.add(startAcquire(fixture.locks("outside"), outside, Duration.ofMillis(10)));
        fixture.cluster
                .clock()
                .newWakeup()
                .awaitUntil(fixture.cluster.clock().nanoTime()
                        + Duration.ofSeconds(30).toNanos());

        assertThat(queue().size()).isEqualTo(LockQueue.MAX_WAITERS);
        assertThat(fixture.cluster.queueWrites(fixture.target))
                .as("the waiter outside the full queue writes nothing")
                .noneMatch(w -> w.client().equals("outside"));
        held.close();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        }

        assertThat(outcomes).allMatch(o -> o.get() instanceof ReplicaLock);
        List<String> expected = new ArrayList<>(List.of("holder"));
        expected.addAll(names);
        expected.add("outside");
        assertThat(acquisitionOrder()).isEqualTo(expected);
    }
}
