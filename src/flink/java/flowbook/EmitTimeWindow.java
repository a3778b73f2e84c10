package flowbook;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Emits an event-time window's statistics with its bounds; event time = end - 1, as Flink. */
public class EmitTimeWindow extends ProcessWindowFunction<WindowAcc, WindowResult, String, TimeWindow> {
    private final int node;
    private final boolean countOnly;
    private transient LongCounter firings;

    public EmitTimeWindow(int node, boolean countOnly) {
        this.node = node;
        this.countOnly = countOnly;
    }

    @Override
    public void open(OpenContext context) {
        firings = getRuntimeContext().getLongCounter(Counters.name(node, "firings"));
    }

    @Override
    public void process(String key, Context context, Iterable<WindowAcc> accs, Collector<WindowResult> out) {
        WindowAcc acc = accs.iterator().next();
        WindowResult r = new WindowResult();
        r.key = key;
        r.tag = "W";
        r.start = context.window().getStart();
        r.end = context.window().getEnd();
        r.ts = context.window().maxTimestamp();
        r.stats = acc.stats;
        r.countOnly = countOnly;
        firings.add(1L);
        out.collect(r);
    }
}
