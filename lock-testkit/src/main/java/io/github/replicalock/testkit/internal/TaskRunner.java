package io.github.replicalock.testkit.internal;

import io.github.replicalock.spi.LockClock;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The virtual clock's scheduler: its timers, and the thread that runs them one at a time once they
 * are due. Guarded by the clock's lock; it says whether it keeps the clock busy ({@link #busy()}).
 */
final class TaskRunner {
    // The clock's logger, as before the split: a failed task is the clock's news.
    private static final System.Logger LOG = System.getLogger(VirtualTime.class.getName());

    private final ReentrantLock lock;
    /** The clock's "may have stopped being busy", signalled when this runner may have. */
    private final Condition settled;
    /** Signalled when a task becomes due or the runner stops. */
    private final Condition taskDue;

    private final PendingDeadlines pending;
    private final ArrayDeque<Timer> due = new ArrayDeque<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread thread;

    private boolean running;
    private boolean waitingOnClock;
    private boolean stopped;

    TaskRunner(ReentrantLock lock, Condition settled, PendingDeadlines pending) {
        this.lock = lock;
        this.settled = settled;
        this.taskDue = lock.newCondition();
        this.pending = pending;
        this.thread = new Thread(this::runTasks, "virtual-clock-tasks");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    List<Throwable> failures() {
        return List.copyOf(failures);
    }

    /** A timer for {@code task} at {@code deadline}, due at once if that is not after {@code now}. Lock held. */
    LockClock.Cancellable schedule(long deadline, long now, Runnable task) {
        Timer timer = new Timer(deadline, pending.nextSequence(), task);
        if (timer.deadline <= now) {
            makeDue(timer);
        } else {
            pending.add(timer);
        }
        return timer;
    }

    /**
     * True while a due task has not started, or a running task is not waiting on the clock. A
     * runner waiting on the clock with more tasks due is not busy: those tasks cannot start before
     * its wait ends, and its wait ends only if time moves. Lock held.
     */
    boolean busy() {
        return running ? !waitingOnClock : !due.isEmpty();
    }

    /** The runner's task begins or ends a wait on the clock. Lock held. */
    void waitingOnClock(boolean waiting) {
        waitingOnClock = waiting;
        if (waiting) {
            settled.signalAll();
        }
    }

    /** The clock closed: due tasks never run, and the thread ends after the task it runs. Lock held. */
    void stop() {
        stopped = true;
        due.clear();
        taskDue.signalAll();
    }

    /** What the runner does, for the clock's diagnostics. Lock held. */
    void describe(StringBuilder s) {
        s.append(", task runner ")
                .append(running ? (waitingOnClock ? "waits on the clock" : "runs a task") : "idle")
                .append(", due tasks ")
                .append(due.size());
    }

    private void makeDue(Timer timer) {
        timer.state = TimerState.DUE;
        due.add(timer);
        taskDue.signalAll();
    }

    private void runTasks() {
        while (true) {
            Timer timer;
            lock.lock();
            try {
                if (running) {
                    running = false;
                    settled.signalAll();
                }
                while (due.isEmpty() && !stopped) {
                    taskDue.awaitUninterruptibly();
                }
                if (stopped) {
                    return;
                }
                timer = due.poll();
                // Under the same lock as the poll: there is no moment where the task is neither
                // due nor running, so the driver never sees a gap to advance through.
                timer.state = TimerState.RUNNING;
                running = true;
            } finally {
                lock.unlock();
            }
            try {
                timer.task.run();
            } catch (Throwable e) {
                // Kept for tests to assert on; a dead runner would freeze every later timer.
                failures.add(e);
                LOG.log(Level.WARNING, "virtual clock task failed", e);
            }
        }
    }

    private enum TimerState {
        PENDING,
        DUE,
        RUNNING,
        CANCELLED
    }

    private final class Timer extends PendingDeadlines.Entry implements LockClock.Cancellable {
        final Runnable task;
        TimerState state = TimerState.PENDING;

        Timer(long deadline, long sequence, Runnable task) {
            super(deadline, sequence);
            this.task = task;
        }

        @Override
        void fire() {
            makeDue(this);
        }

        @Override
        void abandon() {
            state = TimerState.CANCELLED;
        }

        @Override
        public String toString() {
            return "timer #" + sequence + " " + state + " " + task.getClass().getName();
        }

        @Override
        public void cancel() {
            lock.lock();
            try {
                if (state == TimerState.PENDING) {
                    pending.remove(this);
                } else if (state == TimerState.DUE) {
                    due.remove(this);
                    settled.signalAll();
                } else {
                    return;
                }
                state = TimerState.CANCELLED;
            } finally {
                lock.unlock();
            }
        }
    }
}
