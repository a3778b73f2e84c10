package flowbook;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Sets each record's Flink timestamp to its Flowbook event time. Flink stamps count-window
 * results with the end of time; Flowbook gives them their last record's time, which later
 * event-time windows then use. Watermarks pass through untouched.
 */
public class Restamp extends AbstractStreamOperator<Event> implements OneInputStreamOperator<Event, Event> {
    @Override
    public void processElement(StreamRecord<Event> record) {
        output.collect(record.replace(record.getValue(), record.getValue().ts));
    }
}
