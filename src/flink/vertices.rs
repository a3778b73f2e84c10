//! From a running Flink job back to the graph: which vertex runs which nodes (operators are
//! named `<node> [#<id>]`; chained operators share a vertex), per-node record counts from the
//! job's accumulators, and the same `NodeStatus` a local run reports, so cards and wires show a
//! Flink job exactly as they show a local run.

use super::rest::{JobDetails, Vertex};
use super::spec::{FlinkOp, JobSpec};
use crate::exec::{NodeState, NodeStatus};
use crate::graph::NodeId;
use std::collections::BTreeMap;

/// The node ids in a vertex name, in order: "Source: source [#1] file -> watermark [#2]".
pub fn node_ids_in(name: &str) -> Vec<NodeId> {
    let mut ids = Vec::new();
    let mut rest = name;
    while let Some(at) = rest.find("[#") {
        let after = &rest[at + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if let (Ok(id), true) = (
            digits.parse::<u32>(),
            after[digits.len()..].starts_with(']'),
        ) && !ids.contains(&NodeId(id))
        {
            ids.push(NodeId(id));
        }
        rest = after;
    }
    ids
}

/// For each job node, the index of the vertex that runs it. Partition and Merge nodes are no
/// Flink operator (they are how records reach the next one): they belong to the vertex of
/// their first consumer.
pub fn vertex_of_nodes(job: &JobSpec, vertices: &[Vertex]) -> Vec<Option<usize>> {
    let mut by_id: BTreeMap<NodeId, usize> = BTreeMap::new();
    for (v, vertex) in vertices.iter().enumerate() {
        for id in node_ids_in(&vertex.name) {
            by_id.entry(id).or_insert(v);
        }
    }
    let mut out: Vec<Option<usize>> = job
        .nodes
        .iter()
        .map(|n| by_id.get(&n.id).copied())
        .collect();
    // Edges-only nodes take their consumer's vertex (latest first, so chains of them resolve).
    for i in (0..job.nodes.len()).rev() {
        if out.get(i).copied().flatten().is_none() {
            let consumer = job
                .consumers(i, 0)
                .find_map(|c| out.get(c).copied().flatten());
            if let Some(slot) = out.get_mut(i) {
                *slot = consumer;
            }
        }
    }
    out
}

/// Per node: records in, records out per output port, late, window firings, skipped rows —
/// from Flowbook's accumulators where a node changes the count, and from its inputs where it
/// does not (watermarks, partitions, maps, aggregates, merges pass every record on).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeCounts {
    pub records_in: u64,
    pub port_out: Vec<u64>,
    pub late: u64,
    pub firings: u64,
    pub skipped: u64,
}

pub fn node_counts(job: &JobSpec, accumulators: &BTreeMap<String, u64>) -> Vec<NodeCounts> {
    let acc = |id: NodeId, what: &str| {
        accumulators
            .get(&format!("flowbook.node.{}.{what}", id.0))
            .copied()
            .unwrap_or(0)
    };
    let mut counts: Vec<NodeCounts> = Vec::with_capacity(job.nodes.len());
    for node in &job.nodes {
        let records_in: u64 = node
            .inputs
            .iter()
            .filter_map(|i| counts.get(i.from).and_then(|c| c.port_out.get(i.port)))
            .sum();
        let mut c = NodeCounts {
            records_in,
            ..NodeCounts::default()
        };
        let sources_out = |c: &mut NodeCounts, out: u64| {
            // A source counts what it reads as its input too, as a local run does.
            c.records_in = out;
            vec![out]
        };
        c.port_out = match &node.op {
            FlinkOp::CsvSource(_) => {
                c.skipped = acc(node.id, "skipped");
                sources_out(&mut c, acc(node.id, "out"))
            }
            FlinkOp::Generator(_) => sources_out(&mut c, acc(node.id, "out")),
            FlinkOp::Filter { .. } => vec![acc(node.id, "out")],
            FlinkOp::Window(_) => {
                c.firings = acc(node.id, "firings");
                c.late = acc(node.id, "late");
                vec![c.firings, c.late]
            }
            FlinkOp::Watermark { .. }
            | FlinkOp::Partition { .. }
            | FlinkOp::Merge
            | FlinkOp::Map { .. }
            | FlinkOp::Fault { .. }
            | FlinkOp::Aggregate { .. } => vec![records_in],
            FlinkOp::CsvSink { .. } | FlinkOp::NullSink => Vec::new(),
        };
        counts.push(c);
    }
    counts
}

/// A Flink vertex status as a card's state.
pub fn node_state(status: &str) -> NodeState {
    match status {
        "FINISHED" => NodeState::Finished,
        "FAILED" => NodeState::Failed,
        "CANCELED" | "CANCELING" => NodeState::Stopped,
        _ => NodeState::Running,
    }
}

/// What one poll of the job saw, per vertex (by index in the job's vertex list).
#[derive(Clone, Debug, Default)]
pub struct VertexSample {
    pub backpressure: f32,
    pub watermark: Option<i64>,
}

