//! Semantic checks and inference in topological order: each port's fields, each node's
//! parallelism, expressions and columns checked against real fields, and what windows keep.

use super::structure::Order;
use super::{LogicalPlan, PlanInput, PlanNode, Problem, learn};
use crate::catalog::{NodeKind, NodeParams};
use crate::graph::Graph;
use crate::paths::GraphLocation;
use crate::stream::Schema;
use crate::stream::aggregate::{AggregateFn, output_fields};
use crate::stream::assign::{MAX_WINDOWS_PER_RECORD, windows_per_record};
use crate::stream::expr::{check_variables, compile, map_output_fields, parse_assignments};
use crate::stream::pane::PaneSpec;
use crate::stream::partition::Strategy;
use crate::stream::sinks::resolve_columns;
use crate::stream::sources::csv_file::{CsvOptions, NonFinitePolicy, value_field_names};
use std::path::PathBuf;
use std::sync::Arc;

/// The CSV options a CSV source node's parameters describe.
/// Its `path` is resolved against the graph's `location`.
pub fn csv_options(p: &NodeParams<'_>, location: &GraphLocation) -> CsvOptions {
    let optional = |name: &str| Some(p.text(name)).filter(|s| !s.trim().is_empty());
    let raw = p.text("path");
    CsvOptions {
        path: if raw.trim().is_empty() {
            PathBuf::new()
        } else {
            location.resolve(&raw)
        },
        key_column: optional("key_column"),
        time_column: optional("time_column"),
        value_columns: p.list("value_columns"),
        has_header: p.bool("has_header"),
        delimiter: match p.text("delimiter").as_str() {
            ";" => b';',
            "tab" => b'\t',
            "|" => b'|',
            _ => b',',
        },
        skip_bad_rows: p.text("bad_rows") == "skip",
        non_finite: match p.text("non_finite").as_str() {
            "skip" => NonFinitePolicy::Skip,
            "fail" => NonFinitePolicy::Fail,
            _ => NonFinitePolicy::Keep,
        },
    }
}

/// True for window kinds driven by counts rather than event time.
pub fn is_count_window(p: &NodeParams<'_>) -> bool {
    matches!(p.text("kind").as_str(), "count" | "count_sliding")
}

