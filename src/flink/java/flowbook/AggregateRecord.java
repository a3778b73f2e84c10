package flowbook;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * Flowbook's Aggregate node: a window firing becomes the record {start, end, one value per
 * function per field} with the window's key and event time.
 */
public class AggregateRecord implements MapFunction<WindowResult, Event> {
    private final String[] functions;
    private final int[] statsIndices;

    /**
     * @param functions    count, sum, min, max, mean, variance or std, in output order
     * @param statsIndices which of the window's kept statistics each output field group reads
     */
    public AggregateRecord(String[] functions, int[] statsIndices) {
        this.functions = functions;
        this.statsIndices = statsIndices;
    }

    @Override
    public Event map(WindowResult w) {
        double[] values = new double[2 + functions.length * statsIndices.length];
        values[0] = (double) w.start;
        values[1] = (double) w.end;
        int at = 2;
        for (int index : statsIndices) {
            Stats stats = index < w.stats.length ? w.stats[index] : null;
            for (String f : functions) {
                values[at++] = stats == null ? Double.NaN : value(stats, f, w.countOnly);
            }
        }
        return new Event(w.key, w.ts, values);
    }

    private static double value(Stats stats, String function, boolean countOnly) {
        if (countOnly && !function.equals("count")) return Double.NaN;
        return stats.of(function);
    }
}