/// The node a failure belongs to: named in Flowbook's own exceptions ("[flowbook node 4 …]"),
/// else the first node of the task that failed.
pub fn failed_node(job: &JobSpec, message: &str, task: Option<&str>) -> Option<NodeId> {
    if let Some(at) = message.find("[flowbook node ") {
        let digits: String = message[at + 15..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(id) = digits.parse::<u32>()
            && job.node(NodeId(id)).is_some()
        {
            return Some(NodeId(id));
        }
    }
    task.and_then(|t| node_ids_in(t).first().copied())
}

/// Statuses of every node for one poll. `previous` holds the counts of the last poll and how
/// many seconds ago it was, for rates.
pub struct StatusInput<'a> {
    pub job: &'a JobSpec,
    pub details: Option<&'a JobDetails>,
    pub counts: &'a [NodeCounts],
    pub samples: &'a [VertexSample],
    pub previous: Option<(&'a [NodeCounts], f64)>,
    pub failure: Option<(NodeId, String)>,
}

impl StatusInput<'_> {
    /// A finished bounded job: every watermark reached +∞ and rates are over the whole run.
    fn finished(&self) -> Option<f64> {
        let d = self.details?;
        (d.state.0 == "FINISHED").then(|| (d.duration_ms as f64 / 1e3).max(1e-3))
    }
}

pub fn statuses(input: &StatusInput<'_>) -> Vec<NodeStatus> {
    let vertices = input.details.map(|d| d.vertices.as_slice()).unwrap_or(&[]);
    let vertex_of = vertex_of_nodes(input.job, vertices);
    let job_state = input
        .details
        .map(|d| d.state.0.as_str())
        .unwrap_or("CREATED");
    input
        .job
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let counts = input.counts.get(i).cloned().unwrap_or_default();
            let vertex = vertex_of.get(i).copied().flatten();
            let status = vertex
                .and_then(|v| vertices.get(v))
                .map_or(job_state, |v| v.status.as_str());
            let sample = vertex.and_then(|v| input.samples.get(v));
            let records_out: u64 = counts.port_out.iter().sum();
            let finished = input.finished();
            let rates = if let Some(seconds) = finished {
                Some((
                    counts.records_in as f64 / seconds,
                    records_out as f64 / seconds,
                ))
            } else {
                input.previous.and_then(|(before, dt)| {
                    let b = before.get(i)?;
                    let dt = dt.max(1e-3);
                    let before_out: u64 = b.port_out.iter().sum();
                    Some((
                        counts.records_in.saturating_sub(b.records_in) as f64 / dt,
                        records_out.saturating_sub(before_out) as f64 / dt,
                    ))
                })
            };
            let failure = input.failure.as_ref().filter(|(id, _)| *id == node.id);
            let mut state = node_state(status);
            if failure.is_some() {
                state = NodeState::Failed;
            } else if state == NodeState::Failed {
                // Other nodes of a failed job were stopped by the failure, not failing themselves.
                state = NodeState::Stopped;
            }
            let is_source = node.inputs.is_empty();
            NodeStatus {
                id: node.id,
                name: node.name.clone(),
                state,
                records_in: counts.records_in,
                records_out,
                in_per_s: rates.map_or(0.0, |r| r.0),
                out_per_s: rates.map_or(0.0, |r| r.1),
                watermark: if finished.is_some() {
                    Some(i64::MAX)
                } else if is_source {
                    None
                } else {
                    sample.and_then(|s| s.watermark)
                },
                max_event_time: None,
                late: counts.late,
                skipped: counts.skipped,
                state_entries: 0,
                window_firings: counts.firings,
                backpressure: sample.map_or(0.0, |s| s.backpressure),
                error: failure.map(|(_, m)| m.clone()),
                recent_windows: Vec::new(),
                last_metrics: Vec::new(),
                port_out: counts.port_out.clone(),
                instance_in: Vec::new(),
                skew: None,
                preview: Vec::new(),
            }
        })
        .collect()
}

/// How the job's vertices run the graph's nodes, one line per vertex, saying which nodes
/// share a vertex because Flink chained their operators.
pub fn describe_vertices(job: &JobSpec, vertices: &[Vertex]) -> Vec<String> {
    let vertex_of = vertex_of_nodes(job, vertices);
    vertices
        .iter()
        .enumerate()
        .map(|(v, vertex)| {
            let names: Vec<String> = job
                .nodes
                .iter()
                .zip(&vertex_of)
                .filter(|(_, of)| **of == Some(v))
                .map(|(n, _)| match n.op {
                    FlinkOp::Partition { .. } | FlinkOp::Merge => {
                        format!("{} (the exchange into this vertex)", n.name)
                    }
                    _ => n.name.clone(),
                })
                .collect();
            let chained = if names.len() > 1 {
                format!("{} (chained: they share this vertex)", names.join(", "))
            } else {
                names.join(", ")
            };
            format!("×{} {} — {}", vertex.parallelism, vertex.status, chained)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_names_give_their_nodes_in_order() {
        let name =
            "Source: source [#1] file -> source [#1] -> source [#1] event time -> watermark [#2]";
        assert_eq!(node_ids_in(name), vec![NodeId(1), NodeId(2)]);
        assert_eq!(
            node_ids_in("window [#4] -> aggregate [#5] -> Map"),
            vec![NodeId(4), NodeId(5)]
        );
        assert!(node_ids_in("my [#x] node").is_empty());
    }

    #[test]
    fn flowbooks_own_failures_name_their_node() {
        let job = JobSpec {
            name: "t".into(),
            nodes: Vec::new(),
        };
        assert_eq!(
            failed_node(&job, "boom", Some("map [#3] (1/2)")),
            Some(NodeId(3))
        );
        assert_eq!(failed_node(&job, "boom", None), None);
    }
}
