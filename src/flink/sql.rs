//! The same job as a Flink SQL script, where SQL can express it: a CSV table with a WATERMARK,
//! views for filters and maps, window table functions (TUMBLE, HOP, SESSION) grouped per key,
//! and CSV (or blackhole) sink tables. Its header says what SQL cannot promise; a graph SQL
//! cannot express gets a script that says why instead of statements.

use super::java_expr::java_double;
use super::spec::{FlinkOp, JobNode, JobSpec};
use crate::plan::WindowAssigner;
use crate::stream::aggregate::AggregateFn;
use crate::stream::sinks::Column;
use evalexpr::{DefaultNumericTypes, Node, Operator, Value};
use std::fmt::Write as _;

const HEADER: &str = "\
-- What Flink SQL cannot promise (the Java job, FlowbookJob.java, keeps all of it):
--   * Watermarks are periodic, not emitted after every record; with
--     pipeline.auto-watermark-interval = 0 ms (set below) they come as often as Flink checks, and
--     the watermark is `ts - (delay + 1) ms` to match Flowbook's. Even so, which records are late
--     can depend on timing.
--   * Late records are dropped silently: window table functions have no late side output, so a
--     sink of late records gets nothing, and allowed lateness cannot be expressed.
--   * The watermark starts at 0, so records with negative timestamps are never late.
--   * Count windows cannot be expressed, nor HOP windows whose size is not a multiple of the
--     slide; window start and end are written as timestamps (UTC), not epoch milliseconds, and
--     floating-point sums may be added in another order.
";

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The relation name of a node's output in the script.
fn relation(node: &JobNode) -> String {
    let mut out: String = node
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    out.push_str(&format!("_{}", node.id.0));
    quoted(&out)
}

/// A second relation of a node (`source_1_file`).
fn relation_named(node: &JobNode, suffix: &str) -> String {
    let base = relation(node);
    format!("{}_{suffix}`", base.trim_end_matches('`'))
}

/// Renders the script. `source` names the graph file.
pub fn render(job: &JobSpec, source: &str) -> String {
    let mut out = format!(
        "-- {}: the stream part of {source} as Flink SQL, written by `flowbook export`.\n--\n{HEADER}--\n",
        job.name
    );
    match statements(job) {
        Ok(body) => {
            out.push_str("-- Run with: \"$FLINK_HOME/bin/sql-client.sh\" -f job.sql, or where there is no SQL client\n-- (the PyPI distribution has none): \"$FLINK_HOME/bin/flink\" run -c flowbook.SqlScript job.jar job.sql\n\n");
            out.push_str("SET 'pipeline.auto-watermark-interval' = '0 ms';\nSET 'table.local-time-zone' = 'UTC';\n");
            let p = job.nodes.iter().map(|n| n.parallelism).max().unwrap_or(1);
            let _ = writeln!(out, "SET 'parallelism.default' = '{p}';\n");
            out.push_str(&body);
        }
        Err(reasons) => {
            out.push_str("-- This graph cannot be expressed in Flink SQL:\n");
            for r in reasons {
                let _ = writeln!(out, "--   * {r}");
            }
            out.push_str("-- Use the Java job (FlowbookJob.java) instead.\n");
        }
    }
    out
}

fn statements(job: &JobSpec) -> Result<String, Vec<String>> {
    let mut out = String::new();
    let mut reasons = Vec::new();
    let mut inserts = Vec::new();
    for (index, node) in job.nodes.iter().enumerate() {
        if let Err(reason) = statement(job, index, node, &mut out, &mut inserts) {
            reasons.push(format!("{}: {reason}", node.name));
        }
    }
    if !reasons.is_empty() {
        return Err(reasons);
    }
    if inserts.len() > 1 {
        out.push_str("EXECUTE STATEMENT SET BEGIN\n");
        for i in &inserts {
            let _ = writeln!(out, "{i}");
        }
        out.push_str("END;\n");
    } else {
        for i in &inserts {
            let _ = writeln!(out, "{i}");
        }
    }
    Ok(out)
}

