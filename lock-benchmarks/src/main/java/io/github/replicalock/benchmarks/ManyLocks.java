package io.github.replicalock.benchmarks;

import io.github.replicalock.LockOptions;
import io.github.replicalock.LockTarget;
import io.github.replicalock.ReplicaLock;
import io.github.replicalock.ReplicaLocks;
import io.github.replicalock.spi.LockBackend;
import io.github.replicalock.spi.LockEvent;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.spi.LockRecord;
import io.github.replicalock.spi.QueueChange;
import io.github.replicalock.spi.Subscription;
import io.github.replicalock.testkit.FakeBackend;
import io.github.replicalock.testkit.FakeCluster;
import io.github.replicalock.testkit.RequestKind;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.management.ObjectName;

/**
 * Scenario 5's measurement, in a JVM of its own (so that the threads it counts are the library's
 * and the heap is quiet): 1,000 locks held at once on 1,000 fake Deployments. Prints {@code
 * key=value} lines for {@link ManyLocksScenario}.
 *
 * <p>Retained heap per held lock is the library's share only: the used heap after full GCs with N
 * locks held through {@link ReplicaLocks}, minus the used heap with the same N holds written
 * directly through the backend SPI (same holder length, same annotations, same pods in the fake
 * cluster), divided by N. Events are dropped on both sides: they live in the API server, not in
 * the build's JVM. Done twice, alternating.
 */
public final class ManyLocks {
    static final int LOCKS = 1000;
    static final Duration LEASE = Duration.ofSeconds(3);
    private static final String HOLDER = "ci-runner-7f9c4d/12345/1a2b3c4d";
    private static final String RAW_HOLDER = "ci-runner-7f9c4d/12345/9e8d7c6b";
    private static final int RENEWAL_SECONDS = 8;
    private static final int ROUNDS = 3;
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    /** -Dbenchmarks.histogram=true: print which classes the held locks retain (for profiling, on stderr). */
    private static final boolean HISTOGRAM = Boolean.getBoolean("benchmarks.histogram");

    private ManyLocks() {}

    public static void main(String[] args) throws Exception {
        Set<String> threadsBefore = threadNames();
        warmUp();
        try (FakeCluster cluster = FakeCluster.builder().historyLimit(0).build()) {
            List<LockTarget> targets = new ArrayList<>();
            for (int i = 0; i < LOCKS; i++) {
                targets.add(cluster.createDeployment("bench", String.format("builder-%04d", i)));
            }
            FakeBackend raw = cluster.backend("raw");
            LockOptions options = LockOptions.builder().leaseDuration(LEASE).build();
            Object[] kept = new Object[LOCKS];
            try (ReplicaLocks locks = cluster.locks(new EventlessBackend(cluster.backend("library")))
                    .holder(HOLDER)
                    .options(options)
                    .build()) {
                for (int round = 1; round <= ROUNDS; round++) {
                    long base = usedHeapAfterGc();
                    holdRaw(raw, targets, kept);
                    long rawHeld = usedHeapAfterGc();
                    releaseRaw(raw, targets, kept);

                    long base2 = usedHeapAfterGc();
                    Map<String, long[]> before = HISTOGRAM ? histogram() : Map.of();
                    long start = System.nanoTime();
                    for (int i = 0; i < LOCKS; i++) {
                        kept[i] = locks.acquire(targets.get(i), Duration.ofSeconds(10));
                    }
                    long acquireAll = System.nanoTime() - start;
                    long libraryHeld = usedHeapAfterGc();
                    if (HISTOGRAM) {
                        printGrowth(before, histogram());
                    }
                    print("round" + round + ".rawBytes", rawHeld - base);
                    print("round" + round + ".libraryBytes", libraryHeld - base2);
                    print("round" + round + ".perLockBytes", ((libraryHeld - base2) - (rawHeld - base)) / LOCKS);
                    print("round" + round + ".acquireAllNanos", acquireAll);

                    if (round == 1) {
                        Set<String> started = threadNames();
                        started.removeAll(threadsBefore);
                        System.out.println("threads=" + String.join(",", started));
                        renewalRate(cluster);
                    }
                    start = System.nanoTime();
                    for (int i = 0; i < LOCKS; i++) {
                        ((ReplicaLock) kept[i]).close();
                        kept[i] = null;
                    }
                    print("round" + round + ".releaseAllNanos", System.nanoTime() - start);
                }
            }
        }
    }

    /** Renewal writes per wall-clock second, in 1 s buckets, once every lock has renewed once. */
    private static void renewalRate(FakeCluster cluster) throws InterruptedException {
        Thread.sleep(LEASE.toMillis() / 3 + 500);
        List<String> perSecond = new ArrayList<>();
        long last = cluster.requests(RequestKind.COMPARE_AND_SET);
        long lastAt = System.nanoTime();
        for (int s = 0; s < RENEWAL_SECONDS; s++) {
            Thread.sleep(1000);
            long now = cluster.requests(RequestKind.COMPARE_AND_SET);
            long at = System.nanoTime();
            perSecond.add(String.valueOf((now - last) * 1e9 / (at - lastAt)));
            last = now;
            lastAt = at;
        }
        System.out.println("renewalsPerSecond=" + String.join(",", perSecond));
    }

