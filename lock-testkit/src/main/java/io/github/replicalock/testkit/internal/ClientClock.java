package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One simulated process's view of the cluster's virtual clock: its own wall clock (skewed, and
 * stepped by NTP), its own monotonic origin, and its own scheduler thread, as a real process has
 * one scheduler for its renewals. The process can be paused as a whole (a stop-the-world GC pause):
 * scheduled tasks and backend calls wait until the pause ends.
 *
 * <p>Tasks become due on the shared clock and are handed to this client's thread so that virtual
 * time never moves between a timer firing and its task starting (see {@link #schedule}).
 */
final class ClientClock implements LockClock {
    private final LockClock shared;
    private final long monotonicOffset;
    private final Consumer<String> onProblem;
    private final Thread thread;

    /** Guards the hand-off of due tasks to this client's thread. */
    private final ReentrantLock lock = new ReentrantLock();

    private final Condition hasWork = lock.newCondition();
    private final Condition pickedUp = lock.newCondition();
    private final ArrayDeque<Task> due = new ArrayDeque<>();
    private boolean idle;
    private boolean stopped;
    /** Tasks ever handed over, and ever taken by this client's thread. */
    private long handedOver;

    private long taken;

    private final AtomicLong wallSkewNanos;
    /** Shared-clock nanos until which the process is paused. */
    private volatile long pausedUntil = Long.MIN_VALUE;

    private volatile CountDownLatch started = new CountDownLatch(0);

    ClientClock(LockClock shared, String name, long wallSkewNanos, long monotonicOffset, Consumer<String> onProblem) {
        this.shared = shared;
        this.wallSkewNanos = new AtomicLong(wallSkewNanos);
        this.monotonicOffset = monotonicOffset;
        this.onProblem = onProblem;
        this.thread = new Thread(this::runTasks, name + "-scheduler");
        thread.setDaemon(true);
    }

    /**
     * Starts the scheduler thread; it counts {@code started} down once it takes part in virtual
     * time.
     */
    void start(CountDownLatch started) {
        this.started = started;
        thread.start();
    }

    @Override
    public Instant now() {
        return shared.now().plusNanos(wallSkewNanos.get());
    }

    @Override
    public long nanoTime() {
        return shared.nanoTime() + monotonicOffset;
    }

    /**
     * Runs {@code task} on this client's thread after {@code delay}. The timer fires on the shared
     * clock's task thread, which hands the task over and, if this client's thread is idle, waits
     * until it has picked it up: the clock's task thread counts as busy meanwhile, so virtual time
     * cannot move between the timer and the task.
     */
    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        Task handoff = new Task(task);
        handoff.timer = shared.schedule(delay, () -> handOver(handoff));
        return handoff;
    }

    private void handOver(Task task) {
        lock.lock();
        try {
            if (stopped) {
                return;
            }
            due.add(task);
            long ticket = ++handedOver;
            if (idle) {
                hasWork.signal();
                // Not "while idle": the thread may already have run the task and gone idle again.
                while (taken < ticket && !stopped) {
                    pickedUp.awaitUninterruptibly();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Wakeup newWakeup() {
        Wakeup inner = shared.newWakeup();
        return new Wakeup() {
            @Override
            public void signal() {
                inner.signal();
            }

            @Override
            public boolean awaitUntil(long deadlineNanos) throws InterruptedException {
                // Wrapping, as System.nanoTime's instants do: only differences between them mean anything.
                return inner.awaitUntil(deadlineNanos - monotonicOffset);
            }
        };
    }

    /** An NTP step: the wall clock jumps by {@code step}, forwards or backwards. */
    void stepWallClock(Duration step) {
        wallSkewNanos.addAndGet(step.toNanos());
    }

    /** Stops the whole process for {@code duration} of virtual time from now. */
    void pause(Duration duration) {
        long until = shared.nanoTime() + duration.toNanos();
        if (until > pausedUntil) {
            pausedUntil = until;
        }
    }

    /** Waits while the process is paused; for the process's own threads at safepoints. */
    void awaitUnpaused() throws InterruptedException {
        long until;
        while ((until = pausedUntil) > shared.nanoTime()) {
            ClockThreads.sleepUntil(shared, until);
        }
    }

    /** {@link #awaitUnpaused()} for calls that cannot throw InterruptedException; keeps the flag. */
    void awaitUnpausedUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                awaitUnpaused();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() {
        lock.lock();
        try {
            stopped = true;
            hasWork.signalAll();
            pickedUp.signalAll();
        } finally {
            lock.unlock();
        }
    }

    Thread thread() {
        return thread;
    }

    private void runTasks() {
        try {
            ClockThreads.join(shared, started);
            while (true) {
                Task task;
                lock.lock();
                try {
                    while (due.isEmpty() && !stopped) {
                        idle = true;
                        hasWork.awaitUninterruptibly();
                    }
                    idle = false;
                    if (stopped) {
                        return;
                    }
                    task = due.poll();
                    taken++;
                    pickedUp.signalAll();
                } finally {
                    lock.unlock();
                }
                awaitUnpaused();
                task.runUnlessCancelled();
            }
        } catch (InterruptedException | IllegalStateException e) {
            // Stopped, or the clock was closed under us (the watchdog): nothing more to run.
        }
    }

    private final class Task implements Cancellable {
        private final Runnable body;
        private volatile boolean cancelled;
        private volatile Cancellable timer = () -> {};

        Task(Runnable body) {
            this.body = body;
        }

        void runUnlessCancelled() {
            if (!cancelled) {
                try {
                    body.run();
                } catch (RuntimeException e) {
                    onProblem.accept(thread.getName() + ": task failed: " + e);
                }
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            timer.cancel();
        }
    }
}
