package flowbook;

import org.apache.flink.api.common.functions.MapFunction;

/** Flowbook's fault injector: passes records on, then fails at record N (per instance). */
public class Fault implements MapFunction<Event, Event> {
    private final int node;
    private final String name;
    private final long atRecord;
    private long seen;

    public Fault(int node, String name, long atRecord) {
        this.node = node;
        this.name = name;
        this.atRecord = atRecord;
    }

    @Override
    public Event map(Event e) {
        seen += 1;
        if (seen >= atRecord) {
            throw new NodeFailure(node, name, "injected fault at record " + seen);
        }
        return e;
    }
}
