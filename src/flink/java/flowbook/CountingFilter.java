package flowbook;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;

/**
 * Flowbook's Filter: keeps records whose predicate holds, counting them, and names the node
 * and the record when the predicate fails (an integer division by zero, say).
 */
public abstract class CountingFilter extends RichFilterFunction<Event> {
    private final int node;
    private final String name;
    private final String text;
    private transient LongCounter out;

    protected CountingFilter(int node, String name, String text) {
        this.node = node;
        this.name = name;
        this.text = text;
    }

    /** The predicate over the record `e` and its fields `v`. */
    protected abstract boolean test(Event e, double[] v);

    @Override
    public void open(OpenContext context) {
        out = getRuntimeContext().getLongCounter(Counters.name(node, "out"));
    }

    @Override
    public boolean filter(Event e) {
        boolean keep;
        try {
            keep = test(e, e.values);
        } catch (ArithmeticException | NumberFormatException failure) {
            throw new NodeFailure(node, name, "`" + text + "` failed for " + e + ": " + failure.getMessage());
        }
        if (keep) out.add(1L);
        return keep;
    }
}
