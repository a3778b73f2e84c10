package flowbook;

import org.apache.flink.api.java.functions.KeySelector;

/** Partitions by the record's key, as Flowbook's `hash` partition does. */
public class ByKey implements KeySelector<Event, String> {
    @Override
    public String getKey(Event e) {
        return e.key;
    }
}
