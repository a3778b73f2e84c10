package flowbook;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.GlobalWindow;
import org.apache.flink.util.Collector;

/**
 * Emits a count window's statistics. Its bounds are the event times of its first and last
 * record in arrival order, and its event time is the last one (Flowbook's count windows).
 */
public class EmitCountWindow extends ProcessWindowFunction<WindowAcc, WindowResult, String, GlobalWindow> {
    private final int node;
    private final boolean countOnly;
    private transient LongCounter firings;

    public EmitCountWindow(int node, boolean countOnly) {
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
        r.tag = "C";
        r.start = acc.firstTs;
        r.end = acc.lastTs;
        r.ts = acc.lastTs;
        r.stats = acc.stats;
        r.countOnly = countOnly;
        firings.add(1L);
        out.collect(r);
    }
}
