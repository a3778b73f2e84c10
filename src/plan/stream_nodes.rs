//! Planning of the stream node kinds: each one's typed spec from its parameters (read once),
//! with its expressions compiled, its columns and fields resolved against the input's, and its
//! output fields. A problem names the node and, where one is to blame, the parameter.

use super::infer::{Draft, DraftNode, schema};
use super::params::ParamReader;
use super::spec::{
    AggregateSpec, ClickItems, FaultMode, GeneratorSpec, OpSpec, WindowAssigner, WindowSpec,
};
use super::{GraphLocation, Problem};
use crate::stream::Schema;
use crate::stream::aggregate::{AggregateFn, output_fields};
use crate::stream::assign::{MAX_WINDOWS_PER_RECORD, windows_per_record};
use crate::stream::expr::{check_variables, compile, map_output_fields, parse_assignments};
use crate::stream::pane::PaneSpec;
use crate::stream::partition::Strategy;
use crate::stream::sinks::resolve_columns;
use crate::stream::sources::csv_file::{CsvOptions, NonFinitePolicy, value_field_names};
use crate::stream::sources::{
    ClickSource, GeneratorOptions, KeyOrder, SensorSource, SequenceSource,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The first problem a reader gathered (a choice it could not turn into a meaning).
fn refused(p: ParamReader<'_>) -> Problem {
    match p.finish(()) {
        Err(problem) => problem,
        Ok(()) => Problem::graph("internal: a parameter was refused without a reason"),
    }
}

pub fn csv_source(
    mut p: ParamReader<'_>,
    location: &GraphLocation,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let optional = |text: String| Some(text).filter(|s| !s.trim().is_empty());
    let raw = p.text("path");
    let key_column = optional(p.text("key_column"));
    let time_column = optional(p.text("time_column"));
    let value_columns = p.list("value_columns");
    let has_header = p.bool("has_header");
    let delimiter = p.choice(
        "delimiter",
        &[(",", b','), (";", b';'), ("tab", b'\t'), ("|", b'|')],
    );
    let skip_bad_rows = p.choice("bad_rows", &[("fail", false), ("skip", true)]);
    let non_finite = p.choice(
        "non_finite",
        &[
            ("keep", NonFinitePolicy::Keep),
            ("skip", NonFinitePolicy::Skip),
            ("fail", NonFinitePolicy::Fail),
        ],
    );
    let (Some(delimiter), Some(skip_bad_rows), Some(non_finite)) =
        (delimiter, skip_bad_rows, non_finite)
    else {
        return Err(refused(p));
    };
    let options = CsvOptions {
        path: if raw.trim().is_empty() {
            PathBuf::new()
        } else {
            location.resolve(&raw)
        },
        key_column,
        time_column,
        value_columns,
        has_header,
        delimiter,
        skip_bad_rows,
        non_finite,
    };
    let node = p.node();
    let spec = p.finish(OpSpec::CsvSource(options.clone()))?;
    if options.path.as_os_str().is_empty() {
        return Err(
            Problem::node(node, "no file chosen: set 'path' to a CSV file").with_param("path"),
        );
    }
    // A column the options name that the file lacks is that option's problem, not the path's.
    let names = value_field_names(&options)
        .map_err(|e| Problem::node(node, e.to_string()).with_param(e.param()))?;
    n.outputs = vec![schema(names, None)];
    Ok(spec)
}

/// What every generator reads: bounded/count, start, seed and pacing.
fn generator(p: &mut ParamReader<'_>) -> GeneratorSpec {
    let bounded = p.bool("bounded");
    let count = p.count("count");
    GeneratorSpec {
        options: GeneratorOptions {
            count: bounded.then_some(count),
            start_ms: p.int("start_ms"),
            seed: p.count("seed"),
        },
        rate_per_s: p.float("rate_per_s"),
    }
}

pub fn sequence_source(mut p: ParamReader<'_>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let spec = OpSpec::SequenceSource {
        generator: generator(&mut p),
        keys: p.count("keys"),
        step_ms: p.int("step_ms"),
        per_step: p.count("per_step"),
        key_order: p
            .choice(
                "key_order",
                &[("cycle", KeyOrder::Cycle), ("random", KeyOrder::Random)],
            )
            .unwrap_or_default(),
    };
    n.outputs = vec![schema(strings(SequenceSource::FIELDS), None)];
    p.finish(spec)
}

