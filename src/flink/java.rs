//! Writes a job spec as a readable Java DataStream program (`FlowbookJob.java`): one commented
//! block per Flowbook node, in the graph's order, using the support classes in `java/flowbook/`.
//! Every Flink operator is named `<node name> [#<id>]`, which is how a running job's vertices
//! are mapped back to the graph's nodes.

use super::java_expr::{java_double, java_string};
use super::spec::{
    CsvSourceSpec, FlinkOp, GeneratorKind, GeneratorSpec, JobInput, JobNode, JobSpec, WindowSpec,
};
use crate::plan::WindowAssigner;
use crate::stream::partition::Strategy;
use crate::stream::sinks::Column;
use crate::stream::sources::NonFinitePolicy;
use std::fmt::Write as _;

/// The name of the Flink operator(s) of a node: the node's name and id, as the REST API shows.
pub fn operator_name(node: &JobNode) -> String {
    format!("{} [#{}]", node.name, node.id.0)
}

/// A Java identifier for a node's output: its name in camel case and its id (`lateSink7`).
fn variable(node: &JobNode) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in node.name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    format!("{out}{}", node.id.0)
}

/// The Java expression for what arrives on an input wire.
fn wire(job: &JobSpec, input: &JobInput) -> String {
    let Some(from) = job.nodes.get(input.from) else {
        return "null".into();
    };
    match (&from.op, input.port) {
        (FlinkOp::Window(_), 1) => format!("{}Late", variable(from)),
        _ => variable(from),
    }
}

/// Renders the whole job. `source` names the graph file it came from (for the header).
pub fn render(job: &JobSpec, source: &str) -> String {
    let mut body = String::new();
    let mut notes: Vec<String> = Vec::new();
    for node in &job.nodes {
        render_node(job, node, &mut body, &mut notes);
    }
    let mut out = String::new();
    out.push_str(&header(job, source, &notes));
    out.push_str(&body);
    let _ = write!(
        out,
        "\n        env.execute({});\n    }}\n}}\n",
        java_string(&format!("{} (Flowbook)", job.name))
    );
    out
}

