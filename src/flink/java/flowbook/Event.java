package flowbook;

/**
 * One Flowbook record: a key, an event time in epoch milliseconds and numeric fields, in the
 * order the graph's schema names them. A public-field POJO so Flink serializes it without Kryo.
 */
public class Event {
    public String key;
    public long ts;
    public double[] values;

    public Event() {}

    public Event(String key, long ts, double[] values) {
        this.key = key;
        this.ts = ts;
        this.values = values;
    }

    @Override
    public String toString() {
        return "key=" + key + " ts=" + ts;
    }
}
