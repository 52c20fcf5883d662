package io.github.replicalock.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTimeoutException;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.RequestKind;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A takeover is the one decision the engine takes on what a read did not show (renewals), so it
 * asks the backend for the store's own copy first ({@code LockBackend#readFresh}) instead of the
 * backend guessing from the write's arguments that it should.
 */
class TakeoverFreshReadTest {
    private final VirtualClusterFixture fixture = new VirtualClusterFixture();

    @AfterEach
    void close() throws Exception {
        fixture.close();
    }

    @Test
    void anAcquisitionFromIdleReadsNothingFresh() throws Exception {
        fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1)).close();

        assertThat(fixture.cluster.requests(RequestKind.FRESH_READ)).isZero();
    }

    @Test
    void aTakeoverReadsFreshOnceBeforeItWrites() throws Exception {
        FakeBackend crashed = fixture.cluster.backend("build-1");
        fixture.locks(crashed, "build-1", LockOptions.defaults()).acquire(fixture.target, Duration.ofMinutes(1));
        crashed.disconnect();

        ReplicaLock taken = fixture.locks("build-2").acquire(fixture.target, Duration.ofMinutes(5));

        assertThat(taken.fencingToken()).isEqualTo(2);
        assertThat(fixture.cluster.requests(RequestKind.FRESH_READ)).isEqualTo(1);
    }

    @Test
    void aLiveHolderThatStaleReadsHideIsNotTakenOver() throws Exception {
        ReplicaLock holder = fixture.locks("build-1").acquire(fixture.target, Duration.ofMinutes(1));
        // Plain reads stop at the first held copy, as a watch cache that stalls while connected:
        // the holder's renewals never show in them.
        AtomicReference<@Nullable LockRecord> frozen = new AtomicReference<>();
        StaleReads stale = new StaleReads(fixture.track(fixture.cluster.backend("build-2")), frozen);

        assertThatThrownBy(() -> fixture.locks(stale, "build-2", LockOptions.defaults())
                        .acquire(fixture.target, Duration.ofMinutes(3)))
                .isInstanceOf(LockTimeoutException.class);

        assertThat(holder.isHeld()).isTrue();
        assertThat(holder.fencingToken()).isEqualTo(1);
        assertThat(fixture.cluster.requests(RequestKind.FRESH_READ))
                .as("a fresh read each time the stale copy looked expired")
                .isGreaterThanOrEqualTo(2);
        holder.close();
    }

    private static final class StaleReads extends ForwardingBackend {
        private final AtomicReference<@Nullable LockRecord> frozen;

        StaleReads(FakeBackend delegate, AtomicReference<@Nullable LockRecord> frozen) {
            super(delegate);
            this.frozen = frozen;
        }

        @Override
        public LockRecord read(LockTarget target) throws InterruptedException {
            LockRecord seen = frozen.get();
            if (seen != null) {
                return seen;
            }
            LockRecord record = super.read(target);
            if (record.fields().holder() != null) {
                frozen.set(record);
            }
            return record;
        }
    }
}