    private static void holdRaw(FakeBackend raw, List<LockTarget> targets, Object[] kept) throws InterruptedException {
        for (int i = 0; i < LOCKS; i++) {
            LockTarget target = targets.get(i);
            LockFields free = raw.read(target).fields();
            LockFields held =
                    free.heldBy(RAW_HOLDER, free.token() + 1, raw.clock().now(), LEASE);
            if (!raw.compareAndSet(target, free, held)) {
                throw new IllegalStateException("raw hold failed on " + target);
            }
            kept[i] = target; // a reference, as the library run keeps one
        }
    }

    private static void releaseRaw(FakeBackend raw, List<LockTarget> targets, Object[] kept)
            throws InterruptedException {
        for (int i = 0; i < LOCKS; i++) {
            LockTarget target = targets.get(i);
            LockFields held = raw.read(target).fields();
            if (!raw.compareAndSet(target, held, held.released())) {
                throw new IllegalStateException("raw release failed on " + target);
            }
            kept[i] = null;
        }
    }

    /** Loads and compiles the paths once on a cluster of its own, so that the rounds measure steady state. */
    private static void warmUp() throws InterruptedException {
        try (FakeCluster cluster = FakeCluster.builder().historyLimit(0).build();
                ReplicaLocks locks = cluster.locks(new EventlessBackend(cluster.backend()))
                        .holder(HOLDER)
                        .options(LockOptions.builder().leaseDuration(LEASE).build())
                        .build()) {
            FakeBackend raw = cluster.backend("raw");
            List<LockTarget> targets = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                targets.add(cluster.createDeployment("warm", "builder-" + i));
            }
            for (int round = 0; round < 20; round++) {
                List<ReplicaLock> held = new ArrayList<>();
                for (LockTarget target : targets) {
                    held.add(locks.acquire(target, Duration.ofSeconds(10)));
                }
                for (ReplicaLock lock : held) {
                    lock.close();
                }
                List<LockTarget> few = targets.subList(0, 10);
                holdRawFew(raw, few);
            }
        }
    }

    private static void holdRawFew(FakeBackend raw, List<LockTarget> targets) throws InterruptedException {
        for (LockTarget target : targets) {
            LockFields free = raw.read(target).fields();
            raw.compareAndSet(
                    target,
                    free,
                    free.heldBy(RAW_HOLDER, free.token() + 1, raw.clock().now(), LEASE));
            LockFields held = raw.read(target).fields();
            raw.compareAndSet(target, held, held.released());
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(
                    used,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /** Live objects per class, from the JVM's own class histogram (which runs a full GC first). */
    private static Map<String, long[]> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer()
                .invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"),
                        "gcClassHistogram",
                        new Object[] {new String[0]},
                        new String[] {String[].class.getName()});
        Map<String, long[]> counts = new HashMap<>();
        for (String line : (Iterable<String>) text.lines()::iterator) {
            String[] f = WHITESPACE.splitAsStream(line.trim()).toArray(String[]::new);
            if (f.length >= 4 && f[0].endsWith(":")) {
                counts.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
            }
        }
        return counts;
    }

    private static void printGrowth(Map<String, long[]> before, Map<String, long[]> after) {
        List<Map.Entry<String, long[]>> growth = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long[] d = {e.getValue()[0] - b[0], e.getValue()[1] - b[1]};
            total += d[1];
            growth.add(Map.entry(e.getKey(), d));
        }
        growth.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        System.err.printf(Locale.ROOT, "histogram growth with %d locks held: %,d B in all%n", LOCKS, total);
        for (Map.Entry<String, long[]> e : growth.subList(0, Math.min(25, growth.size()))) {
            System.err.printf(
                    Locale.ROOT,
                    "  %8.2f objects/lock %8.1f B/lock  %s%n",
                    e.getValue()[0] / (double) LOCKS,
                    e.getValue()[1] / (double) LOCKS,
                    e.getKey());
        }
    }

    private static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static void print(String key, long value) {
        System.out.println(key + "=" + value);
    }

    /** The backend minus events: they are the API server's memory, not the build's. */
    private static final class EventlessBackend implements LockBackend {
        private final LockBackend delegate;

        EventlessBackend(LockBackend delegate) {
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
        public boolean takeOver(LockTarget target, LockFields expected, LockFields desired)
                throws InterruptedException {
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
        public boolean compareAndSet(
                LockTarget target, LockFields expected, LockFields desired, QueueChange queueChange)
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
            // dropped: see the class comment
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
