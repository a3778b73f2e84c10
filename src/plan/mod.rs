//! From a graph document to a checked logical plan: every problem found (naming the node, and
//! the port or parameter), the nodes in topological order, each port's fields, and each node's
//! parallelism. The editor shows `validate`'s problems live; `exec` runs a `LogicalPlan`.

mod files;
mod infer;
mod learn;
mod params;
mod routing;
pub mod spec;
mod stream_nodes;
mod structure;
pub mod timers;
mod trainer;

#[cfg(test)]
pub(crate) mod sketch;
#[cfg(test)]
mod tests;

pub use spec::{
    AggregateSpec, FaultMode, GeneratorSpec, OpSpec, SplitBy, TrainerSpec, WindowAssigner,
    WindowSpec,
};

pub use structure::{MAX_NODES, MAX_WIRES};

use crate::catalog::{NodeKind, NodeSpec};
use crate::graph::{Graph, Node, NodeId};
pub use crate::paths::GraphLocation;
use crate::stream::Schema;
use crate::stream::partition::Strategy;
pub use files::{check_export_path, file_uses};
use std::fmt;
use std::sync::Arc;

/// One finding of the validator.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub node: Option<NodeId>,
    /// The node's name at the time of the check, for messages.
    pub node_name: Option<String>,
    pub port: Option<String>,
    pub param: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn graph(message: impl Into<String>) -> Self {
        Self {
            node: None,
            node_name: None,
            port: None,
            param: None,
            message: message.into(),
        }
    }

    pub fn node(node: &Node, message: impl Into<String>) -> Self {
        Self::node_named(node.id, &node.name, message)
    }

    /// A problem of the node with this id and name.
    pub fn node_named(id: NodeId, name: &str, message: impl Into<String>) -> Self {
        Self {
            node: Some(id),
            node_name: Some(name.to_owned()),
            port: None,
            param: None,
            message: message.into(),
        }
    }

    pub fn with_port(mut self, port: &str) -> Self {
        self.port = Some(port.to_owned());
        self
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.node_name, &self.param, &self.port) {
            (Some(n), Some(p), _) => write!(f, "{n}.{p}: {}", self.message),
            (Some(n), None, Some(p)) => write!(f, "{n} (port '{p}'): {}", self.message),
            (Some(n), None, None) => write!(f, "{n}: {}", self.message),
            (None, ..) => f.write_str(&self.message),
        }
    }
}

/// An input wire of a plan node, by plan index.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanInput {
    pub port: usize,
    pub from: usize,
    pub from_port: usize,
    /// How items cross this wire; decided once every node is planned.
    pub routing: Routing,
}

/// How items cross a wire: partitioning is a property of the edge, decided by the planner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Handed over on the same thread (the consumer's only input, at the same parallelism).
    Local,
    /// Through bounded channels: each upstream instance spreads its items over the consumer's
    /// instances by this strategy.
    Exchange(Strategy),
    /// Through a channel to the consumer's first instance only (a trainer's test batches:
    /// one replica evaluates).
    FirstInstance,
}

/// A node ready to run: its kind, its typed spec and what the planner decided about it.
/// `S` is `OpSpec` in a finished plan; while planning, a node whose parameters have problems
/// has none yet.
#[derive(Clone, Debug)]
pub struct PlanNode<S = OpSpec> {
    pub id: NodeId,
    pub name: String,
    pub kind: NodeKind,
    pub inputs: Vec<PlanInput>,
    /// Fields (and tag) of each output port; for a Windows port, of the records it holds.
    pub outputs: Vec<Arc<Schema>>,
    /// Instances of this node that run in parallel.
    pub parallelism: usize,
    /// Whether this node's output instances each hold whole keys (hash-partitioned or single).
    pub keyed: bool,
    /// What the node does, every parameter typed.
    pub spec: S,
}

impl<S> PlanNode<S> {
    /// The catalogue's description of the node's kind (ports, parameter docs).
    pub fn catalog(&self) -> &'static NodeSpec {
        self.kind.spec()
    }

    /// Fields of the records arriving on input `port` (from the upstream's schema).
    pub fn input_schema<'a>(
        &self,
        plan: &'a LogicalPlan<S>,
        port: usize,
    ) -> Option<&'a Arc<Schema>> {
        let input = self.inputs.iter().find(|i| i.port == port)?;
        plan.nodes.get(input.from)?.outputs.get(input.from_port)
    }
}

