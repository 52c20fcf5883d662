package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.Subscription;
import java.util.Collection;

/**
 * A simulated process's backend: the fake cluster's client, seen through the process's clock, and
 * stopped at call boundaries while the process is paused. A pause that starts while a request is
 * in flight holds its answer back too, so a renewal can be paused between checking its lease and
 * hearing that its write applied.
 */
final class ClientBackend implements LockBackend {
    private final LockBackend delegate;
    private final ClientClock clock;

    ClientBackend(LockBackend delegate, ClientClock clock) {
        this.delegate = delegate;
        this.clock = clock;
    }

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        clock.awaitUnpaused();
        LockRecord record = delegate.read(target);
        clock.awaitUnpaused();
        return record;
    }

    @Override
    public LockRecord readFresh(LockTarget target) throws InterruptedException {
        clock.awaitUnpaused();
        LockRecord record = delegate.readFresh(target);
        clock.awaitUnpaused();
        return record;
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        clock.awaitUnpaused();
        boolean applied = delegate.compareAndSet(target, expected, desired);
        clock.awaitUnpaused();
        return applied;
    }

    @Override
    public boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        clock.awaitUnpaused();
        boolean applied = delegate.compareAndSetQueue(target, change);
        clock.awaitUnpaused();
        return applied;
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        clock.awaitUnpaused();
        boolean applied = delegate.compareAndSet(target, expected, desired, queueChange);
        clock.awaitUnpaused();
        return applied;
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException {
        clock.awaitUnpaused();
        boolean applied = delegate.takeOver(target, expected, desired);
        clock.awaitUnpaused();
        return applied;
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        clock.awaitUnpaused();
        boolean applied = delegate.takeOver(target, expected, desired, queueChange);
        clock.awaitUnpaused();
        return applied;
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        clock.awaitUnpausedUninterruptibly();
        return delegate.watch(target, onChange);
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        clock.awaitUnpaused();
        delegate.deletePods(target, podNames);
    }

    /** Never paused: it may run on the thread of whoever asked {@code isHeld()}. */
    @Override
    public void recordEvent(LockTarget target, LockEvent event) {
        delegate.recordEvent(target, event);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
