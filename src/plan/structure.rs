//! Structural checks: versions, names, kinds, parameters, wires, required inputs and cycles.
//! Returns the nodes in topological order when the structure is sound.

use super::Problem;
use crate::catalog::{NodeKind, NodeParams, ParamError};
use crate::graph::{FORMAT_VERSION, Graph, Node, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// Indices into `graph.nodes`, topologically ordered (sources first), with resolved kinds.
pub type Order = Vec<(usize, NodeKind)>;

/// Most nodes a graph may have. Far beyond any drawn graph; it bounds the work validation and
/// the executor do for a generated one (each walk is iterative, but time still grows).
pub const MAX_NODES: usize = 10_000;
/// Most wires a graph may have.
pub const MAX_WIRES: usize = 50_000;

pub fn check(graph: &Graph) -> Result<Order, Vec<Problem>> {
    if graph.nodes.len() > MAX_NODES || graph.edges.len() > MAX_WIRES {
        return Err(vec![Problem::graph(format!(
            "the graph has {} nodes and {} wires; the limits are {MAX_NODES} nodes and {MAX_WIRES} wires",
            graph.nodes.len(),
            graph.edges.len()
        ))]);
    }
    let mut problems = Vec::new();
    if graph.format_version > FORMAT_VERSION {
        problems.push(Problem::graph(format!(
            "format_version {} is from a newer Flowbook; this build reads up to {FORMAT_VERSION}",
            graph.format_version
        )));
    }
    let kinds = check_nodes(graph, &mut problems);
    check_edges(graph, &kinds, &mut problems);
    check_required_inputs(graph, &kinds, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    topological_order(graph, &kinds)
}

fn check_nodes(graph: &Graph, problems: &mut Vec<Problem>) -> BTreeMap<NodeId, NodeKind> {
    let mut kinds = BTreeMap::new();
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for node in &graph.nodes {
        if !ids.insert(node.id) {
            problems.push(Problem::node(
                node,
                format!("id {} is used by another node too", node.id),
            ));
        }
        if !crate::graph::is_valid_name(&node.name) {
            problems.push(Problem::node(
                node,
                "a name must be non-empty and use only letters, digits, '_' and '-'",
            ));
        }
        if !names.insert(node.name.as_str()) {
            problems.push(Problem::node(
                node,
                "another node has the same name; names must be unique",
            ));
        }
        let Some(kind) = NodeKind::from_id(&node.kind) else {
            problems.push(Problem::node(
                node,
                format!(
                    "unknown node kind '{}' (see `flowbook nodes` for the catalogue)",
                    node.kind
                ),
            ));
            continue;
        };
        kinds.insert(node.id, kind);
        for error in NodeParams::new(node, kind.spec()).check() {
            let problem = match &error {
                ParamError::Unknown(name) => Problem::node(
                    node,
                    format!(
                        "{} has no parameter '{name}'; it has: {}",
                        kind.spec().id,
                        kind.spec()
                            .params
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_param(name),
                ParamError::Invalid { name, reason } => {
                    Problem::node(node, reason.to_string()).with_param(name)
                }
            };
            problems.push(problem);
        }
    }
    kinds
}

/// Each node by id, for lookups that stay fast in large graphs (`Graph::node` is a scan).
fn nodes_by_id(graph: &Graph) -> BTreeMap<NodeId, &Node> {
    graph.nodes.iter().map(|n| (n.id, n)).collect()
}

fn check_edges(graph: &Graph, kinds: &BTreeMap<NodeId, NodeKind>, problems: &mut Vec<Problem>) {
    let by_id = nodes_by_id(graph);
    let node = |id: NodeId| by_id.get(&id).copied();
    let mut seen = BTreeSet::new();
    let mut wired_inputs: BTreeMap<(NodeId, &str), usize> = BTreeMap::new();
    for edge in &graph.edges {
        let (Some(from), Some(to)) = (node(edge.from.node), node(edge.to.node)) else {
            let missing = if node(edge.from.node).is_none() {
                edge.from.node
            } else {
                edge.to.node
            };
            problems.push(Problem::graph(format!(
                "a wire {} → {} refers to node {missing}, which does not exist",
                graph.display_name(edge.from.node),
                graph.display_name(edge.to.node)
            )));
            continue;
        };
        if !seen.insert(edge) {
            problems.push(
                Problem::node(to, format!("the wire from {} is drawn twice", from.name))
                    .with_port(&edge.to.port),
            );
            continue;
        }
        let (Some(from_kind), Some(to_kind)) = (kinds.get(&from.id), kinds.get(&to.id)) else {
            continue;
        };
        let Some(out_port) = from_kind.spec().output(&edge.from.port) else {
            problems.push(
                Problem::node(from, format!("has no output port '{}'", edge.from.port))
                    .with_port(&edge.from.port),
            );
            continue;
        };
        let Some(in_port) = to_kind.spec().input(&edge.to.port) else {
            problems.push(
                Problem::node(to, format!("has no input port '{}'", edge.to.port))
                    .with_port(&edge.to.port),
            );
            continue;
        };
        if !in_port.ty.accepts(out_port.ty) {
            problems.push(
                Problem::node(
                    to,
                    format!(
                        "{} cannot feed a {} input (wire from {}.{})",
                        out_port.ty, in_port.ty, from.name, out_port.name
                    ),
                )
                .with_port(in_port.name),
            );
        }
        let count = wired_inputs.entry((to.id, in_port.name)).or_default();
        *count += 1;
        if *count == 2 && !in_port.many {
            problems.push(
                Problem::node(
                    to,
                    "takes one wire; put a Merge node in front to join streams",
                )
                .with_port(in_port.name),
            );
        }
    }
}

fn check_required_inputs(
    graph: &Graph,
    kinds: &BTreeMap<NodeId, NodeKind>,
    problems: &mut Vec<Problem>,
) {
    let wired_ports: BTreeSet<(NodeId, &str)> = graph
        .edges
        .iter()
        .map(|e| (e.to.node, e.to.port.as_str()))
        .collect();
    for node in &graph.nodes {
        let Some(kind) = kinds.get(&node.id) else {
            continue;
        };
        for port in kind.spec().inputs.iter().filter(|p| p.required) {
            let wired = wired_ports.contains(&(node.id, port.name));
            if !wired {
                problems.push(
                    Problem::node(node, format!("input '{}' is not connected", port.name))
                        .with_port(port.name),
                );
            }
        }
    }
}

/// Kahn's algorithm; on a cycle, names it (`a → b → c → a`).
fn topological_order(
    graph: &Graph,
    kinds: &BTreeMap<NodeId, NodeKind>,
) -> Result<Order, Vec<Problem>> {
    let index: BTreeMap<NodeId, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let mut indegree = vec![0usize; graph.nodes.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        if let (Some(&a), Some(&b)) = (index.get(&edge.from.node), index.get(&edge.to.node)) {
            next[a].push(b);
            indegree[b] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| indegree[i] == 0)
        .rev()
        .collect();
    let mut order = Vec::new();
    while let Some(i) = ready.pop() {
        order.push(i);
        for &j in next[i].iter().rev() {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() < graph.nodes.len() {
        let cycle = find_cycle(&next, &indegree);
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|&i| graph.nodes.get(i))
            .map(|n| n.name.as_str())
            .collect();
        let Some(first) = cycle.first().and_then(|&i| graph.nodes.get(i)) else {
            return Err(vec![Problem::graph("the graph has a cycle")]);
        };
        return Err(vec![Problem::node(
            first,
            format!(
                "is part of a cycle: {} → {}; streams must flow one way",
                names.join(" → "),
                first.name
            ),
        )]);
    }
    Ok(order
        .into_iter()
        .filter_map(|i| {
            graph
                .nodes
                .get(i)
                .and_then(|n| kinds.get(&n.id))
                .map(|k| (i, *k))
        })
        .collect())
}

/// Walks from a node left on a cycle until a node repeats; returns the loop.
fn find_cycle(next: &[Vec<usize>], indegree: &[usize]) -> Vec<usize> {
    let Some(start) = (0..indegree.len()).find(|&i| indegree[i] > 0) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut current = start;
    loop {
        let Some(&step) = next[current].iter().find(|&&j| indegree[j] > 0) else {
            return path;
        };
        if let Some(pos) = path.iter().position(|&p| p == step) {
            return path.split_off(pos);
        }
        path.push(step);
        current = step;
    }
}
