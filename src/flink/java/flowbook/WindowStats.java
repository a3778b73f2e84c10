package flowbook;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * The window's incremental aggregate (Flink's `aggregate()`, as Flowbook's windows keep
 * statistics instead of records): statistics of the chosen field indices, in arrival order.
 */
public class WindowStats implements AggregateFunction<Event, WindowAcc, WindowAcc> {
    private final int[] fields;

    /** @param fields indices of the record fields whose statistics the window keeps */
    public WindowStats(int... fields) {
        this.fields = fields;
    }

    @Override
    public WindowAcc createAccumulator() {
        return new WindowAcc(Math.max(fields.length, 1));
    }

    @Override
    public WindowAcc add(Event e, WindowAcc acc) {
        acc.fold();
        if (acc.count() == 0) acc.firstTs = e.ts;
        acc.lastTs = e.ts;
        acc.minTs = Math.min(acc.minTs, e.ts);
        if (fields.length == 0) {
            acc.stats[0].count += 1;
        }
        for (int i = 0; i < fields.length; i++) {
            int f = fields[i];
            acc.stats[i].add(f < e.values.length ? e.values[f] : Double.NaN);
        }
        return acc;
    }

    @Override
    public WindowAcc getResult(WindowAcc acc) {
        acc.fold();
        return acc;
    }

    @Override
    public WindowAcc merge(WindowAcc a, WindowAcc b) {
        WindowAcc merged = new WindowAcc();
        merged.parts.addAll(a.asParts());
        merged.parts.addAll(b.asParts());
        return merged;
    }
}
