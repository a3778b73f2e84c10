package flowbook;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Flowbook's CSV source, after Flink's file source has split the file into lines: skips the
 * header and blank lines, parses key, event time and value columns exactly as Flowbook does
 * (the same numbers, the same row numbers in errors), and applies the bad-row and non-finite
 * policies. Run it at parallelism 1, in file order. Quoted fields may not span lines.
 */
public class CsvRows extends RichFlatMapFunction<String, Event> {
    /** The columns to read, by index in the file (-1: none), and how. */
    public static class Layout implements java.io.Serializable {
        public String display;
        public boolean hasHeader = true;
        public char delimiter = ',';
        public int keyColumn = -1;
        public int timeColumn = -1;
        public String timeName = "";
        public int[] valueColumns = new int[0];
        public String[] valueNames = new String[0];
        public boolean skipBadRows;
        /** keep, skip or fail. */
        public String nonFinite = "keep";
    }

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern SPECIAL = Pattern.compile("[+-]?(inf|infinity|nan)", Pattern.CASE_INSENSITIVE);

    private final int node;
    private final String name;
    private final Layout layout;
    private transient long line;
    private transient long dataRows;
    private transient boolean headerPending;
    private transient LongCounter out;
    private transient LongCounter skipped;

    public CsvRows(int node, String name, Layout layout) {
        this.node = node;
        this.name = name;
        this.layout = layout;
    }

    @Override
    public void open(OpenContext context) {
        headerPending = layout.hasHeader;
        out = getRuntimeContext().getLongCounter(Counters.name(node, "out"));
        skipped = getRuntimeContext().getLongCounter(Counters.name(node, "skipped"));
    }

    @Override
    public void flatMap(String text, Collector<Event> collector) {
        line += 1;
        if (text.isEmpty()) return;
        if (headerPending) {
            headerPending = false;
            return;
        }
        List<String> fields = split(text, layout.delimiter);
        try {
            Event e = parse(fields);
            if (e != null) {
                out.add(1L);
                collector.collect(e);
            } else {
                skipped.add(1L);
            }
        } catch (IllegalArgumentException bad) {
            if (!layout.skipBadRows) {
                throw new NodeFailure(node, name, layout.display + " row " + line + ": " + bad.getMessage());
            }
            skipped.add(1L);
        }
        dataRows += 1;
    }

    private Event parse(List<String> row) {
        String key = layout.keyColumn < 0 ? "" : field(row, layout.keyColumn).strip();
        long ts;
        if (layout.timeColumn < 0) {
            ts = dataRows;
        } else {
            String t = field(row, layout.timeColumn).strip();
            try {
                ts = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("column '" + layout.timeName + "': '" + t + "' is not an integer time in ms");
            }
        }
        double[] values = new double[layout.valueColumns.length];
        for (int i = 0; i < values.length; i++) {
            String t = field(row, layout.valueColumns[i]).strip();
            double x = number(t, layout.valueNames[i]);
            if (Double.isNaN(x) || Double.isInfinite(x)) {
                if (layout.nonFinite.equals("skip")) return null;
                if (layout.nonFinite.equals("fail")) {
                    throw new IllegalArgumentException("column '" + layout.valueNames[i] + "': " + RustFormat.f64(x) + " is not a finite number");
                }
            }
            values[i] = x;
        }
        return new Event(key, ts, values);
    }

    private static String field(List<String> row, int index) {
        if (index >= row.size()) {
            throw new IllegalArgumentException("has " + row.size() + " fields, too few");
        }
        return row.get(index);
    }

    /** A number as Rust's f64 parser reads it (no hex, no Java suffixes; inf and nan in any case). */
    static double number(String t, String column) {
        if (NUMBER.matcher(t).matches()) return Double.parseDouble(t);
        if (SPECIAL.matcher(t).matches()) {
            String lower = t.toLowerCase();
            if (lower.endsWith("nan")) return Double.NaN;
            return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        throw new IllegalArgumentException("column '" + column + "': '" + t + "' is not a number");
    }

    /** Splits one line into fields with RFC 4180 quoting ("" inside quotes is a quote). */
    static List<String> split(String line, char delimiter) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean atStart = true;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == delimiter) {
                fields.add(field.toString());
                field.setLength(0);
                atStart = true;
                continue;
            } else if (c == '"' && atStart) {
                quoted = true;
            } else {
                field.append(c);
            }
            atStart = false;
        }
        fields.add(field.toString());
        return fields;
    }
}