pub fn sensor_source(mut p: ParamReader<'_>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let spec = OpSpec::SensorSource {
        generator: generator(&mut p),
        sensors: p.count("sensors"),
        interval_ms: p.int("interval_ms"),
        disorder_ms: p.int("disorder_ms"),
        anomaly_rate: p.float("anomaly_rate"),
    };
    n.outputs = vec![schema(strings(SensorSource::FIELDS), None)];
    p.finish(spec)
}

pub fn click_source(mut p: ParamReader<'_>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let spec = OpSpec::ClickSource {
        generator: generator(&mut p),
        users: p.count("users"),
        pages: p.count("pages"),
        think_ms: p.int("think_ms"),
        idle_ms: p.int("idle_ms"),
        items: {
            let items = p.count("items");
            let genres = p.count("genres");
            let affinity = p.float("affinity");
            (items > 0).then_some(ClickItems {
                items,
                genres,
                affinity,
            })
        },
    };
    let fields = match &spec {
        OpSpec::ClickSource { items: Some(_), .. } => ClickSource::ITEM_FIELDS,
        _ => ClickSource::FIELDS,
    };
    n.outputs = vec![schema(strings(fields), None)];
    p.finish(spec)
}

pub fn watermark(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let spec = OpSpec::Watermark {
        delay_ms: p.int("delay_ms"),
    };
    n.outputs = vec![input.clone()];
    p.finish(spec)
}

pub fn partition(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let strategy = p.choice(
        "strategy",
        &[
            ("hash", Strategy::Hash),
            ("round_robin", Strategy::RoundRobin),
            ("broadcast", Strategy::Broadcast),
            ("forward", Strategy::Forward),
        ],
    );
    let parallelism = p.size("parallelism");
    let Some(strategy) = strategy else {
        return Err(refused(p));
    };
    n.outputs = vec![input.clone()];
    p.finish(OpSpec::Partition {
        strategy,
        parallelism,
    })
}

/// A forward partition keeps its upstream's split, so it cannot change the parallelism.
pub fn check_partition(n: &DraftNode, strategy: Strategy, parallelism: usize) -> Option<Problem> {
    (strategy == Strategy::Forward && parallelism != n.parallelism).then(|| {
        Problem::node_named(
            n.id,
            &n.name,
            format!(
                "forward keeps the upstream split of {} sub-streams, but parallelism is {parallelism}; use hash or round_robin to change it",
                n.parallelism
            ),
        )
        .with_param("strategy")
    })
}

pub fn merge(plan: &Draft, input: &Arc<Schema>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    n.parallelism = 1;
    n.keyed = true;
    for i in &n.inputs {
        let other = plan
            .nodes
            .get(i.from)
            .and_then(|u| u.outputs.get(i.from_port));
        if let Some(other) = other
            && other.fields != input.fields
        {
            return Err(Problem::node_named(
                n.id,
                &n.name,
                format!(
                    "inputs have different fields: [{}] and [{}]",
                    input.fields.join(", "),
                    other.fields.join(", ")
                ),
            ));
        }
    }
    n.outputs = vec![input.clone()];
    Ok(OpSpec::Merge)
}

pub fn map(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let text = p.text("assign");
    let node = p.node();
    p.finish(())?;
    let assignments = parse_assignments(&text)
        .map_err(|e| Problem::node(node, e.to_string()).with_param("assign"))?;
    let mut visible = input.fields.clone();
    for (name, expr) in &assignments {
        check_variables(expr, &visible)
            .map_err(|e| Problem::node(node, e.to_string()).with_param("assign"))?;
        if !visible.contains(name) {
            visible.push(name.clone());
        }
    }
    n.outputs = vec![schema(
        map_output_fields(&input.fields, &assignments),
        input.tag.as_deref(),
    )];
    Ok(OpSpec::Map { assignments })
}

