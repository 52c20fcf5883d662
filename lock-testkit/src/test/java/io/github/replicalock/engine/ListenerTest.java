package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.replicalock.LockListener;
import io.github.replicalock.LockLostException;
import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.PodNotReadyException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.testkit.FakeBackend;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine calls the {@link LockListener}s registered on {@code ReplicaLocks.Builder}, in virtual time. */
class ListenerTest {
    private final VirtualClusterFixture fixture = new VirtualClusterFixture();

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    /** Every call as one line, such as {@code acquired 1 after PT3S}. */
    private static final class Recording implements LockListener {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onAcquired(LockTarget target, long fencingToken, Duration waited) {
            calls.add("acquired " + fencingToken + " after " + waited);
        }

        @Override
        public void onTakeover(LockTarget target, @Nullable String previousHolder, long fencingToken) {
            calls.add("takeover " + fencingToken + " from " + previousHolder);
        }

        @Override
        public void onReleased(LockTarget target, long fencingToken, Duration held) {
            calls.add("released " + fencingToken);
        }

        @Override
        public void onLost(LockTarget target, LockLostException cause, Duration held) {
            calls.add("lost " + cause.fencingToken());
        }

        @Override
        public void onReadyTimeout(LockTarget target, PodNotReadyException cause, Duration waited) {
            calls.add("ready timeout after " + waited);
        }

        @Override
        public void onQueueObserved(LockTarget target, int length) {
            calls.add("queue " + length);
        }
    }

    private ReplicaLocks locks(String holder, LockListener... listeners) {
        ReplicaLocks.Builder builder = ReplicaLocks.builder()
                .backend(fixture.cluster.backend(holder))
                .clock(fixture.cluster.clock())
                .holder(holder)
                .shutdownHook(false);
        for (LockListener listener : listeners) {
            builder.listener(listener);
        }
        return fixture.track(builder.build());
    }

    @Test
    void anAcquisitionAndAReleaseAreHeardWithTheWaitForTheReadyPod() throws Exception {
        Recording heard = new Recording();
        ReplicaLock lock = locks("build-1", heard).acquire(fixture.target, Duration.ofMinutes(1));
        lock.close();

        // The first read shows nobody queued; the fixture's pods are Ready 3 s after the scale-up.
        assertThat(heard.calls).containsExactly("queue 0", "acquired 1 after PT3S", "released 1");
    }

    @Test
    void aQueuedWaiterReportsTheQueueItSeesAndATakeoverAndALossAreHeard() throws Exception {
        Recording holderHeard = new Recording();
        Recording waiterHeard = new Recording();
        FakeBackend crashing = fixture.cluster.backend("crashing");
        ReplicaLocks holder = fixture.track(ReplicaLocks.builder()
                .backend(crashing)
                .clock(fixture.cluster.clock())
                .holder("crashing")
                .listener(holderHeard)
                .shutdownHook(false)
                .build());
        ReplicaLock held = holder.acquire(fixture.target, Duration.ofMinutes(1));
        AtomicReference<Object> outcome = new AtomicReference<>();
        ReplicaLocks waiting = locks("waiter", waiterHeard);
        Thread waiter = new Thread(() -> {
            try {
                // Long: virtual time runs on while the test polls for the queue in real time.
                outcome.set(waiting.acquire(fixture.target, Duration.ofDays(1)));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        waiter.start();
        await().atMost(20, TimeUnit.SECONDS).until(() -> waiterHeard.calls.contains("queue 1"));

        crashing.disconnect(); // the holder stops renewing: lost at its lease's end, taken over after lease + grace
        waiter.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get()).isInstanceOf(ReplicaLock.class);
        assertThat(waiterHeard.calls).startsWith("queue 0").contains("queue 1", "takeover 2 from crashing");
        assertThat(waiterHeard.calls.get(waiterHeard.calls.size() - 1)).startsWith("acquired 2 after");
        assertThat(holderHeard.calls).contains("lost 1");
        assertThat(held.isHeld()).isFalse();
        ((ReplicaLock) outcome.get()).close();
    }

    @Test
    void aReadyTimeoutIsHeardAndAFailingListenerChangesNothing() throws Exception {
        Recording heard = new Recording();
        LockListener failing = new LockListener() {
            @Override
            public void onReadyTimeout(LockTarget target, PodNotReadyException cause, Duration waited) {
                throw new IllegalStateException("a broken listener");
            }
        };
        fixture.cluster.faults().podsNeverReady(fixture.target.namespace(), fixture.target.name(), "ImagePullBackOff");
        ReplicaLocks locks = fixture.track(ReplicaLocks.builder()
                .backend(fixture.cluster.backend("build-1"))
                .clock(fixture.cluster.clock())
                .holder("build-1")
                .options(LockOptions.builder()
                        .readyTimeout(Duration.ofSeconds(20))
                        .build())
                .listener(failing)
                .listener(heard)
                .shutdownHook(false)
                .build());

        assertThatThrownBy(() -> locks.acquire(fixture.target, Duration.ofMinutes(1)))
                .isInstanceOf(PodNotReadyException.class);

        // Timed to the rollback, which waits for the pods to go (2 s): no release is reported.
        assertThat(heard.calls).containsExactly("queue 0", "ready timeout after PT22S");
    }
}
