package flowbook;

import java.util.ArrayList;
import java.util.List;

/**
 * One key's contents of one window: statistics of the kept fields and the event times of the
 * first and last record (count windows report those as their bounds).
 *
 * Session windows merge. Flowbook merges the touching sessions in order of their start and then
 * adds the new record; Flink merges them in an order of its own. So a merge here only collects
 * the parts, and the next record (Flink always adds the record that caused a merge right after
 * it) folds them in Flowbook's order: the same floating-point operations, the same bits.
 */
public class WindowAcc {
    public Stats[] stats;
    public long firstTs;
    public long lastTs;
    /** The smallest event time added: a session's start. */
    public long minTs = Long.MAX_VALUE;
    /** Merged sessions not yet folded in; empty otherwise. */
    public List<Part> parts = new ArrayList<>();

    /** A merged session's contents, waiting to be folded. */
    public static class Part {
        public Stats[] stats;
        public long firstTs;
        public long lastTs;
        public long minTs;

        public Part() {}
    }

    public WindowAcc() {}

    public WindowAcc(int fields) {
        stats = new Stats[fields];
        for (int i = 0; i < fields; i++) stats[i] = new Stats();
    }

    public long count() {
        return stats == null || stats.length == 0 ? 0 : stats[0].count;
    }

    /** This accumulator's own contents (not its pending parts) as a part, or none if empty. */
    List<Part> asParts() {
        if (!parts.isEmpty()) return parts;
        List<Part> own = new ArrayList<>();
        if (count() > 0) {
            Part p = new Part();
            p.stats = stats;
            p.firstTs = firstTs;
            p.lastTs = lastTs;
            p.minTs = minTs;
            own.add(p);
        }
        return own;
    }

    /** Folds pending parts, in order of their start, into this accumulator: Flowbook's order. */
    void fold() {
        if (parts.isEmpty()) return;
        List<Part> all = new ArrayList<>(parts);
        parts.clear();
        all.sort((a, b) -> Long.compare(a.minTs, b.minTs));
        Part first = all.get(0);
        stats = new Stats[first.stats.length];
        for (int i = 0; i < stats.length; i++) stats[i] = first.stats[i].copy();
        firstTs = first.firstTs;
        lastTs = first.lastTs;
        minTs = first.minTs;
        for (int j = 1; j < all.size(); j++) {
            Part other = all.get(j);
            for (int i = 0; i < stats.length; i++) stats[i].merge(other.stats[i]);
            minTs = Math.min(minTs, other.minTs);
        }
    }
}