pub fn filter(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let text = p.text("predicate");
    let node = p.node();
    p.finish(())?;
    let predicate = compile(&text)
        .and_then(|e| check_variables(&e, &input.fields).map(|()| e))
        .map_err(|e| Problem::node(node, e.to_string()).with_param("predicate"))?;
    n.outputs = vec![input.clone()];
    Ok(OpSpec::Filter { predicate })
}

pub fn fault(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let at_record = p.count("at_record");
    let Some(mode) = p.choice(
        "mode",
        &[("error", FaultMode::Error), ("panic", FaultMode::Panic)],
    ) else {
        return Err(refused(p));
    };
    n.outputs = vec![input.clone()];
    p.finish(OpSpec::Fault { at_record, mode })
}

/// Which window kind `kind` names; the parameters each kind uses are read with it.
#[derive(Clone, Copy)]
enum WindowKind {
    Tumbling,
    Sliding,
    Session,
    Count,
    CountSliding,
}

pub fn window(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let kind = p.choice(
        "kind",
        &[
            ("tumbling", WindowKind::Tumbling),
            ("sliding", WindowKind::Sliding),
            ("session", WindowKind::Session),
            ("count", WindowKind::Count),
            ("count_sliding", WindowKind::CountSliding),
        ],
    );
    let size_ms = p.int("size_ms");
    let slide_ms = p.int("slide_ms");
    let offset_ms = p.int("offset_ms");
    let gap_ms = p.int("gap_ms");
    let count = p.count("count");
    let count_slide = p.count("count_slide");
    let allowed_lateness_ms = p.int("allowed_lateness_ms");
    let state_limit = p.count("state_limit");
    let Some(kind) = kind else {
        return Err(refused(p));
    };
    let assigner = match kind {
        WindowKind::Tumbling => WindowAssigner::Tumbling { size_ms, offset_ms },
        WindowKind::Sliding => WindowAssigner::Sliding {
            size_ms,
            slide_ms,
            offset_ms,
        },
        WindowKind::Session => WindowAssigner::Session { gap_ms },
        WindowKind::Count => WindowAssigner::Count { count },
        WindowKind::CountSliding => WindowAssigner::CountSliding {
            count,
            slide: count_slide,
        },
    };
    let tag = if assigner.is_count() { "C" } else { "W" };
    n.outputs = vec![
        schema(input.fields.clone(), Some(tag)),
        schema(input.fields.clone(), Some("L")),
    ];
    p.finish(OpSpec::Window(WindowSpec {
        assigner,
        allowed_lateness_ms,
        state_limit,
        pane: PaneSpec::default(),
    }))
}

/// Where a window may run, and the parameters Apache Flink refuses, with Flink's rule
/// (`TumblingEventTimeWindows` and `SlidingEventTimeWindows` check `|offset| < size` and
/// `|offset| < slide`). Everything else Flink runs is accepted, including slides longer than
/// the window (records in the gaps belong to no window) and count slides longer than the count.
pub fn check_window(n: &DraftNode, window: &WindowSpec) -> Option<Problem> {
    let problem = |message: String| Problem::node_named(n.id, &n.name, message);
    if n.parallelism > 1 && !n.keyed {
        return Some(problem(format!(
            "runs as {} parallel instances but its input is not partitioned by key; put a Partition node with strategy 'hash' in front",
            n.parallelism
        )));
    }
    let offset_rule = match window.assigner {
        WindowAssigner::Tumbling { size_ms, offset_ms } => {
            Some((offset_ms, "size_ms", size_ms, "tumbling"))
        }
        WindowAssigner::Sliding {
            slide_ms,
            offset_ms,
            ..
        } => Some((offset_ms, "slide_ms", slide_ms, "sliding")),
        WindowAssigner::Session { .. }
        | WindowAssigner::Count { .. }
        | WindowAssigner::CountSliding { .. } => None,
    };
    if let Some((offset, limit_name, limit, kind)) = offset_rule
        && offset.unsigned_abs() >= limit.unsigned_abs()
    {
        return Some(
            problem(format!(
                "offset_ms {offset} is not allowed with {limit_name} {limit}: Flink requires |offset_ms| < {limit_name} for {kind} windows"
            ))
            .with_param("offset_ms"),
        );
    }
    too_many_windows_per_record(window).map(|(param, message)| problem(message).with_param(param))
}

