package io.github.replicalock.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import java.util.List;

/** What one acquisition attempt on a read decided. */
sealed interface Attempt {

    /**
     * The conditional write applied: the lock is ours from {@code sentAtNanos}, and a takeover's
     * {@code oldPods} are to be replaced.
     */
    record Won(LockTarget target, LockFields fields, long sentAtNanos, List<String> oldPods) implements Attempt {
        public Won {
            oldPods = List.copyOf(oldPods);
        }
    }

    /**
     * Not taken: {@code why} (held, releasing, a lost race), and how long until the hold seen would
     * expire ({@link ExpiryTracker#NEVER} if it never does, at most 0 if it has), and whether a
     * write was sent and lost (the record it was judged on is stale).
     */
    record Declined(String why, long expiresInNanos, boolean wrote) implements Attempt {
        Declined(String why, long expiresInNanos) {
            this(why, expiresInNanos, false);
        }

        @Override
        public String toString() {
            return why;
        }
    }
}
