package flowbook;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Flowbook's CSV sink: a header row, then one row per record with the same columns, quoting and
 * number formatting as `flowbook run` writes. It writes a hidden temporary file beside the target
 * and renames it only when the input ends, so a failed or cancelled job leaves no partial file.
 * Run it at parallelism 1: one file, as Flowbook joins parallel inputs. The path may use any
 * file system the cluster has (a local path is a path on the task manager's machine).
 */
public class CsvFileSink implements Sink<Event> {
    private final String path;
    private final String[] header;
    private final Column[] columns;

    public CsvFileSink(String path, String[] header, Column... columns) {
        this.path = path;
        this.header = header;
        this.columns = columns;
    }

    /** One output column: the stream's tag, the key, the event time or a field by index. */
    public static class Column implements Serializable {
        final char what;
        final String tag;
        final int field;

        private Column(char what, String tag, int field) {
            this.what = what;
            this.tag = tag;
            this.field = field;
        }

        public static Column tag(String tag) { return new Column('t', tag, -1); }
        public static Column key() { return new Column('k', null, -1); }
        public static Column ts() { return new Column('s', null, -1); }
        public static Column field(int index) { return new Column('f', null, index); }
    }

    @Override
    public SinkWriter<Event> createWriter(WriterInitContext context) throws IOException {
        return new Writer(path, header, columns);
    }

    /** A field as the csv crate writes it: quoted when it holds a comma, quote, CR or LF. */
    static String quote(String field) {
        boolean needs = false;
        for (int i = 0; i < field.length() && !needs; i++) {
            char c = field.charAt(i);
            needs = c == ',' || c == '"' || c == '\n' || c == '\r';
        }
        return needs ? "\"" + field.replace("\"", "\"\"") + "\"" : field;
    }

    static String row(String[] fields) {
        if (fields.length == 1 && fields[0].isEmpty()) return "\"\"";
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) line.append(',');
            line.append(quote(fields[i]));
        }
        return line.toString();
    }

    static class Writer implements SinkWriter<Event> {
        private final Path target;
        private final Path temp;
        private final FileSystem fs;
        private final Column[] columns;
        private final String[] fields;
        private BufferedWriter out;

        Writer(String path, String[] header, Column[] columns) throws IOException {
            this.target = new Path(path);
            this.fs = target.getFileSystem();
            this.temp = new Path(target.getParent(), "." + target.getName() + "." + ProcessHandle.current().pid() + ".part");
            this.columns = columns;
            this.fields = new String[columns.length];
            out = new BufferedWriter(new OutputStreamWriter(fs.create(temp, FileSystem.WriteMode.OVERWRITE), StandardCharsets.UTF_8), 1 << 16);
            out.write(row(header));
            out.write('\n');
        }

        @Override
        public void write(Event e, Context context) throws IOException {
            for (int i = 0; i < columns.length; i++) {
                Column c = columns[i];
                switch (c.what) {
                    case 't': fields[i] = c.tag; break;
                    case 'k': fields[i] = e.key; break;
                    case 's': fields[i] = Long.toString(e.ts); break;
                    default:
                        fields[i] = RustFormat.f64(c.field < e.values.length ? e.values[c.field] : Double.NaN);
                }
            }
            out.write(row(fields));
            out.write('\n');
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            if (!endOfInput || out == null) return;
            out.close();
            out = null;
            if (!fs.rename(temp, target)) {
                throw new IOException("cannot rename " + temp + " to " + target);
            }
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                // The input did not end (cancelled or failed): leave no partial file behind.
                out.close();
                out = null;
                fs.delete(temp, false);
            }
        }
    }
}
