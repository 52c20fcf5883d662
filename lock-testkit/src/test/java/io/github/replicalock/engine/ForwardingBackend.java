package io.github.replicalock.engine;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.Subscription;
import java.util.Collection;

/** Forwards everything to another backend; tests override what they want to see or change. */
class ForwardingBackend implements LockBackend {
    private final LockBackend delegate;

    ForwardingBackend(LockBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public LockRecord read(LockTarget target) throws InterruptedException {
        return delegate.read(target);
    }

    @Override
    public LockRecord readFresh(LockTarget target) throws InterruptedException {
        return delegate.readFresh(target);
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired)
            throws InterruptedException {
        return delegate.compareAndSet(target, expected, desired);
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired) throws InterruptedException {
        return delegate.takeOver(target, expected, desired);
    }

    @Override
    public boolean takeOver(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        return delegate.takeOver(target, expected, desired, queueChange);
    }

    @Override
    public boolean compareAndSetQueue(LockTarget target, QueueChange change) throws InterruptedException {
        return delegate.compareAndSetQueue(target, change);
    }

    @Override
    public boolean compareAndSet(LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
            throws InterruptedException {
        return delegate.compareAndSet(target, expected, desired, queueChange);
    }

    @Override
    public Subscription watch(LockTarget target, Runnable onChange) {
        return delegate.watch(target, onChange);
    }

    @Override
    public void deletePods(LockTarget target, Collection<String> podNames) throws InterruptedException {
        delegate.deletePods(target, podNames);
    }

    @Override
    public void recordEvent(LockTarget target, LockEvent event) {
        delegate.recordEvent(target, event);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
