//! How every wire routes, decided once all nodes are planned (timely's rule: distribution is a
//! property of the edge). A wire is local when the consumer can run on its producer's thread;
//! otherwise the producer's kind and both sides' parallelism decide the exchange strategy.

use super::infer::Draft;
use super::spec::OpSpec;
use super::{LogicalPlan, PlanNode, Problem, Routing};
use crate::learn::trainer::TEST;
use crate::stream::partition::Strategy;

/// How input `j` of node `consumer` routes.
fn routing(plan: &Draft, consumer: usize, j: usize) -> Routing {
    let Some(c) = plan.nodes.get(consumer) else {
        return Routing::Local;
    };
    let Some(input) = c.inputs.get(j) else {
        return Routing::Local;
    };
    let Some(from) = plan.nodes.get(input.from) else {
        return Routing::Local;
    };
    let redistributes = matches!(
        from.spec,
        Some(OpSpec::Partition { .. } | OpSpec::Shard { .. })
    );
    if c.inputs.len() == 1 && !redistributes && from.parallelism == c.parallelism {
        return Routing::Local;
    }
    let into_test = matches!(c.spec, Some(OpSpec::Trainer(_)))
        && c.inputs
            .iter()
            .any(|i| i.from == input.from && i.port == TEST);
    if into_test {
        // Only the first replica evaluates.
        return Routing::FirstInstance;
    }
    let strategy = match (&from.spec, &c.spec) {
        // Every Predict instance needs every model snapshot.
        (Some(OpSpec::Trainer(_)), Some(OpSpec::Predict { .. })) => Strategy::Broadcast,
        (Some(OpSpec::Partition { strategy, .. }), _) => *strategy,
        (Some(OpSpec::Shard { .. }), _) => Strategy::Shard,
        _ if c.parallelism == 1 || from.parallelism == c.parallelism => Strategy::Forward,
        _ => Strategy::RoundRobin,
    };
    Routing::Exchange(strategy)
}

/// The finished plan: every wire routed, every node with its spec.
pub fn finish(draft: Draft) -> Result<LogicalPlan, Vec<Problem>> {
    let routes: Vec<Vec<Routing>> = draft
        .nodes
        .iter()
        .enumerate()
        .map(|(c, node)| {
            (0..node.inputs.len())
                .map(|j| routing(&draft, c, j))
                .collect()
        })
        .collect();
    let mut nodes = Vec::with_capacity(draft.nodes.len());
    let mut problems = Vec::new();
    for (node, routes) in draft.nodes.into_iter().zip(routes) {
        let Some(spec) = node.spec else {
            problems.push(Problem::node_named(
                node.id,
                &node.name,
                "internal: planned without a spec and without a problem",
            ));
            continue;
        };
        let mut inputs = node.inputs;
        for (input, routing) in inputs.iter_mut().zip(routes) {
            input.routing = routing;
        }
        nodes.push(PlanNode {
            id: node.id,
            name: node.name,
            kind: node.kind,
            inputs,
            outputs: node.outputs,
            parallelism: node.parallelism,
            keyed: node.keyed,
            spec,
        });
    }
    if problems.is_empty() {
        Ok(LogicalPlan {
            nodes,
            location: draft.location,
        })
    } else {
        Err(problems)
    }
}
