package flowbook;

import java.util.PriorityQueue;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * Flowbook's generator sources (`stream/sources/generators.rs`), record for record: the same seed
 * gives the same keys, event times and values. Each draws from one random stream in order, so
 * they run at parallelism 1 (as in Flowbook) inside Flink's DataGeneratorSource.
 */
public final class Generators {
    private Generators() {}

    /** Checks that records are asked for in order: the random stream is sequential. */
    abstract static class Sequential implements GeneratorFunction<Long, Event> {
        private transient long expected;

        @Override
        public void open(SourceReaderContext context) {
            expected = 0;
            start();
        }

        abstract void start();

        abstract Event next(long index);

        @Override
        public Event map(Long index) {
            if (index != expected) {
                throw new IllegalStateException("generator records must be drawn in order at parallelism 1; got " + index + ", expected " + expected);
            }
            expected++;
            return next(index);
        }
    }

    /** Record i: key i mod keys, event time start + i*step, value uniform in [0, 100). */
    public static class Sequence extends Sequential {
        private final long startMs, seed, keys, stepMs;
        private transient SeededRng rng;

        public Sequence(long startMs, long seed, long keys, long stepMs) {
            this.startMs = startMs;
            this.seed = seed;
            this.keys = Math.max(keys, 1);
            this.stepMs = stepMs;
        }

        @Override
        void start() {
            rng = new SeededRng(seed);
        }

        @Override
        Event next(long i) {
            double value = rng.unit() * 100.0;
            long ts = saturatingAdd(startMs, saturatingMul(i, stepMs));
            return new Event(Long.toString(Long.remainderUnsigned(i, keys)), ts, new double[] {value});
        }
    }

    /** Sensors reporting in turn with a slow cycle, noise and flagged anomalies. */
    public static class Sensor extends Sequential {
        private static final double CYCLE_MS = 3_600_000.0;
        private final long startMs, seed, sensors, intervalMs, disorderMs;
        private final double anomalyRate;
        private transient SeededRng rng;
        private transient double[] levels;

        public Sensor(long startMs, long seed, long sensors, long intervalMs, long disorderMs, double anomalyRate) {
            this.startMs = startMs;
            this.seed = seed;
            this.sensors = Math.max(sensors, 1);
            this.intervalMs = Math.max(intervalMs, 1);
            this.disorderMs = Math.max(disorderMs, 0);
            this.anomalyRate = anomalyRate;
        }

        @Override
        void start() {
            rng = new SeededRng(seed);
            levels = new double[(int) sensors];
            for (int s = 0; s < sensors; s++) levels[s] = 20.0 + 10.0 * rng.unit();
        }

        @Override
        Event next(long j) {
            int sensor = (int) (j % sensors);
            long tick = j / sensors;
            long spread = intervalMs * sensor / sensors;
            long onTime = startMs + tick * intervalMs + spread;
            long jitter = rng.below(disorderMs + 1);
            long ts = onTime - jitter;
            double cycle = Math.sin(2.0 * Math.PI * (double) ts / CYCLE_MS);
            double value = levels[sensor] + 3.0 * cycle + rng.normal();
            boolean anomaly = rng.unit() < anomalyRate;
            if (anomaly) {
                double sign = rng.unit() < 0.5 ? -1.0 : 1.0;
                value += sign * (6.0 + 4.0 * rng.unit());
            }
            return new Event("sensor-" + sensor, ts, new double[] {value, anomaly ? 1.0 : 0.0});
        }
    }

    /** Users clicking in sessions separated by idle gaps, in event-time order. */
    public static class Click extends Sequential {
        private static final double SESSION_END_CHANCE = 0.15;
        private final long startMs, seed, users, pages;
        private final double thinkMs, idleMs;
        private transient SeededRng rng;
        private transient PriorityQueue<long[]> next;
        private transient long[] lastClick;

        public Click(long startMs, long seed, long users, long pages, long thinkMs, long idleMs) {
            this.startMs = startMs;
            this.seed = seed;
            this.users = Math.max(users, 1);
            this.pages = Math.max(pages, 1);
            this.thinkMs = (double) Math.max(thinkMs, 1);
            this.idleMs = (double) Math.max(idleMs, 1);
        }

        @Override
        void start() {
            rng = new SeededRng(seed);
            next = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            for (long u = 0; u < users; u++) next.add(new long[] {startMs + (long) rng.exponential(idleMs), u});
            lastClick = new long[(int) users];
            java.util.Arrays.fill(lastClick, Long.MIN_VALUE);
        }

        @Override
        Event next(long index) {
            long[] head = next.poll();
            long ts = head[0];
            int u = (int) head[1];
            long previous = lastClick[u];
            double dwell = previous == Long.MIN_VALUE ? 0.0 : (double) (ts - previous);
            lastClick[u] = ts;
            double gap = rng.unit() < SESSION_END_CHANCE ? idleMs : thinkMs;
            long nextTs = ts + 1 + (long) rng.exponential(gap);
            next.add(new long[] {nextTs, u});
            double page = (double) rng.below(pages);
            return new Event("user-" + u, ts, new double[] {page, dwell});
        }
    }

    static long saturatingAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    static long saturatingMul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) return lo;
        return ((a ^ b) < 0) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
}
