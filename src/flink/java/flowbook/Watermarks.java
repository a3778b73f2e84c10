package flowbook;

import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/** Event time and watermarks as Flowbook assigns them. */
public final class Watermarks {
    private Watermarks() {}

    /** The record's own event time. */
    public static class EventTime implements SerializableTimestampAssigner<Event> {
        @Override
        public long extractTimestamp(Event e, long previous) {
            return e.ts;
        }
    }

    /**
     * Flowbook's Watermark node: bounded out-of-orderness emitted after every record
     * (watermark = max event time - delay - 1), never periodically, so results do not depend
     * on timing. Flink's own forBoundedOutOfOrderness emits periodically and is not exact.
     */
    public static WatermarkStrategy<Event> perEvent(long delayMs) {
        WatermarkGeneratorSupplier<Event> supplier = context -> new PerEvent(delayMs);
        return WatermarkStrategy.forGenerator(supplier).withTimestampAssigner(new EventTime());
    }

    /** Sources stamp records with their event time but emit no watermark before the end. */
    public static WatermarkStrategy<Event> timestampsOnly() {
        return WatermarkStrategy.<Event>noWatermarks().withTimestampAssigner(new EventTime());
    }

    static long saturatingSub(long a, long b) {
        long r = a - b;
        return ((a ^ b) & (a ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    static class PerEvent implements WatermarkGenerator<Event> {
        private final long delayMs;
        private boolean seen;
        private long maxTs;

        PerEvent(long delayMs) {
            this.delayMs = delayMs;
        }

        @Override
        public void onEvent(Event e, long ts, WatermarkOutput out) {
            maxTs = seen ? Math.max(maxTs, ts) : ts;
            seen = true;
            out.emitWatermark(new Watermark(saturatingSub(saturatingSub(maxTs, delayMs), 1)));
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput out) {}
    }
}