/// A validated graph, in topological order. `S` as in [`PlanNode`].
#[derive(Clone, Debug)]
pub struct LogicalPlan<S = OpSpec> {
    pub nodes: Vec<PlanNode<S>>,
    /// Where the graph lives: its relative paths were resolved against this folder.
    pub location: GraphLocation,
}

impl<S> LogicalPlan<S> {
    pub fn index_of(&self, id: NodeId) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// (plan index, input) pairs of the nodes fed by `from`'s output `port`.
    pub fn consumers(&self, from: usize, port: usize) -> Vec<(usize, &PlanInput)> {
        self.nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.inputs.iter().map(move |inp| (i, inp)))
            .filter(|(_, inp)| inp.from == from && inp.from_port == port)
            .collect()
    }
}

impl LogicalPlan {
    /// For each node (by plan index), the trainer whose fused operator runs it: its layers and
    /// Loss have one, every other node `None`.
    pub fn model_owners(&self) -> Vec<Option<usize>> {
        let mut owners = vec![None; self.nodes.len()];
        for (trainer, node) in self.nodes.iter().enumerate() {
            if let OpSpec::Trainer(spec) = &node.spec {
                for &part in &spec.model_parts {
                    if let Some(owner) = owners.get_mut(part) {
                        *owner = Some(trainer);
                    }
                }
            }
        }
        owners
    }

    /// A readable description of the plan, as `flowbook check` prints it.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for node in &self.nodes {
            let inputs: Vec<String> = node
                .inputs
                .iter()
                .filter_map(|i| self.nodes.get(i.from).map(|n| n.name.clone()))
                .collect();
            let fields: Vec<String> = node
                .outputs
                .iter()
                .zip(node.catalog().outputs)
                .map(|(s, p)| format!("{}[{}]", p.name, s.fields.join(",")))
                .collect();
            text.push_str(&format!(
                "{:<16} {:<16} ×{:<3} {}{}\n",
                node.name,
                node.catalog().id,
                node.parallelism,
                if inputs.is_empty() {
                    String::new()
                } else {
                    format!("← {}  ", inputs.join(", "))
                },
                fields.join(" ")
            ));
        }
        text
    }
}

/// Every problem with a graph built in code (relative paths against the working directory).
pub fn validate(graph: &Graph) -> Vec<Problem> {
    validate_in(graph, &GraphLocation::working_directory())
}

/// Every problem with a graph that lives at `location`; empty when it can run.
pub fn validate_in(graph: &Graph, location: &GraphLocation) -> Vec<Problem> {
    match plan_in(graph, location) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Plans a graph built in code: relative paths resolve against the working directory.
/// Graphs from files go through [`plan_in`] with the file's location.
pub fn plan(graph: &Graph) -> Result<LogicalPlan, Vec<Problem>> {
    plan_in(graph, &GraphLocation::working_directory())
}

/// Checks a graph and builds its logical plan, or returns all problems found. Relative paths
/// in its parameters resolve against `location`'s folder.
pub fn plan_in(graph: &Graph, location: &GraphLocation) -> Result<LogicalPlan, Vec<Problem>> {
    // Groups are how the editor shows nodes; the plan is built from the flat graph.
    let graph = graph.flattened();
    let order = structure::check(&graph)?;
    let file_problems = files::check(&graph, location);
    match infer::infer(&graph, &order, location) {
        Ok(plan) if file_problems.is_empty() => Ok(plan),
        Ok(_) => Err(file_problems),
        Err(mut problems) => {
            problems.extend(file_problems);
            Err(problems)
        }
    }
}

impl LogicalPlan {
    /// Every file this run reads or writes (see [`file_uses`]).
    pub fn file_uses(&self) -> Vec<crate::paths::FileUse> {
        use crate::paths::FileUse;
        let mut uses = Vec::new();
        if let Some(file) = self.location.file() {
            uses.push(FileUse::input(file, "the graph file"));
        }
        for n in &self.nodes {
            let who = format!("{}.path", n.name);
            match &n.spec {
                OpSpec::CsvSource(options) => uses.push(FileUse::input(options.path.clone(), who)),
                OpSpec::CsvSink { path, .. } => uses.push(FileUse::output(path.clone(), who)),
                _ => {}
            }
        }
        uses
    }

    /// Refuses one more output of this run (`--metrics`, a report, an export) that is one of
    /// its inputs or outputs, naming both; `who` names the new output in the message.
    pub fn check_new_output(&self, path: &std::path::Path, who: &str) -> Result<(), String> {
        crate::output_file::check_target(path).map_err(|e| format!("{who}: {e}"))?;
        crate::paths::check_new_output(path, who, &self.file_uses())
    }
}
