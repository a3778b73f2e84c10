package flowbook;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Per-node record counts as Flink accumulators: Flowbook reads them from the REST API while the
 * job runs (they travel with heartbeats) and exactly at its end, whatever the operator chaining.
 */
public final class Counters {
    private Counters() {}

    /** The accumulator holding `what` (out, late, firings, skipped) of Flowbook node `node`. */
    public static String name(int node, String what) {
        return "flowbook.node." + node + "." + what;
    }

    /** Passes records through, counting them as `what` of a node. */
    public static class Count<T> extends RichMapFunction<T, T> {
        private final int node;
        private final String what;
        private transient LongCounter counter;

        public Count(int node, String what) {
            this.node = node;
            this.what = what;
        }

        @Override
        public void open(OpenContext context) {
            counter = getRuntimeContext().getLongCounter(name(node, what));
        }

        @Override
        public T map(T value) {
            counter.add(1L);
            return value;
        }
    }
}
