package flowbook;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * Flowbook's Map: the record's fields widened to the output's (new fields NaN until assigned),
 * then the assignments in order, each seeing the ones before. A failing expression names the
 * node and the record.
 */
public abstract class RecordMap implements MapFunction<Event, Event> {
    private final int node;
    private final String name;
    private final String text;
    private final int width;

    protected RecordMap(int node, String name, String text, int width) {
        this.node = node;
        this.name = name;
        this.text = text;
        this.width = width;
    }

    /** Assigns the computed fields of `v` (the record's fields, widened) for the record `e`. */
    protected abstract void assign(Event e, double[] v);

    @Override
    public Event map(Event e) {
        double[] v = Ops.widen(e.values, width);
        try {
            assign(e, v);
        } catch (ArithmeticException | NumberFormatException failure) {
            throw new NodeFailure(node, name, "`" + text + "` failed for " + e + ": " + failure.getMessage());
        }
        return new Event(e.key, e.ts, v);
    }
}
