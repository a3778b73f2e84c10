package flowbook;

/**
 * One window firing: its key, tag (W for time windows, C for count windows), bounds, event time
 * and the statistics of its kept fields. What Flowbook's Window node sends to an Aggregate.
 */
public class WindowResult {
    public String key;
    public String tag;
    public long start;
    public long end;
    public long ts;
    public Stats[] stats;
    /** The window kept no field: only its count is known (sum, min, max are NaN). */
    public boolean countOnly;

    public WindowResult() {}
}
