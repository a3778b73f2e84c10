//! Planning in topological order: each node's inputs, parallelism, output fields and typed
//! spec (its parameters read once, names resolved against real fields); then what windows
//! keep, and how every wire routes. The one exhaustive match over node kinds is `plan_node`.

use super::learn;
use super::params::ParamReader;
use super::routing::finish;
use super::spec::OpSpec;
use super::stream_nodes as stream;
use super::structure::Order;
use super::trainer;
use super::{LogicalPlan, PlanInput, PlanNode, Problem, Routing};
use crate::catalog::NodeKind;
use crate::graph::{Graph, Node};
use crate::paths::GraphLocation;
use crate::stream::Schema;
use crate::stream::pane::PaneSpec;
use crate::stream::partition::Strategy;
use std::sync::Arc;

/// A plan being built: a node whose parameters have problems has no spec.
pub type Draft = LogicalPlan<Option<OpSpec>>;
pub type DraftNode = PlanNode<Option<OpSpec>>;

pub fn schema(fields: Vec<String>, tag: Option<&str>) -> Arc<Schema> {
    Arc::new(Schema {
        fields,
        tag: tag.map(str::to_owned),
    })
}

pub fn infer(
    graph: &Graph,
    order: &Order,
    location: &GraphLocation,
) -> Result<LogicalPlan, Vec<Problem>> {
    let mut plan = Draft {
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
                let from_port = plan.nodes.get(from)?.catalog().output_index(&e.from.port)?;
                let port = kind
                    .spec()
                    .inputs
                    .iter()
                    .position(|p| p.name == e.to.port)?;
                Some(PlanInput {
                    port,
                    from,
                    from_port,
                    routing: Routing::Local,
                })
            })
            .collect();
        let mut draft = DraftNode {
            id: node.id,
            name: node.name.clone(),
            kind,
            inputs,
            outputs: Vec::new(),
            parallelism: 1,
            keyed: true,
            spec: None,
        };
        match plan_node(&plan, node, &mut draft) {
            Ok(spec) => {
                if let Some(problem) = check_placement(&draft, &spec) {
                    problems.push(problem);
                }
                draft.spec = Some(spec);
            }
            Err(problem) => {
                problems.push(problem);
                // Keep going so later nodes are still checked structurally: with the node's
                // schemas when it could infer them despite the problem, else empty ones.
                if draft.outputs.len() != kind.spec().outputs.len() {
                    draft.outputs = kind
                        .spec()
                        .outputs
                        .iter()
                        .map(|_| schema(Vec::new(), None))
                        .collect();
                }
            }
        }
        plan.nodes.push(draft);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    decide_window_panes(&mut plan);
    finish(plan)
}

/// Parallelism and keyedness a node's consumers see on its output.
pub fn output_parallelism(node: &DraftNode) -> (usize, bool) {
    match &node.spec {
        Some(OpSpec::Shard { replicas }) => {
            let replicas = (*replicas).max(1);
            (replicas, replicas == 1)
        }
        Some(OpSpec::Partition {
            strategy,
            parallelism,
        }) => {
            let n = (*parallelism).max(1);
            let keyed = match strategy {
                Strategy::Hash => true,
                Strategy::Forward => node.keyed,
                Strategy::RoundRobin | Strategy::Broadcast | Strategy::Shard => n == 1,
            };
            (n, keyed)
        }
        _ => (node.parallelism, node.keyed),
    }
}

/// The node's spec from its parameters and inputs: ONE exhaustive match over node kinds, so a
/// new kind makes the compiler point here.
fn plan_node(plan: &Draft, node: &Node, n: &mut DraftNode) -> Result<OpSpec, Problem> {
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
    let p = ParamReader::new(node, n.kind);
    let location = &plan.location;
    let spec = match n.kind {
        NodeKind::CsvSource => stream::csv_source(p, location, n),
        NodeKind::SequenceSource => stream::sequence_source(p, n),
        NodeKind::SensorSource => stream::sensor_source(p, n),
        NodeKind::ClickSource => stream::click_source(p, n),
        NodeKind::Watermark => stream::watermark(p, &input, n),
        NodeKind::Partition => stream::partition(p, &input, n),
        NodeKind::Merge => stream::merge(plan, &input, n),
        NodeKind::Map => stream::map(p, &input, n),
        NodeKind::Filter => stream::filter(p, &input, n),
        NodeKind::Window => stream::window(p, &input, n),
        NodeKind::Aggregate => stream::aggregate(p, &input, n),
        NodeKind::CsvSink => stream::csv_sink(p, location, &input, n),
        NodeKind::NullSink => stream::null_sink(p, n),
        NodeKind::Fault => stream::fault(p, &input, n),
        NodeKind::DatasetSource => learn::dataset_source(p, n),
        NodeKind::Split => learn::split(p, &input, n),
        NodeKind::Normalize => learn::normalize(p, &input, n),
        NodeKind::Batch => learn::batch(p, plan, n),
        NodeKind::Shard => learn::shard(p, &input, n),
        NodeKind::Layer(layer) => learn::layer(p, layer, &input, n),
        NodeKind::Loss => learn::loss(p, &input, n),
        NodeKind::Trainer => trainer::trainer(p, plan, n),
        NodeKind::Predict => learn::predict(p, plan, n),
    };
    if n.kind.is_source() {
        n.parallelism = 1;
        n.keyed = true;
    }
    spec
}

/// Checks of a planned node against where it sits (its parallelism and keys), reported without
/// discarding its spec, so nodes after it are still planned as the user meant.
fn check_placement(n: &DraftNode, spec: &OpSpec) -> Option<Problem> {
    match spec {
        OpSpec::Partition {
            strategy,
            parallelism,
        } => stream::check_partition(n, *strategy, *parallelism),
        OpSpec::Window(window) => stream::check_window(n, window),
        _ => None,
    }
}

/// Windows keep statistics of the fields their aggregates read, and rows only when another
/// kind of node consumes them.
fn decide_window_panes(plan: &mut Draft) {
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
            let chosen = match &consumer.spec {
                Some(OpSpec::Aggregate(aggregate)) => aggregate.fields.clone(),
                _ => Vec::new(),
            };
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
            if let Some(Some(OpSpec::Aggregate(aggregate))) =
                plan.nodes.get_mut(c).map(|n| &mut n.spec)
            {
                aggregate.stats_indices = slots;
            }
        }
        let only_consumer = match plan.consumers(w, 0).as_slice() {
            [(c, _)] => Some(*c),
            _ => None,
        };
        if let Some(c) = only_consumer
            && let Some(Some(OpSpec::Aggregate(aggregate))) =
                plan.nodes.get_mut(c).map(|n| &mut n.spec)
            && aggregate.stats_indices == [0]
            && pane.stats_fields.len() == 1
            && !pane.keep_rows
        {
            aggregate.fused = true;
            pane.fused_aggregate = Some(aggregate.functions.clone());
        }
        if let Some(Some(OpSpec::Window(window))) = plan.nodes.get_mut(w).map(|n| &mut n.spec) {
            window.pane = pane;
        }
    }
}