fn schema(fields: Vec<String>, tag: Option<&str>) -> Arc<Schema> {
    Arc::new(Schema {
        fields,
        tag: tag.map(str::to_owned),
    })
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub fn infer(
    graph: &Graph,
    order: &Order,
    location: &GraphLocation,
) -> Result<LogicalPlan, Vec<Problem>> {
    let mut plan = LogicalPlan {
        nodes: Vec::new(),
        location: location.clone(),
    };
    let mut problems = Vec::new();
    for &(graph_index, kind) in order {
        let Some(node) = graph.nodes.get(graph_index) else {
            continue;
        };
        let inputs: Vec<PlanInput> = graph
            .inputs_of(node.id)
            .filter_map(|e| {
                let from = plan.index_of(e.from.node)?;
                let from_port = plan.nodes.get(from)?.spec().output_index(&e.from.port)?;
                let port = kind
                    .spec()
                    .inputs
                    .iter()
                    .position(|p| p.name == e.to.port)?;
                Some(PlanInput {
                    port,
                    from,
                    from_port,
                })
            })
            .collect();
        let mut plan_node = PlanNode {
            id: node.id,
            name: node.name.clone(),
            kind,
            node: node.clone(),
            inputs,
            outputs: Vec::new(),
            parallelism: 1,
            keyed: true,
            pane: None,
            stats_indices: Vec::new(),
            fused: false,
            features: None,
            trainer: None,
            model_parts: Vec::new(),
            batch_fields: Vec::new(),
            model_owner: None,
        };
        match infer_node(&plan, &mut plan_node) {
            Ok(()) => {}
            Err(problem) => {
                problems.push(problem);
                // Keep going so later nodes are still checked structurally: with the node's
                // schemas when it could infer them despite the problem, else empty ones.
                if plan_node.outputs.len() != kind.spec().outputs.len() {
                    plan_node.outputs = kind
                        .spec()
                        .outputs
                        .iter()
                        .map(|_| schema(Vec::new(), None))
                        .collect();
                }
            }
        }
        let index = plan.nodes.len();
        for &part in &plan_node.model_parts {
            if let Some(node) = plan.nodes.get_mut(part) {
                node.model_owner = Some(index);
            }
        }
        plan.nodes.push(plan_node);
    }
    decide_window_panes(&mut plan);
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// Parallelism and keyedness a node's consumers see on its output.
pub(crate) fn output_parallelism(node: &PlanNode) -> (usize, bool) {
    if node.kind == NodeKind::Shard {
        let replicas = usize::try_from(node.params().int("replicas"))
            .unwrap_or(1)
            .max(1);
        return (replicas, replicas == 1);
    }
    if node.kind != NodeKind::Partition {
        return (node.parallelism, node.keyed);
    }
    let p = node.params();
    let n = usize::try_from(p.int("parallelism")).unwrap_or(1).max(1);
    let keyed = match Strategy::parse(&p.text("strategy")) {
        Some(Strategy::Hash) => true,
        Some(Strategy::Forward) => node.keyed,
        _ => n == 1,
    };
    (n, keyed)
}

/// Window parameters Apache Flink refuses, with Flink's rule (`TumblingEventTimeWindows` and
/// `SlidingEventTimeWindows` check `|offset| < size` and `|offset| < slide`). Everything else
/// Flink runs is accepted, including slides longer than the window (records in the gaps
/// belong to no window) and count slides longer than the count.
fn refused_by_flink(p: &NodeParams<'_>) -> Option<(&'static str, String)> {
    let offset = p.int("offset_ms");
    let (limit_name, limit) = match p.text("kind").as_str() {
        "tumbling" => ("size_ms", p.int("size_ms")),
        "sliding" => ("slide_ms", p.int("slide_ms")),
        _ => return None,
    };
    (offset.unsigned_abs() >= limit.unsigned_abs()).then(|| {
        (
            "offset_ms",
            format!(
                "offset_ms {offset} is not allowed with {limit_name} {limit}: Flink requires |offset_ms| < {limit_name} for {} windows",
                p.text("kind")
            ),
        )
    })
}

/// A window whose every record would land in more windows than a record may (or than the
/// whole node may hold): one record would take the state or the time of millions.
fn too_many_windows_per_record(p: &NodeParams<'_>) -> Option<(&'static str, String)> {
    let (what, size_name, size, slide_name, slide) = match p.text("kind").as_str() {
        "sliding" => (
            "sliding windows",
            "size_ms",
            p.int("size_ms"),
            "slide_ms",
            p.int("slide_ms"),
        ),
        "count_sliding" => (
            "sliding count windows",
            "count",
            p.int("count"),
            "count_slide",
            p.int("count_slide"),
        ),
        _ => return None,
    };
    let windows = windows_per_record(size, slide);
    let state_limit = p.int("state_limit").max(1).unsigned_abs();
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

fn infer_node(plan: &LogicalPlan, n: &mut PlanNode) -> Result<(), Problem> {
    let node = n.node.clone();
    let problem = |message: String| Problem::node(&node, message);
    let params = NodeParams::new(&node, n.kind.spec());
    let upstream = n
        .inputs
        .first()
        .and_then(|i| plan.nodes.get(i.from).map(|u| (u, i.from_port)));
    let input: Arc<Schema> = upstream
        .and_then(|(u, port)| u.outputs.get(port).cloned())
        .unwrap_or_default();
    if let Some((u, _)) = upstream {
        (n.parallelism, n.keyed) = output_parallelism(u);
    }
    let fields = input.fields.clone();
    n.outputs = match n.kind {
        NodeKind::CsvSource => {
            let options = csv_options(&params, &plan.location);
            if options.path.as_os_str().is_empty() {
                return Err(
                    problem("no file chosen: set 'path' to a CSV file".into()).with_param("path")
                );
            }
            let names = value_field_names(&options).map_err(|e| problem(e).with_param("path"))?;
            vec![schema(names, None)]
        }
        NodeKind::SequenceSource => vec![schema(
            strings(crate::stream::sources::SequenceSource::FIELDS),
            None,
        )],
        NodeKind::SensorSource => vec![schema(
            strings(crate::stream::sources::SensorSource::FIELDS),
            None,
        )],
        NodeKind::ClickSource => vec![schema(
            strings(crate::stream::sources::ClickSource::FIELDS),
            None,
        )],
        NodeKind::Watermark | NodeKind::Filter | NodeKind::Fault => {
            if n.kind == NodeKind::Filter {
                let text = params.text("predicate");
                compile(&text)
                    .and_then(|e| check_variables(&e, &fields))
                    .map_err(|e| problem(e).with_param("predicate"))?;
            }
            vec![input.clone()]
        }
        NodeKind::Partition => {
            let p = params.int("parallelism");
            if params.text("strategy") == "forward" && p as usize != n.parallelism {
                return Err(problem(format!(
                    "forward keeps the upstream split of {} sub-streams, but parallelism is {p}; use hash or round_robin to change it",
                    n.parallelism
                ))
                .with_param("strategy"));
            }
            vec![input.clone()]
        }
        NodeKind::Merge => {
            n.parallelism = 1;
            n.keyed = true;
            for i in &n.inputs {
                let other = plan
                    .nodes
                    .get(i.from)
                    .and_then(|u| u.outputs.get(i.from_port));
                if let Some(other) = other
                    && other.fields != fields
                {
                    return Err(problem(format!(
                        "inputs have different fields: [{}] and [{}]",
                        fields.join(", "),
                        other.fields.join(", ")
                    )));
                }
            }
            vec![input.clone()]
        }
        NodeKind::Map => {
            let assignments = parse_assignments(&params.text("assign"))
                .map_err(|e| problem(e).with_param("assign"))?;
            let mut visible = fields.clone();
            for (name, expr) in &assignments {
                check_variables(expr, &visible).map_err(|e| problem(e).with_param("assign"))?;
                if !visible.contains(name) {
                    visible.push(name.clone());
                }
            }
            vec![schema(
                map_output_fields(&fields, &assignments),
                input.tag.as_deref(),
            )]
        }
        NodeKind::Window => {
            let tag = if is_count_window(&params) { "C" } else { "W" };
            // The outputs depend only on the input: set them before checking the window, so a
            // refused parameter does not cascade into field errors further down.
            n.outputs = vec![
                schema(fields.clone(), Some(tag)),
                schema(fields.clone(), Some("L")),
            ];
            if n.parallelism > 1 && !n.keyed {
                return Err(problem(format!(
                    "runs as {} parallel instances but its input is not partitioned by key; put a Partition node with strategy 'hash' in front",
                    n.parallelism
                )));
            }
            if let Some((param, message)) = refused_by_flink(&params) {
                return Err(problem(message).with_param(param));
            }
            if let Some((param, message)) = too_many_windows_per_record(&params) {
                return Err(problem(message).with_param(param));
            }
            n.outputs.clone()
        }
        NodeKind::Aggregate => {
            let mut functions = Vec::new();
            for name in params.list("functions") {
                functions.push(
                    AggregateFn::parse(&name).map_err(|e| problem(e).with_param("functions"))?,
                );
            }
            if functions.is_empty() {
                return Err(problem("choose at least one function".into()).with_param("functions"));
            }
            let chosen = params.list("field");
            for field in &chosen {
                if !fields.contains(field) {
                    return Err(problem(format!(
                        "no field '{field}' in the window's records; they have: {}",
                        fields.join(", ")
                    ))
                    .with_param("field"));
                }
            }
            vec![schema(
                output_fields(&functions, &chosen),
                input.tag.as_deref(),
            )]
        }
        NodeKind::CsvSink => {
            n.parallelism = 1;
            if params.text("path").trim().is_empty() {
                return Err(problem("no file chosen: set 'path'".into()).with_param("path"));
            }
            resolve_columns(&params.list("columns"), &fields, input.tag.as_deref())
                .map_err(|e| problem(e).with_param("columns"))?;
            vec![]
        }
        NodeKind::NullSink => vec![],
        NodeKind::DatasetSource => {
            vec![schema(learn::dataset_fields(&params.text("dataset")), None)]
        }
        NodeKind::Split => vec![input.clone(), input.clone()],
        NodeKind::Normalize => {
            for field in params.list("fields") {
                if !fields.contains(&field) {
                    return Err(problem(format!(
                        "no field '{field}'; fields are: {}",
                        fields.join(", ")
                    ))
                    .with_param("fields"));
                }
            }
            vec![input.clone()]
        }
        NodeKind::Batch => learn::infer_batch(plan, n)?,
        NodeKind::Shard
        | NodeKind::Dense
        | NodeKind::Relu
        | NodeKind::LeakyRelu
        | NodeKind::Tanh
        | NodeKind::Sigmoid
        | NodeKind::Softmax
        | NodeKind::Dropout
        | NodeKind::LayerNorm
        | NodeKind::Loss => vec![input.clone()],
        NodeKind::Trainer => learn::infer_trainer(plan, n)?,
        NodeKind::Predict => learn::infer_predict(plan, n)?,
    };
    if n.kind.is_source() {
        n.parallelism = 1;
        n.keyed = true;
    }
    Ok(())
}

/// Windows keep statistics of the fields their aggregates read, and rows only when another
/// kind of node consumes them.
fn decide_window_panes(plan: &mut LogicalPlan) {
    for w in 0..plan.nodes.len() {
        if plan.nodes.get(w).map(|n| n.kind) != Some(NodeKind::Window) {
            continue;
        }
        let fields = plan.nodes[w]
            .input_schema(plan, 0)
            .map(|s| s.fields.clone())
            .unwrap_or_default();
        let mut pane = PaneSpec::default();
        let consumers: Vec<usize> = plan.consumers(w, 0).into_iter().map(|(i, _)| i).collect();
        for c in consumers {
            let Some(consumer) = plan.nodes.get(c) else {
                continue;
            };
            if consumer.kind != NodeKind::Aggregate {
                pane.keep_rows = true;
                continue;
            }
            let chosen = consumer.params().list("field");
            let indices: Vec<usize> = if chosen.is_empty() {
                vec![0]
            } else {
                chosen
                    .iter()
                    .map(|f| fields.iter().position(|g| g == f).unwrap_or(0))
                    .collect()
            };
            let slots = indices
                .into_iter()
                .map(
                    |index| match pane.stats_fields.iter().position(|&f| f == index) {
                        Some(slot) => slot,
                        None => {
                            pane.stats_fields.push(index);
                            pane.stats_fields.len() - 1
                        }
                    },
                )
                .collect();
            if let Some(consumer) = plan.nodes.get_mut(c) {
                consumer.stats_indices = slots;
            }
        }
        let only_consumer = match plan.consumers(w, 0).as_slice() {
            [(c, _)] => Some(*c),
            _ => None,
        };
        if let Some(c) = only_consumer
            && let Some(aggregate) = plan.nodes.get_mut(c)
            && aggregate.kind == NodeKind::Aggregate
            && aggregate.stats_indices == [0]
            && pane.stats_fields.len() == 1
            && !pane.keep_rows
        {
            let functions = aggregate
                .params()
                .list("functions")
                .iter()
                .filter_map(|f| AggregateFn::parse(f).ok())
                .collect();
            aggregate.fused = true;
            pane.fused_aggregate = Some(functions);
        }
        if let Some(window) = plan.nodes.get_mut(w) {
            window.pane = Some(pane);
        }
    }
}