/// A window whose every record would land in more windows than a record may (or than the
/// whole node may hold): one record would take the state or the time of millions.
fn too_many_windows_per_record(window: &WindowSpec) -> Option<(&'static str, String)> {
    let (what, size_name, size, slide_name, slide) = match window.assigner {
        WindowAssigner::Sliding {
            size_ms, slide_ms, ..
        } => ("sliding windows", "size_ms", size_ms, "slide_ms", slide_ms),
        WindowAssigner::CountSliding { count, slide } => (
            "sliding count windows",
            "count",
            i64::try_from(count).unwrap_or(i64::MAX),
            "count_slide",
            i64::try_from(slide).unwrap_or(i64::MAX),
        ),
        WindowAssigner::Tumbling { .. }
        | WindowAssigner::Session { .. }
        | WindowAssigner::Count { .. } => return None,
    };
    let windows = windows_per_record(size, slide);
    let state_limit = window.state_limit.max(1);
    let limit = MAX_WINDOWS_PER_RECORD.min(state_limit);
    (windows > limit).then(|| {
        let which = if limit == state_limit {
            "the node's state_limit"
        } else {
            "the limit"
        };
        (
            slide_name,
            format!(
                "each record would fall into {windows} {what} ({size_name} {size} / {slide_name} {slide}); {which} is {limit}: make {slide_name} larger or {size_name} smaller"
            ),
        )
    })
}

pub fn aggregate(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let names = p.list("functions");
    let fields = p.list("field");
    let node = p.node();
    p.finish(())?;
    let problem = |message: String, param: &str| Problem::node(node, message).with_param(param);
    let mut functions = Vec::new();
    for name in names {
        functions.push(AggregateFn::parse(&name).map_err(|e| problem(e, "functions"))?);
    }
    if functions.is_empty() {
        return Err(problem("choose at least one function".into(), "functions"));
    }
    for field in &fields {
        if !input.fields.contains(field) {
            return Err(problem(
                format!(
                    "no field '{field}' in the window's records; they have: {}",
                    input.fields.join(", ")
                ),
                "field",
            ));
        }
    }
    n.outputs = vec![schema(
        output_fields(&functions, &fields),
        input.tag.as_deref(),
    )];
    Ok(OpSpec::Aggregate(AggregateSpec {
        functions,
        fields,
        stats_indices: Vec::new(),
        fused: false,
    }))
}

pub fn csv_sink(
    mut p: ParamReader<'_>,
    location: &GraphLocation,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    n.parallelism = 1;
    let raw = p.text("path");
    let names = p.list("columns");
    let node = p.node();
    p.finish(())?;
    if raw.trim().is_empty() {
        return Err(Problem::node(node, "no file chosen: set 'path'").with_param("path"));
    }
    let (header, columns) = resolve_columns(&names, &input.fields, input.tag.as_deref())
        .map_err(|e| Problem::node(node, e).with_param("columns"))?;
    n.outputs = Vec::new();
    Ok(OpSpec::CsvSink {
        path: location.resolve(&raw),
        header,
        columns,
    })
}

pub fn null_sink(mut p: ParamReader<'_>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let delay_per_record = Duration::from_micros(p.count("delay_us"));
    n.outputs = Vec::new();
    p.finish(OpSpec::NullSink { delay_per_record })
}