fn input_relation(job: &JobSpec, node: &JobNode) -> Result<String, String> {
    let input = node.inputs.first().ok_or("no input")?;
    let from = job.nodes.get(input.from).ok_or("no input")?;
    if input.port == 1 {
        return Err("late records: SQL windows drop them, there is no side output".into());
    }
    Ok(relation(from))
}

fn statement(
    job: &JobSpec,
    index: usize,
    node: &JobNode,
    out: &mut String,
    inserts: &mut Vec<String>,
) -> Result<(), String> {
    let name = relation(node);
    let fields = node.outputs.first().cloned().unwrap_or_default();
    let reads_late = node.inputs.first().is_some_and(|i| i.port == 1);
    if reads_late && matches!(node.op, FlinkOp::CsvSink { .. } | FlinkOp::NullSink) {
        let _ = writeln!(
            out,
            "-- {}: reads late records, which SQL windows drop (no side output): left out.\n",
            node.name
        );
        return Ok(());
    }
    match &node.op {
        FlinkOp::CsvSource(spec) => {
            let mut columns: Vec<(usize, String, &str)> = Vec::new();
            if let Some(k) = spec.key_column {
                columns.push((k, "key".into(), "STRING"));
            }
            if let Some((t, _)) = &spec.time_column {
                columns.push((*t, "ts_ms".into(), "BIGINT"));
            } else {
                return Err("the event time is the row number, which SQL cannot compute".into());
            }
            for (i, n) in &spec.value_columns {
                columns.push((*i, n.clone(), "DOUBLE"));
            }
            columns.sort_by_key(|c| c.0);
            let widest = columns.last().map_or(0, |c| c.0);
            let mut lines = Vec::new();
            for i in 0..=widest {
                match columns.iter().find(|c| c.0 == i) {
                    Some((_, n, ty)) => lines.push(format!("  {} {ty}", quoted(n))),
                    None => lines.push(format!("  {} STRING", quoted(&format!("unused_{i}")))),
                }
            }
            if spec.key_column.is_none() {
                lines.push("  `key` AS ''".into());
            }
            // The header row reads as nulls (a parse error): give it time 0 here, drop it below.
            lines.push("  ts AS TO_TIMESTAMP_LTZ(COALESCE(`ts_ms`, 0), 3)".into());
            let delay = watermark_delay(job, index);
            lines.push(format!(
                "  WATERMARK FOR ts AS ts - INTERVAL {} SECOND",
                literal(&format!("{}", (delay + 1) as f64 / 1000.0))
            ));
            let file = relation_named(node, "file");
            let _ = writeln!(
                out,
                "-- {}: the CSV file (the header and malformed rows read as nulls and are dropped)\nCREATE TABLE {file} (\n{}\n) WITH (\n  'connector' = 'filesystem',\n  'path' = {},\n  'format' = 'csv',\n  'csv.field-delimiter' = {},\n  'csv.ignore-parse-errors' = 'true'\n);\nCREATE TEMPORARY VIEW {name} AS SELECT * FROM {file} WHERE `ts_ms` IS NOT NULL;\n",
                node.name,
                lines.join(",\n"),
                literal(&spec.path.to_string_lossy()),
                literal(&spec.delimiter.to_string()),
            );
        }
        FlinkOp::Generator(_) => {
            return Err(
                "Flowbook's seeded generators have no SQL connector (datagen draws other values)"
                    .into(),
            );
        }
        FlinkOp::Watermark { .. } => {
            let upstream = input_relation(job, node)?;
            let from = node.inputs.first().and_then(|i| job.nodes.get(i.from));
            if !from.is_some_and(|f| matches!(f.op, FlinkOp::CsvSource(_))) {
                return Err("SQL declares watermarks on the source table only".into());
            }
            let _ = writeln!(
                out,
                "-- {}: declared on the source table above\nCREATE TEMPORARY VIEW {name} AS SELECT * FROM {upstream};\n",
                node.name
            );
        }
        FlinkOp::Partition { .. } | FlinkOp::Merge => {
            if node.inputs.len() > 1 {
                let parts: Vec<String> = node
                    .inputs
                    .iter()
                    .filter_map(|i| job.nodes.get(i.from).map(relation))
                    .map(|r| format!("SELECT * FROM {r}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "CREATE TEMPORARY VIEW {name} AS {};\n",
                    parts.join(" UNION ALL ")
                );
            } else {
                let upstream = input_relation(job, node)?;
                let _ = writeln!(
                    out,
                    "-- {}: SQL plans its own exchanges (the windows below group by key)\nCREATE TEMPORARY VIEW {name} AS SELECT * FROM {upstream};\n",
                    node.name
                );
            }
        }
        FlinkOp::Filter { text, .. } => {
            let upstream = input_relation(job, node)?;
            let condition = sql_expr(text)?;
            let _ = writeln!(
                out,
                "-- {}: {text}\nCREATE TEMPORARY VIEW {name} AS SELECT * FROM {upstream} WHERE {condition};\n",
                node.name
            );
        }
        FlinkOp::Map { assignments, .. } => {
            let upstream = input_relation(job, node)?;
            let input_fields = node
                .inputs
                .first()
                .and_then(|i| job.nodes.get(i.from))
                .and_then(|n| n.outputs.first())
                .cloned()
                .unwrap_or_default();
            if assignments.len() > 1 || assignments.iter().any(|a| input_fields.contains(&a.field))
            {
                return Err("only a single assignment of a new field translates to SQL".into());
            }
            let mut select = vec!["*".to_string()];
            for a in assignments {
                select.push(format!(
                    "CAST({} AS DOUBLE) AS {}",
                    sql_expr(&a.text)?,
                    quoted(&a.field)
                ));
            }
            let _ = writeln!(
                out,
                "CREATE TEMPORARY VIEW {name} AS SELECT {} FROM {upstream};\n",
                select.join(", ")
            );
        }
        FlinkOp::Fault { .. } => return Err("the fault injector has no SQL form".into()),
        FlinkOp::Window(spec) => {
            if spec.allowed_lateness_ms != 0 {
                return Err(
                    "allowed lateness cannot be expressed on window table functions".into(),
                );
            }
            let upstream = input_relation(job, node)?;
            let interval = |ms: i64| {
                format!(
                    "INTERVAL {} SECOND",
                    literal(&format!("{}", ms as f64 / 1000.0))
                )
            };
            let tvf = match spec.kind {
                WindowAssigner::Tumbling { size_ms, offset_ms } => {
                    if offset_ms != 0 {
                        format!(
                            "TUMBLE(TABLE {upstream}, DESCRIPTOR(ts), {}, {})",
                            interval(size_ms),
                            interval(offset_ms)
                        )
                    } else {
                        format!(
                            "TUMBLE(TABLE {upstream}, DESCRIPTOR(ts), {})",
                            interval(size_ms)
                        )
                    }
                }
                WindowAssigner::Sliding {
                    size_ms,
                    slide_ms,
                    offset_ms,
                } => {
                    if slide_ms <= 0 || size_ms % slide_ms != 0 {
                        return Err(
                            "HOP needs a window size that is a multiple of the slide".into()
                        );
                    }
                    if offset_ms != 0 {
                        format!(
                            "HOP(TABLE {upstream}, DESCRIPTOR(ts), {}, {}, {})",
                            interval(slide_ms),
                            interval(size_ms),
                            interval(offset_ms)
                        )
                    } else {
                        format!(
                            "HOP(TABLE {upstream}, DESCRIPTOR(ts), {}, {})",
                            interval(slide_ms),
                            interval(size_ms)
                        )
                    }
                }
                WindowAssigner::Session { gap_ms } => {
                    format!(
                        "SESSION(TABLE {upstream} PARTITION BY `key`, DESCRIPTOR(ts), {})",
                        interval(gap_ms)
                    )
                }
                WindowAssigner::Count { .. } | WindowAssigner::CountSliding { .. } => {
                    return Err("count windows cannot be expressed in SQL".into());
                }
            };
            let _ = writeln!(
                out,
                "-- {}: the window table function; its aggregates group by it below\nCREATE TEMPORARY VIEW {name} AS SELECT * FROM TABLE({tvf});\n",
                node.name
            );
        }
        FlinkOp::Aggregate {
            functions,
            stats_indices,
        } => {
            let window = node
                .inputs
                .first()
                .and_then(|i| job.nodes.get(i.from))
                .ok_or("no input")?;
            let FlinkOp::Window(spec) = &window.op else {
                return Err("an aggregate reads a window".into());
            };
            let window_fields = window.outputs.first().cloned().unwrap_or_default();
            let mut select = vec![
                "`key`".to_string(),
                "window_start AS `start`".into(),
                "window_end AS `end`".into(),
            ];
            let mut out_fields = fields.iter().skip(2);
            for &slot in stats_indices {
                let field = spec
                    .stats_fields
                    .get(slot)
                    .and_then(|&i| window_fields.get(i))
                    .ok_or("no field to aggregate")?;
                for f in functions {
                    let call = match f {
                        AggregateFn::Count => "COUNT(*)".to_string(),
                        AggregateFn::Sum => format!("SUM({})", quoted(field)),
                        AggregateFn::Min => format!("MIN({})", quoted(field)),
                        AggregateFn::Max => format!("MAX({})", quoted(field)),
                        AggregateFn::Mean => format!("AVG({})", quoted(field)),
                        AggregateFn::Variance => format!("VAR_POP({})", quoted(field)),
                        AggregateFn::Std => format!("STDDEV_POP({})", quoted(field)),
                    };
                    let alias = out_fields
                        .next()
                        .cloned()
                        .unwrap_or_else(|| f.name().to_owned());
                    select.push(format!("{call} AS {}", quoted(&alias)));
                }
            }
            let _ = writeln!(
                out,
                "CREATE TEMPORARY VIEW {name} AS\nSELECT {}\nFROM {}\nGROUP BY `key`, window_start, window_end;\n",
                select.join(", "),
                relation(window)
            );
        }
        FlinkOp::CsvSink {
            path,
            header,
            columns,
        } => {
            let upstream = input_relation(job, node)?;
            let from = node
                .inputs
                .first()
                .and_then(|i| job.nodes.get(i.from))
                .ok_or("no input")?;
            let from_fields = from.outputs.first().cloned().unwrap_or_default();
            let mut defs = Vec::new();
            let mut select = Vec::new();
            for (h, c) in header.iter().zip(columns) {
                match c {
                    Column::Tag(t) => {
                        defs.push(format!("  {} STRING", quoted(h)));
                        select.push(literal(t));
                    }
                    Column::Key => {
                        defs.push(format!("  {} STRING", quoted(h)));
                        select.push("`key`".into());
                    }
                    Column::Ts => {
                        defs.push(format!("  {} BIGINT", quoted(h)));
                        select.push("`ts_ms`".into());
                    }
                    Column::Field(i) => {
                        let field = from_fields.get(*i).ok_or("unknown field")?;
                        let time = field == "start" || field == "end";
                        defs.push(format!(
                            "  {} {}",
                            quoted(h),
                            if time { "TIMESTAMP(3)" } else { "DOUBLE" }
                        ));
                        select.push(quoted(field));
                    }
                }
            }
            let _ = writeln!(
                out,
                "-- {}: a folder of CSV part files (no header row)\nCREATE TABLE {name} (\n{}\n) WITH (\n  'connector' = 'filesystem',\n  'path' = {},\n  'format' = 'csv'\n);\n",
                node.name,
                defs.join(",\n"),
                literal(&path.to_string_lossy())
            );
            inserts.push(format!(
                "INSERT INTO {name} SELECT {} FROM {upstream};",
                select.join(", ")
            ));
        }
        FlinkOp::NullSink => {
            let upstream = input_relation(job, node)?;
            let _ = writeln!(
                out,
                "CREATE TABLE {name} WITH ('connector' = 'blackhole') LIKE {upstream} (EXCLUDING ALL);\n"
            );
            inserts.push(format!("INSERT INTO {name} SELECT * FROM {upstream};"));
        }
    }
    Ok(())
}

/// The delay of the Watermark node reading this source (0: windows fire at the end only).
fn watermark_delay(job: &JobSpec, source: usize) -> i64 {
    job.consumers(source, 0)
        .filter_map(|c| job.nodes.get(c))
        .find_map(|n| match n.op {
            FlinkOp::Watermark { delay_ms } => Some(delay_ms),
            _ => None,
        })
        .unwrap_or(0)
}

/// An expression as SQL (arithmetic, comparisons, logic and a few functions).
fn sql_expr(text: &str) -> Result<String, String> {
    let tree =
        evalexpr::build_operator_tree::<DefaultNumericTypes>(text).map_err(|e| e.to_string())?;
    sql_node(&tree)
}

fn sql_node(node: &Node<DefaultNumericTypes>) -> Result<String, String> {
    let c = node.children();
    let arg = |i: usize| -> Result<String, String> {
        c.get(i)
            .ok_or_else(|| "missing operand".to_string())
            .and_then(sql_node)
    };
    let binary =
        |op: &str| -> Result<String, String> { Ok(format!("({} {op} {})", arg(0)?, arg(1)?)) };
    match node.operator() {
        Operator::RootNode => match c {
            [only] => sql_node(only),
            _ => Err("not a single expression".into()),
        },
        Operator::Const { value } => match value {
            Value::Int(i) => Ok(i.to_string()),
            Value::Float(x) if x.is_finite() => Ok(format!("CAST({} AS DOUBLE)", java_double(*x))),
            Value::Boolean(b) => Ok(b.to_string().to_uppercase()),
            Value::String(s) => Ok(literal(s)),
            _ => Err("a value SQL cannot write".into()),
        },
        Operator::VariableIdentifierRead { identifier } => Ok(match identifier.as_str() {
            "ts" => "`ts_ms`".into(),
            other => quoted(other),
        }),
        Operator::Add => binary("+"),
        Operator::Sub => binary("-"),
        Operator::Mul => binary("*"),
        Operator::Div => binary("/"),
        Operator::Mod => Ok(format!("MOD({}, {})", arg(0)?, arg(1)?)),
        Operator::Neg => Ok(format!("(-{})", arg(0)?)),
        Operator::Exp => Ok(format!("POWER({}, {})", arg(0)?, arg(1)?)),
        Operator::Eq => binary("="),
        Operator::Neq => binary("<>"),
        Operator::Gt => binary(">"),
        Operator::Lt => binary("<"),
        Operator::Geq => binary(">="),
        Operator::Leq => binary("<="),
        Operator::And => binary("AND"),
        Operator::Or => binary("OR"),
        Operator::Not => Ok(format!("(NOT {})", arg(0)?)),
        Operator::FunctionIdentifier { identifier } => {
            let sql = match identifier.as_str() {
                "math::abs" => "ABS",
                "math::sqrt" => "SQRT",
                "math::ln" => "LN",
                "math::exp" => "EXP",
                "floor" => "FLOOR",
                "ceil" => "CEIL",
                other => return Err(format!("the function `{other}` has no SQL form here")),
            };
            Ok(format!("{sql}({})", arg(0)?))
        }
        other => Err(format!("`{other}` has no SQL form here")),
    }
}
