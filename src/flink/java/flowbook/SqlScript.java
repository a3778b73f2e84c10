package flowbook;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

/**
 * Runs an exported job.sql as one Flink job, for distributions without the SQL client (the
 * PyPI package has none): `flink run -c flowbook.SqlScript job.jar job.sql`. SET statements
 * configure the table environment; the INSERTs run together as one statement set.
 */
public class SqlScript {
    public static void main(String[] args) throws Exception {
        StringBuilder text = new StringBuilder();
        for (String line : Files.readAllLines(Paths.get(args[0]))) {
            String trimmed = line.trim();
            if (trimmed.startsWith("--") || trimmed.equals("EXECUTE STATEMENT SET BEGIN") || trimmed.equals("END;")) {
                continue;
            }
            text.append(line).append('\n');
        }
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        List<String> inserts = new ArrayList<>();
        for (String statement : text.toString().split(";\\s*\n")) {
            String sql = statement.trim();
            if (sql.isEmpty()) continue;
            if (sql.toUpperCase().startsWith("SET ")) {
                String[] kv = sql.substring(4).split("=", 2);
                env.getConfig().set(unquote(kv[0]), unquote(kv[1]));
            } else if (sql.toUpperCase().startsWith("INSERT ")) {
                inserts.add(sql);
            } else {
                env.executeSql(sql);
            }
        }
        StatementSet set = env.createStatementSet();
        for (String insert : inserts) set.addInsertSql(insert);
        set.execute();
    }

    private static String unquote(String s) {
        s = s.trim();
        return s.startsWith("'") && s.endsWith("'") ? s.substring(1, s.length() - 1) : s;
    }
}
