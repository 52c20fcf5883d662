package io.github.replicalock.internal;

import io.github.replicalock.spi.LockClock;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads renewals run on, shared by every lock of one engine: the clock's scheduler thread
 * only hands a due renewal over, so that one lock whose backend calls hang cannot delay another's
 * renewal. A thread per renewal in flight, not per lock: a worker is started when none is idle (up
 * to {@link #MAX_THREADS}; beyond that renewals queue), and an idle one ends after {@link
 * #KEEP_ALIVE_NANOS} of real time.
 *
 * <p>{@link #execute} returns once a worker has started the job and read the clock. The clock's
 * scheduler cannot see that work moved to another thread, and a simulated clock must not move time
 * while a renewal is between threads: it would run late, as if the holder had paused.
 */
final class RenewalWorkers {
    private static final Logger log = LoggerFactory.getLogger(RenewalWorkers.class);

    /** Enough for renewals in flight at once; a hung call is cut at its deadline, so few pile up. */
    static final int MAX_THREADS = 8;

    static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** How long {@link #execute} waits for a worker to start, in real time, before it lets go. */
    private static final long HAND_OFF_PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final LockClock clock;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by lock.
    private final ArrayDeque<Worker> idle = new ArrayDeque<>();
    private final ArrayDeque<Job> queued = new ArrayDeque<>();
    private int threads;
    private int started;
    private boolean shutDown;

    RenewalWorkers(LockClock clock, String name) {
        this.clock = clock;
        this.name = name;
    }

    /** Runs {@code task} on a worker; returns once it has started, or is queued behind busy ones. */
    void execute(Runnable task) {
        Job job = new Job(task);
        lock.lock();
        try {
            if (shutDown) {
                return;
            }
            Worker worker = idle.pollFirst();
            if (worker != null) {
                worker.next = job;
                worker.wake.signal();
            } else if (threads < MAX_THREADS) {
                threads++;
                Thread thread = new Thread(new Worker(job)::run, name + "-" + ++started);
                thread.setDaemon(true);
                thread.start();
            } else {
                // A busy worker takes it as soon as it is done, without stopping in between.
                queued.add(job);
                return;
            }
        } finally {
            lock.unlock();
        }
        job.awaitStarted();
    }

    /** Idle workers end now, busy ones after their job; later jobs are dropped. */
    void shutDown() {
        lock.lock();
        try {
            shutDown = true;
            queued.clear();
            for (Worker worker : idle) {
                worker.wake.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Threads alive now; for tests. */
    int threads() {
        lock.lock();
        try {
            return threads;
        } finally {
            lock.unlock();
        }
    }

    private final class Job {
        private final Runnable task;
        private volatile boolean started;

        Job(Runnable task) {
            this.task = task;
        }

        void run() {
            // Reading the clock makes this thread one a simulated clock waits for, before the
            // hand-off ends.
            clock.nanoTime();
            started = true;
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                log.warn("{}: renewal task failed", name, e);
            }
        }

        /**
         * Yields rather than parks: a parked thread looks idle to a simulated clock, and the wait
         * is as short as it takes the worker to be scheduled.
         */
        void awaitStarted() {
            long since = System.nanoTime();
            while (!started && System.nanoTime() - since < HAND_OFF_PATIENCE_NANOS) {
                Thread.yield();
            }
        }
    }

    private final class Worker {
        final Condition wake = lock.newCondition();

        @Nullable
        Job next;

        Worker(Job first) {
            this.next = first;
        }

        void run() {
            while (true) {
                Job job = take();
                if (job == null) {
                    return;
                }
                job.run();
                // A deadline cut that landed after the call returned must not reach the next job.
                boolean unused = Thread.interrupted();
            }
        }

        private @Nullable Job take() {
            lock.lock();
            try {
                Job job = next;
                next = null;
                if (job == null) {
                    job = queued.pollFirst();
                }
                long keepAlive = KEEP_ALIVE_NANOS;
                while (job == null && !shutDown && keepAlive > 0) {
                    idle.addFirst(this);
                    try {
                        keepAlive = wake.awaitNanos(keepAlive);
                    } catch (InterruptedException e) {
                        // Only a deadline cut interrupts a worker, and it had no job to cut: ignore.
                    }
                    idle.remove(this);
                    job = next;
                    next = null;
                }
                if (job == null) {
                    threads--;
                }
                return job;
            } finally {
                lock.unlock();
            }
        }
    }
}