fn header(job: &JobSpec, source: &str, notes: &[String]) -> String {
    let mut exactness = String::new();
    for note in notes {
        let _ = writeln!(exactness, " *   - {note}");
    }
    if exactness.is_empty() {
        exactness.push_str(" *   (nothing: this job's results equal `flowbook run`'s exactly)\n");
    }
    format!(
        r#"package flowbook;

import flowbook.CsvFileSink.Column;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.OutputTag;

/**
 * {name}: the stream part of {source} as an Apache Flink DataStream job, written by
 * `flowbook export`. Each block below is one node of the graph; each Flink operator is named
 * "<node> [#<id>]" so Flowbook can show the running job on the graph's cards.
 *
 * Flowbook's semantics, kept exactly: watermarks after every record (not periodic), Flink's
 * window assigners, triggers and allowed lateness, late records on a side output, statistics
 * summed in arrival order, and CSV files written as `flowbook run` writes them (sort the rows to
 * compare: parallel instances interleave). Where results may still differ in the last bit:
{exactness} *
 * Build and run with a Flink 2.3 distribution (FLINK_HOME):
 *   javac -cp "$FLINK_HOME/lib/*" -d classes flowbook/*.java && jar cf job.jar -C classes .
 *   "$FLINK_HOME/bin/flink" run -c flowbook.FlowbookJob job.jar
 * File paths are paths on the machines of the task managers.
 */
public class FlowbookJob {{
    public static void main(String[] args) throws Exception {{
        Configuration config = new Configuration();
        // Like a Flowbook run, a failure ends the job: no restarts.
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
"#,
        name = job.name.replace("*/", "* /"),
        source = source.replace("*/", "* /"),
    )
}

fn render_node(job: &JobSpec, node: &JobNode, out: &mut String, notes: &mut Vec<String>) {
    let var = variable(node);
    let name = java_string(&operator_name(node));
    let p = node.parallelism;
    let id = node.id.0;
    let input = node
        .inputs
        .first()
        .map(|i| wire(job, i))
        .unwrap_or_else(|| "null".into());
    let _ = writeln!(
        out,
        "\n        // {}: {}",
        operator_name(node),
        describe(node)
    );
    match &node.op {
        FlinkOp::CsvSource(spec) => csv_source(out, node, spec, &var, &name),
        FlinkOp::Generator(spec) => generator(out, node, spec, &var, &name, notes),
        FlinkOp::Watermark { delay_ms } => {
            let _ = writeln!(
                out,
                "        DataStream<Event> {var} = {input}\n                .assignTimestampsAndWatermarks(Watermarks.perEvent({delay_ms}L)).name({name}).setParallelism({p});"
            );
        }
        FlinkOp::Partition { strategy } => {
            let (ty, call) = match strategy {
                Strategy::Hash => ("KeyedStream<Event, String>", "keyBy(new ByKey())"),
                Strategy::RoundRobin | Strategy::Shard => ("DataStream<Event>", "rebalance()"),
                Strategy::Broadcast => ("DataStream<Event>", "broadcast()"),
                Strategy::Forward => ("DataStream<Event>", "forward()"),
            };
            let _ = writeln!(out, "        {ty} {var} = {input}.{call};");
        }
        FlinkOp::Merge => {
            let others: Vec<String> = node.inputs.iter().skip(1).map(|i| wire(job, i)).collect();
            if others.is_empty() {
                let _ = writeln!(out, "        DataStream<Event> {var} = {input};");
            } else {
                let _ = writeln!(
                    out,
                    "        DataStream<Event> {var} = {input}.union({});",
                    others.join(", ")
                );
            }
        }
        FlinkOp::Map {
            assignments,
            output_width,
        } => {
            let text: Vec<String> = assignments
                .iter()
                .map(|a| format!("{} = {}", a.field, a.text))
                .collect();
            let _ = writeln!(
                out,
                "        DataStream<Event> {var} = {input}\n                .map(new RecordMap({id}, {}, {}, {output_width}) {{\n                    @Override\n                    protected void assign(Event e, double[] v) {{",
                java_string(&node.name),
                java_string(&text.join("; ")),
            );
            for a in assignments {
                let _ = writeln!(
                    out,
                    "                        v[{}] = {}; // {} = {}",
                    a.index, a.java.code, a.field, a.text
                );
                add_notes(notes, &a.java.notes, node);
            }
            let _ = writeln!(
                out,
                "                    }}\n                }}).name({name}).setParallelism({p});"
            );
        }
        FlinkOp::Filter { text, java } => {
            add_notes(notes, &java.notes, node);
            let _ = writeln!(
                out,
                "        DataStream<Event> {var} = {input}\n                .filter(new CountingFilter({id}, {}, {}) {{\n                    @Override\n                    protected boolean test(Event e, double[] v) {{\n                        return {};\n                    }}\n                }}).name({name}).setParallelism({p});",
                java_string(&node.name),
                java_string(text),
                java.code
            );
        }
        FlinkOp::Fault { at_record } => {
            let _ = writeln!(
                out,
                "        DataStream<Event> {var} = {input}\n                .map(new Fault({id}, {}, {at_record}L)).name({name}).setParallelism({p});",
                java_string(&node.name)
            );
        }
        FlinkOp::Window(spec) => window(job, out, node, spec, &var, &name),
        FlinkOp::Aggregate {
            functions,
            stats_indices,
        } => {
            let names: Vec<String> = functions.iter().map(|f| java_string(f.name())).collect();
            let indices: Vec<String> = stats_indices.iter().map(usize::to_string).collect();
            let _ = write!(
                out,
                "        DataStream<Event> {var} = {input}\n                .map(new AggregateRecord(new String[] {{{}}}, new int[] {{{}}})).name({name}).setParallelism({p})",
                names.join(", "),
                indices.join(", ")
            );
            if from_count_window(job, node) {
                let _ = write!(
                    out,
                    "\n                // Count-window results take their last record's time (Flink stamps them with the end of time).\n                .transform({}, TypeInformation.of(Event.class), new Restamp()).setParallelism({p})",
                    java_string(&format!("{} event time", operator_name(node)))
                );
            }
            out.push_str(";\n");
        }
        FlinkOp::CsvSink {
            path,
            header,
            columns,
        } => {
            let header: Vec<String> = header.iter().map(|h| java_string(h)).collect();
            let columns: Vec<String> = columns
                .iter()
                .map(|c| match c {
                    Column::Tag(t) => format!("Column.tag({})", java_string(t)),
                    Column::Key => "Column.key()".into(),
                    Column::Ts => "Column.ts()".into(),
                    Column::Field(i) => format!("Column.field({i})"),
                })
                .collect();
            let _ = writeln!(
                out,
                "        {input}.sinkTo(new CsvFileSink({},\n                new String[] {{{}}},\n                {}))\n                .name({name}).setParallelism(1);",
                java_string(&path.to_string_lossy()),
                header.join(", "),
                columns.join(", ")
            );
        }
        FlinkOp::NullSink => {
            let _ = writeln!(
                out,
                "        {input}.sinkTo(new DiscardingSink<>()).name({name}).setParallelism({p});"
            );
        }
    }
}

fn add_notes(notes: &mut Vec<String>, new: &[String], node: &JobNode) {
    for note in new {
        let line = format!(
            "{}: {note}, which may round differently from the C library Flowbook uses",
            node.name
        );
        if !notes.contains(&line) {
            notes.push(line);
        }
    }
}

fn from_count_window(job: &JobSpec, node: &JobNode) -> bool {
    node.inputs
        .first()
        .and_then(|i| job.nodes.get(i.from))
        .is_some_and(|w| matches!(&w.op, FlinkOp::Window(spec) if spec.kind.is_count()))
}

/// One line saying what a node does, for the comment above its block.
fn describe(node: &JobNode) -> String {
    match &node.op {
        FlinkOp::CsvSource(spec) => format!("CSV source reading {}", spec.path.display()),
        FlinkOp::Generator(spec) => {
            let kind = match spec.kind {
                GeneratorKind::Sequence { .. } => "keyed sequence",
                GeneratorKind::Sensor { .. } => "sensor readings",
                GeneratorKind::Click { .. } => "clickstream",
            };
            match spec.count {
                Some(n) => format!("{kind} generator, {n} records, seed {}", spec.seed),
                None => format!("{kind} generator, endless, seed {}", spec.seed),
            }
        }
        FlinkOp::Watermark { delay_ms } => {
            format!("bounded out-of-orderness, {delay_ms} ms, a watermark after every record")
        }
        FlinkOp::Partition { strategy } => match strategy {
            Strategy::Hash => "by key (keyBy): the next operators run per key".into(),
            Strategy::RoundRobin | Strategy::Shard => "round robin (rebalance)".into(),
            Strategy::Broadcast => "every record to every instance (broadcast)".into(),
            Strategy::Forward => "instance i to instance i (forward)".into(),
        },
        FlinkOp::Merge => "union of its inputs".into(),
        FlinkOp::Map { .. } => "computes fields".into(),
        FlinkOp::Filter { text, .. } => format!("keeps records where {text}"),
        FlinkOp::Fault { at_record } => format!("fails at record {at_record}"),
        FlinkOp::Window(spec) => {
            let kind = match spec.kind {
                WindowAssigner::Tumbling { size_ms, offset_ms } => {
                    format!("tumbling {size_ms} ms windows (offset {offset_ms} ms)")
                }
                WindowAssigner::Sliding {
                    size_ms,
                    slide_ms,
                    offset_ms,
                } => format!(
                    "sliding {size_ms} ms windows every {slide_ms} ms (offset {offset_ms} ms)"
                ),
                WindowAssigner::Session { gap_ms } => format!("session windows, gap {gap_ms} ms"),
                WindowAssigner::Count { count } => format!("count windows of {count} records"),
                WindowAssigner::CountSliding { count, slide } => {
                    format!("count windows over the last {count} records, every {slide}")
                }
            };
            if spec.kind.is_count() {
                format!("{kind} per key")
            } else {
                format!(
                    "{kind} per key, allowed lateness {} ms, late records to a side output",
                    spec.allowed_lateness_ms
                )
            }
        }
        FlinkOp::Aggregate { functions, .. } => {
            let names: Vec<&str> = functions.iter().map(|f| f.name()).collect();
            format!("{} of each window", names.join(", "))
        }
        FlinkOp::CsvSink { path, .. } => format!("CSV file {}", path.display()),
        FlinkOp::NullSink => "discards records".into(),
    }
}

fn csv_source(out: &mut String, node: &JobNode, spec: &CsvSourceSpec, var: &str, name: &str) {
    let layout = format!("{var}Layout");
    let path = java_string(&spec.path.to_string_lossy());
    let columns: Vec<String> = spec
        .value_columns
        .iter()
        .map(|(i, _)| i.to_string())
        .collect();
    let names: Vec<String> = spec
        .value_columns
        .iter()
        .map(|(_, n)| java_string(n))
        .collect();
    let delimiter = match spec.delimiter {
        '\t' => "'\\t'".to_string(),
        c => format!("'{c}'"),
    };
    let non_finite = match spec.non_finite {
        NonFinitePolicy::Keep => "keep",
        NonFinitePolicy::Skip => "skip",
        NonFinitePolicy::Fail => "fail",
    };
    let _ = writeln!(
        out,
        "        CsvRows.Layout {layout} = new CsvRows.Layout();"
    );
    let _ = writeln!(out, "        {layout}.display = {path};");
    let _ = writeln!(out, "        {layout}.hasHeader = {};", spec.has_header);
    let _ = writeln!(out, "        {layout}.delimiter = {delimiter};");
    if let Some(k) = spec.key_column {
        let _ = writeln!(out, "        {layout}.keyColumn = {k};");
    }
    if let Some((t, time_name)) = &spec.time_column {
        let _ = writeln!(out, "        {layout}.timeColumn = {t};");
        let _ = writeln!(
            out,
            "        {layout}.timeName = {};",
            java_string(time_name)
        );
    }
    let _ = writeln!(
        out,
        "        {layout}.valueColumns = new int[] {{{}}};",
        columns.join(", ")
    );
    let _ = writeln!(
        out,
        "        {layout}.valueNames = new String[] {{{}}};",
        names.join(", ")
    );
    let _ = writeln!(
        out,
        "        {layout}.skipBadRows = {};",
        spec.skip_bad_rows
    );
    let _ = writeln!(out, "        {layout}.nonFinite = \"{non_finite}\";");
    let _ = writeln!(
        out,
        "        DataStream<Event> {var} = env\n                .fromSource(FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path({path})).build(),\n                        WatermarkStrategy.noWatermarks(), {})\n                .setParallelism(1)\n                .flatMap(new CsvRows({}, {}, {layout})).name({name}).setParallelism(1)\n                .assignTimestampsAndWatermarks(Watermarks.timestampsOnly()).name({}).setParallelism(1);",
        java_string(&format!("{} file", operator_name(node))),
        node.id.0,
        java_string(&node.name),
        java_string(&format!("{} event time", operator_name(node))),
    );
}

fn generator(
    out: &mut String,
    node: &JobNode,
    spec: &GeneratorSpec,
    var: &str,
    name: &str,
    notes: &mut Vec<String>,
) {
    let function = match spec.kind {
        GeneratorKind::Sequence { keys, step_ms } => format!(
            "new Generators.Sequence({}L, {}L, {keys}L, {step_ms}L)",
            spec.start_ms, spec.seed
        ),
        GeneratorKind::Sensor {
            sensors,
            interval_ms,
            disorder_ms,
            anomaly_rate,
        } => {
            notes.push(format!(
                "{}: sensor values go through sin, ln and cos (Java's Math), which may round differently from the C library Flowbook uses",
                node.name
            ));
            format!(
                "new Generators.Sensor({}L, {}L, {sensors}L, {interval_ms}L, {disorder_ms}L, {})",
                spec.start_ms,
                spec.seed,
                java_double(anomaly_rate)
            )
        }
        GeneratorKind::Click {
            users,
            pages,
            think_ms,
            idle_ms,
        } => {
            notes.push(format!(
                "{}: click times go through ln (Java's Math), which may round differently from the C library Flowbook uses",
                node.name
            ));
            format!(
                "new Generators.Click({}L, {}L, {users}L, {pages}L, {think_ms}L, {idle_ms}L)",
                spec.start_ms, spec.seed
            )
        }
    };
    let count = spec
        .count
        .map_or("Long.MAX_VALUE".to_string(), |n| format!("{n}L"));
    let limiter = if spec.rate_per_s > 0.0 {
        format!(
            "RateLimiterStrategy.perSecond({}), ",
            java_double(spec.rate_per_s)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "        DataStream<Event> {var} = env\n                .fromSource(new DataGeneratorSource<>({function}, {count}, {limiter}TypeInformation.of(Event.class)),\n                        Watermarks.timestampsOnly(), {name})\n                .setParallelism(1)\n                .map(new Counters.Count<Event>({}, \"out\")).returns(Event.class).name({}).setParallelism(1);",
        node.id.0,
        java_string(&format!("{} count", operator_name(node)))
    );
}

fn window(
    job: &JobSpec,
    out: &mut String,
    node: &JobNode,
    spec: &WindowSpec,
    var: &str,
    name: &str,
) {
    let id = node.id.0;
    let p = node.parallelism;
    let keyed = keyed_input(job, node);
    let tag = format!("{var}LateTag");
    let _ = writeln!(
        out,
        "        OutputTag<Event> {tag} = new OutputTag<>({}, TypeInformation.of(Event.class));",
        java_string(&format!("{} late", operator_name(node)))
    );
    let windowing = match spec.kind {
        WindowAssigner::Tumbling { size_ms, offset_ms } => format!(
            ".window(TumblingEventTimeWindows.of(Duration.ofMillis({size_ms}L), Duration.ofMillis({offset_ms}L)))\n                .allowedLateness(Duration.ofMillis({}L))",
            spec.allowed_lateness_ms
        ),
        WindowAssigner::Sliding {
            size_ms,
            slide_ms,
            offset_ms,
        } => format!(
            ".window(SlidingEventTimeWindows.of(Duration.ofMillis({size_ms}L), Duration.ofMillis({slide_ms}L), Duration.ofMillis({offset_ms}L)))\n                .allowedLateness(Duration.ofMillis({}L))",
            spec.allowed_lateness_ms
        ),
        WindowAssigner::Session { gap_ms } => format!(
            ".window(EventTimeSessionWindows.withGap(Duration.ofMillis({gap_ms}L)))\n                .allowedLateness(Duration.ofMillis({}L))",
            spec.allowed_lateness_ms
        ),
        WindowAssigner::Count { count } => format!(".countWindow({count}L)"),
        WindowAssigner::CountSliding { count, slide } => {
            format!(".countWindow({count}L, {slide}L)")
        }
    };
    let fields: Vec<String> = spec.stats_fields.iter().map(usize::to_string).collect();
    let emit = if spec.kind.is_count() {
        "EmitCountWindow"
    } else {
        "EmitTimeWindow"
    };
    let _ = writeln!(
        out,
        "        SingleOutputStreamOperator<WindowResult> {var} = {keyed}\n                {windowing}\n                .sideOutputLateData({tag})\n                .aggregate(new WindowStats({}), new {emit}({id}, {}))\n                .name({name}).uid(\"flowbook-node-{id}\").setParallelism({p});",
        fields.join(", "),
        spec.stats_fields.is_empty()
    );
    let _ = writeln!(
        out,
        "        DataStream<Event> {var}Late = {var}.getSideOutput({tag})\n                .map(new Counters.Count<Event>({id}, \"late\")).returns(Event.class).name({}).setParallelism({p});",
        java_string(&format!("{} late", operator_name(node)))
    );
    let index = job.nodes.iter().position(|n| n.id == node.id);
    let late_used = index.is_some_and(|i| job.consumers(i, 1).next().is_some());
    if !late_used {
        let _ = writeln!(
            out,
            "        // Nothing reads the late records; they are counted, then dropped.\n        {var}Late.sinkTo(new DiscardingSink<>()).name({}).setParallelism({p});",
            java_string(&format!("{} late (unused)", operator_name(node)))
        );
    }
}

/// The window's input as a keyed stream: the keyBy itself, a keyBy of a single stream, or a
/// stream already partitioned by key upstream (reinterpreted, so no record moves again and
/// each instance keeps the watermarks of its own sub-stream, as in Flowbook).
fn keyed_input(job: &JobSpec, node: &JobNode) -> String {
    let Some(input) = node.inputs.first() else {
        return "null".into();
    };
    let wire = wire(job, input);
    let from = job.nodes.get(input.from);
    if from.is_some_and(|f| {
        matches!(
            f.op,
            FlinkOp::Partition {
                strategy: Strategy::Hash
            }
        )
    }) {
        wire
    } else if node.parallelism == 1 && from.is_none_or(|f| f.parallelism == 1) {
        format!("{wire}.keyBy(new ByKey())")
    } else {
        format!("DataStreamUtils.reinterpretAsKeyedStream({wire}, new ByKey())")
    }
}
