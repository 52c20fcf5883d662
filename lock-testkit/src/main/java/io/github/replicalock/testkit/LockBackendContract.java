package io.github.replicalock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockState;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetNotFoundException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockClock;
import io.github.replicalock.spi.LockClock.Wakeup;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.PodSnapshot;
import io.github.replicalock.spi.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LockBackend} must do, run against real time. A backend's test extends it and
 * supplies clients and a way to make deployments whose controller starts and stops Ready pods.
 *
 * <pre>{@code
 * class FakeClusterContractTest extends LockBackendContract {
 *     private final FakeCluster cluster = FakeCluster.create();
 *
 *     protected LockBackend newBackend() { return cluster.backend(); }
 *     protected void createDeployment(LockTarget t) { cluster.createDeployment(t); }
 *     protected void scaleLikeKubectl(LockTarget t, int replicas) { cluster.scale(t, replicas); }
 *     protected void changeSomethingElse(LockTarget t) { cluster.annotate(t, "example.com/unrelated", "changed"); }
 * }
 * }</pre>
 */
public abstract class LockBackendContract {
    private static final AtomicInteger DEPLOYMENTS = new AtomicInteger();

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private LockBackend backend;

    /** A new client of the store under test; the contract closes it. */
    protected abstract LockBackend newBackend();

    /** Creates a deployment with replicas 0 and a selector, whose pods become Ready soon after scale-up. */
    protected abstract void createDeployment(LockTarget target);

    /** Sets replicas unconditionally, annotations untouched, exactly as {@code kubectl scale} does. */
    protected abstract void scaleLikeKubectl(LockTarget target, int replicas);

    /**
     * Changes the Deployment in a way that is not the lock's business (status, an unrelated
     * annotation), so that its resource version moves.
     */
    protected abstract void changeSomethingElse(LockTarget target);

    /** The namespace the contract's deployments go to. */
    protected String namespace() {
        return "contract";
    }

    /**
     * The clock the store runs on, for the contract's own waits and the {@code ReplicaLocks} it
     * builds; the system clock unless the store is simulated.
     */
    protected LockClock clock() {
        return LockClock.system();
    }

    /** How long the contract waits for the store's controller; scale it up for slow stores. */
    protected Duration patience() {
        return Duration.ofSeconds(20);
    }

    @BeforeEach
    void openBackend() {
        backend = track(newBackend());
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private LockTarget newDeployment() {
        LockTarget target = LockTarget.of(namespace(), "contract-" + DEPLOYMENTS.incrementAndGet());
        createDeployment(target);
        return target;
    }

    private ReplicaLocks newLocks(String holder) {
        LockOptions options = LockOptions.builder()
                .leaseDuration(Duration.ofSeconds(3))
                .readyTimeout(patience())
                .releaseTimeout(patience())
                .build();
        return track(ReplicaLocks.builder()
                .backend(newBackend())
                .clock(clock())
                .holder(holder)
                .options(options)
                .shutdownHook(false)
                .build());
    }

    /** Waits, woken by the backend's own watch, until the record matches. */
    @SuppressWarnings("try") // the watch is open for its notifications only
    private LockRecord await(LockTarget target, Predicate<LockRecord> condition, String what)
            throws InterruptedException {
        Wakeup wakeup = clock().newWakeup();
        AtomicReference<@Nullable LockRecord> last = new AtomicReference<>();
        try (Subscription watch = backend.watch(target, wakeup::signal)) {
            // Re-read at least every 100 ms in case a backend's watch is slower than its controller.
            return ContractWait.until(
                    clock(),
                    patience(),
                    wakeup,
                    TimeUnit.MILLISECONDS.toNanos(100),
                    woken -> {
                        LockRecord record = backend.read(target);
                        last.set(record);
                        return condition.test(record) ? record : null;
                    },
                    () -> target + ": not " + what + " within " + patience() + "; last " + last.get());
        }
    }

    private static LockFields heldBy(LockFields from, String holder) {
        return from.heldBy(holder, from.token() + 1, Instant.now(), Duration.ofSeconds(30));
    }

    // ---- the SPI -------------------------------------------------------------------------------

    @Test
    void aNewDeploymentReadsAsAFreeLockWithASelectorAndNoPods() throws Exception {
        LockTarget target = newDeployment();

        LockRecord record = backend.read(target);

        assertThat(record.fields()).isEqualTo(LockFields.free(0));
        assertThat(record.selector()).isNotBlank();
        assertThat(record.pods()).isEmpty();
        assertThat(record.readyReplicas()).isZero();
    }

    @Test
    void readingAMissingDeploymentNamesIt() {
        LockTarget missing = LockTarget.of(namespace(), "never-created-" + DEPLOYMENTS.incrementAndGet());

        assertThatThrownBy(() -> backend.read(missing))
                .isInstanceOf(LockTargetNotFoundException.class)
                .hasMessageContaining(missing.name())
                .hasMessageContaining(missing.namespace());
    }

    @Test
    void compareAndSetWritesEveryLockFieldAndReadsThemBack() throws Exception {
        LockTarget target = newDeployment();
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        LockFields held = LockFields.free(0).heldBy("build-42", 1, now, Duration.ofSeconds(30));

        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();

        LockFields read = backend.read(target).fields();
        assertThat(read).isEqualTo(held);
        assertThat(backend.compareAndSet(target, held, held.released())).isTrue();
        assertThat(backend.read(target).fields()).isEqualTo(LockFields.free(1));
    }

    @Test
    void compareAndSetRefusesWhenReplicasHolderOrTokenDiffer() throws Exception {
        LockTarget target = newDeployment();
        LockFields held = heldBy(LockFields.free(0), "a");
        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();

        assertThat(backend.compareAndSet(target, LockFields.free(0), heldBy(LockFields.free(0), "b")))
                .as("stale replicas")
                .isFalse();
        assertThat(backend.compareAndSet(target, heldBy(LockFields.free(0), "b"), held.released()))
                .as("other holder")
                .isFalse();
        LockFields otherToken = new LockFields(1, "a", 7, held.acquired(), held.renewed(), held.lease());
        assertThat(backend.compareAndSet(target, otherToken, held.released()))
                .as("other token")
                .isFalse();
        assertThat(backend.read(target).fields().sameLockAs(held)).isTrue();
    }

    /**
     * A takeover judged on a hold that has since been renewed must fail, although replicas, holder
     * and token are still the ones judged: the renewal says the holder is alive.
     */
    @Test
    void aTakeoverLosesToARenewalThatLandedAfterItsJudgement() throws Exception {
        LockTarget target = newDeployment();
        Instant acquired = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        LockFields held = LockFields.free(0).heldBy("holder", 1, acquired, Duration.ofSeconds(30));
        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();
        LockFields judged = backend.readFresh(target).fields();
        LockFields renewed = judged.renewedAt(acquired.plusSeconds(10));
        assertThat(backend.compareAndSet(target, judged, renewed))
                .as("the holder's renewal")
                .isTrue();

        LockFields takeover = judged.heldBy("contender", 2, acquired.plusSeconds(40), Duration.ofSeconds(30));
        assertThat(backend.takeOver(target, judged, takeover))
                .as("takeover of the old renewal")
                .isFalse();
        assertThat(backend.read(target).fields()).isEqualTo(renewed);

        assertThat(backend.takeOver(target, renewed, takeover))
                .as("takeover of the hold as it is")
                .isTrue();
        assertThat(backend.read(target).fields().holder()).isEqualTo("contender");
    }

    @Test
    void anUnrelatedChangeBetweenReadAndWriteDoesNotLoseTheRace() throws Exception {
        LockTarget target = newDeployment();
        LockFields observed = backend.read(target).fields();

        changeSomethingElse(target);

        assertThat(backend.compareAndSet(target, observed, heldBy(observed, "a")))
                .isTrue();
    }

    @Test
    void ofManyClientsWritingFromTheSameObservationExactlyOneWins() throws Exception {
        LockTarget target = newDeployment();
        int clients = 8;
        List<LockBackend> backends = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            backends.add(track(newBackend()));
        }
        CyclicBarrier start = new CyclicBarrier(clients);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                LockBackend client = backends.get(i);
                String holder = "client-" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    return client.compareAndSet(target, LockFields.free(0), heldBy(LockFields.free(0), holder));
                }));
            }
            int winners = 0;
            for (Future<Boolean> result : results) {
                winners += result.get(patience().toMillis(), TimeUnit.MILLISECONDS) ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aForceReleaseRecordIsWrittenByTheBreakingWriteReadBackAndKeptByLaterWrites() throws Exception {
        ForceReleaseContract.theRecordIsWrittenWithTheBreakingWriteAndKept(
                backend, track(newBackend()), newDeployment());
    }

    // ---- the queue of waiters (section 10.4): bodies in QueueContract --------------------------

    @Test
    void queueWritesTestTheQueueTextAsReadAndKeepTheKeyWhenEmpty() throws Exception {
        QueueContract.queueWritesTestTheTextAsRead(backend, newDeployment());
    }

    @Test
    void renewalsOfDifferentWaitersDoNotConflictButAPruneOnAnOlderReadDoes() throws Exception {
        QueueContract.renewalsOfDifferentWaitersDoNotConflict(backend, newDeployment());
    }

    @Test
    void aQueueWriteDoesNotTestTheLockFields() throws Exception {
        LockTarget target = newDeployment();
        QueueContract.queueWritesIgnoreTheLock(backend, target, () -> changeSomethingElse(target));
    }

    @Test
    void anAcquisitionFromTheQueueTestsLockAndQueueAndWritesBothAtOnce() throws Exception {
        QueueContract.acquiringFromTheQueueTestsBoth(backend, newDeployment());
    }

    @Test
    void ofManyClientsEnqueueingOnTheSameReadExactlyOneWins() throws Exception {
        List<LockBackend> backends = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            backends.add(track(newBackend()));
        }
        QueueContract.ofManyEnqueuesOnOneReadExactlyOneWins(backends, newDeployment(), patience());
    }

    @Test
    void theControllerStartsAReadyPodOnScaleUpAndRemovesItOnScaleDown() throws Exception {
        LockTarget target = newDeployment();
        LockFields held = heldBy(LockFields.free(0), "a");
        assertThat(backend.compareAndSet(target, LockFields.free(0), held)).isTrue();

        LockRecord started = await(target, r -> r.pods().stream().anyMatch(PodSnapshot::usable), "Ready");
        assertThat(started.pods()).hasSize(1);
        assertThat(started.pods().get(0).name()).startsWith(target.name() + "-");

        assertThat(backend.compareAndSet(target, held, held.released())).isTrue();
        await(target, r -> r.pods().isEmpty(), "without pods");
    }

    @Test
    void deletedPodsAreReplacedUnderANewName() throws Exception {
        LockTarget target = newDeployment();
        assertThat(backend.compareAndSet(target, LockFields.free(0), heldBy(LockFields.free(0), "a")))
                .isTrue();
        String first = await(target, r -> r.pods().stream().anyMatch(PodSnapshot::usable), "Ready")
                .pods()
                .get(0)
                .name();

        backend.deletePods(target, List.of(first));

        LockRecord replaced = await(
                target,
                r -> r.pods().stream().anyMatch(p -> p.usable() && !p.name().equals(first)),
                "Ready with a new pod");
        assertThat(replaced.pods().stream().filter(PodSnapshot::usable).map(PodSnapshot::name))
                .doesNotContain(first);
    }

    @Test
    void aWatchHearsLockWritesAndLegacyScales() throws Exception {
        LockTarget target = newDeployment();
        LockClock clock = clock();
        Wakeup changed = clock.newWakeup();
        try (Subscription watch = backend.watch(target, changed::signal)) {
            eventually(watch::isConnected, "watch connected");
            while (changed.awaitUntil(clock.nanoTime())) {
                // Drops what the watch said while starting up: only what follows the writes counts.
            }
            LockBackend other = track(newBackend());

            assertThat(other.compareAndSet(target, LockFields.free(0), heldBy(LockFields.free(0), "a")))
                    .isTrue();
            awaitNotified(target, changed, r -> "a".equals(r.fields().holder()), "the lock write");
            scaleLikeKubectl(target, 0);
            awaitNotified(target, changed, r -> r.fields().replicas() == 0, "the legacy scale");
        }
    }

    /** Fails unless a notification arrives after which the record matches: re-reading on a timer does not count. */
    private void awaitNotified(LockTarget target, Wakeup changed, Predicate<LockRecord> condition, String what)
            throws InterruptedException {
        ContractWait.until(
                clock(),
                patience(),
                changed,
                Long.MAX_VALUE,
                woken -> woken && condition.test(backend.read(target)) ? Boolean.TRUE : null,
                () -> "watch notified of " + what + " within " + patience());
    }

    private void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        ContractWait.until(
                clock(),
                patience(),
                clock().newWakeup(),
                TimeUnit.MILLISECONDS.toNanos(10),
                woken -> condition.getAsBoolean() ? Boolean.TRUE : null,
                () -> what + " within " + patience());
    }

    @Test
    void recordingAnEventNeverThrows() {
        LockTarget target = newDeployment();
        LockTarget missing = LockTarget.of(namespace(), "never-created-" + DEPLOYMENTS.incrementAndGet());

        LockEvent acquired = new LockEvent(LockEvent.Kind.ACQUIRED, "lock acquired by 'contract' with token 1");
        backend.recordEvent(target, acquired);
        backend.recordEvent(missing, acquired);
        backend.recordEvent(missing, new LockEvent(LockEvent.Kind.LOST, "lock lost by 'contract'"));
    }

    // ---- the lock, end to end on this backend --------------------------------------------------

    @Test
    void acquireGivesAReadyPodAndReleaseFreesTheLock() throws Exception {
        LockTarget target = newDeployment();
        ReplicaLocks locks = newLocks("build-1");

        try (ReplicaLock lock = locks.acquire(target, patience())) {
            assertThat(lock.fencingToken()).isEqualTo(1);
            assertThat(lock.pods()).hasSize(1);
            assertThat(lock.isHeld()).isTrue();
            assertThat(locks.status(target).state()).isEqualTo(LockState.ACTIVE);
            assertThat(locks.status(target).holder()).hasValue("build-1");
        }

        assertThat(locks.status(target).state()).isEqualTo(LockState.IDLE);
        try (ReplicaLock again = locks.acquire(target, patience())) {
            assertThat(again.fencingToken()).isEqualTo(2);
        }
    }

    @Test
    void tryAcquireOnAHeldLockIsEmptyAtOnce() throws Exception {
        LockTarget target = newDeployment();
        ReplicaLocks first = newLocks("build-1");
        ReplicaLocks second = newLocks("build-2");

        try (ReplicaLock lock = first.acquire(target, patience())) {
            Optional<ReplicaLock> none = second.tryAcquire(target);

            assertThat(none).isEmpty();
            assertThat(second.status(target).holder()).hasValue("build-1");
            assertThat(lock.isHeld()).isTrue();
        }
    }

    @Test
    void aLockHeldByTheShellPipelineIsNotAcquiredAndShowsAnUnknownHolder() throws Exception {
        LockTarget target = newDeployment();
        scaleLikeKubectl(target, 1);
        ReplicaLocks locks = newLocks("build-1");

        assertThat(locks.tryAcquire(target)).isEmpty();
        assertThat(locks.status(target).holder()).hasValue("unknown");
        scaleLikeKubectl(target, 0);
    }

    @Test
    void theShellCleanupStepUnderAJavaHolderMakesItLoseTheLock() throws Exception {
        LockTarget target = newDeployment();
        ReplicaLocks locks = newLocks("build-1");
        ReplicaLock lock = locks.acquire(target, patience());
        CountDownLatch lost = new CountDownLatch(1);
        lock.onLost(e -> lost.countDown());

        scaleLikeKubectl(target, 0);

        assertThat(lost.await(patience().toMillis(), TimeUnit.MILLISECONDS))
                .as("lost-listener called")
                .isTrue();
        assertThat(lock.isHeld()).isFalse();
        LockFields before = backend.read(target).fields();
        assertThatThrownBy(lock::close).isInstanceOf(LockLostException.class).hasMessageContaining("scaled to 0");
        assertThat(backend.read(target).fields()).as("close wrote nothing").isEqualTo(before);
    }

    @Test
    void contendersTakeTurnsWithStrictlyIncreasingTokens() throws Exception {
        LockTarget target = newDeployment();
        int contenders = 3;
        int rounds = 4;
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger maxHolders = new AtomicInteger();
        AtomicLong lastToken = new AtomicLong();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(contenders);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < contenders; c++) {
                ReplicaLocks locks = newLocks("contender-" + c);
                done.add(pool.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        try (ReplicaLock lock = locks.acquire(target, patience().multipliedBy(contenders))) {
                            maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                            long previous = lastToken.getAndSet(lock.fencingToken());
                            if (lock.fencingToken() <= previous) {
                                violations.add("token " + lock.fencingToken() + " after " + previous);
                            }
                            holders.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(patience().toMillis() * contenders * rounds, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(violations).isEmpty();
        assertThat(maxHolders.get()).isEqualTo(1);
        assertThat(lastToken.get()).isEqualTo((long) contenders * rounds);
    }
}
