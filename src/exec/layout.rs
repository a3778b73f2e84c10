//! How a plan maps onto threads: how many instances of each node run, which chains of nodes
//! share a thread, and which sources split over parallel instances.
//!
//! Flink scales its sources with its operators, and so does Flowbook: a source whose records
//! depend only on their index (the keyed sequence) that feeds a hash Partition through
//! watermark / map / filter nodes runs with the partition's parallelism. Each instance makes
//! every n-th block of records (`stream::sources::split`) and runs its chain source → … →
//! partition on one thread, so the hash exchange is the only thread boundary; the instances
//! downstream read the blocks back in block order, so they see exactly the stream (records,
//! watermarks, late records) of one source instance.
//!
//! The consumers of such a partition share the source instances' threads (Flink's slot
//! sharing, `colocated`): consumer instance d runs on the thread of source instance d mod n, so
//! parallelism p on p cores is p busy threads, one per core.

use super::threads_available;
use crate::plan::{LogicalPlan, OpSpec, Routing};
use crate::stream::partition::Strategy;
use std::fmt;

/// Instances per node, and which source chains are split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Instances of each node, by plan index (the plan's parallelism, or a split chain's).
    pub instances: Vec<usize>,
    /// For each node: it belongs to a split source chain (by plan index of the chain's source).
    pub split_chain: Vec<Option<usize>>,
    /// For each task head: it reads a split chain's partition and runs on that chain's threads
    /// (by plan index of the chain's source).
    pub colocated_with: Vec<Option<usize>>,
    /// For each source that feeds a hash partition of parallelism > 1 but runs as one
    /// instance: why (for `flowbook check` and the run's thread map).
    pub not_split: Vec<Option<&'static str>>,
}

impl Layout {
    /// The layout of `plan` on a machine with `cores` cores: split source chains get the
    /// partition's parallelism, capped at the number of cores.
    pub fn of(plan: &LogicalPlan, cores: usize) -> Self {
        let mut instances: Vec<usize> = plan.nodes.iter().map(|n| n.parallelism).collect();
        let mut split_chain = vec![None; plan.nodes.len()];
        let mut colocated_with = vec![None; plan.nodes.len()];
        let mut not_split = vec![None; plan.nodes.len()];
        let owners = plan.model_owners();
        for (s, node) in plan.nodes.iter().enumerate() {
            if !node.kind.is_source() {
                continue;
            }
            let Some((chain, p)) = chain_to_hash_partition(plan, s, cores) else {
                continue;
            };
            if let Some(reason) = why_not_split(&node.spec) {
                if p > 1 {
                    not_split[s] = Some(reason);
                }
                continue;
            }
            // On one core the chain stays one instance, and the partition's consumers share its
            // thread instead of taking turns with it on the core.
            if cores <= 1 && p > 1 {
                not_split[s] = Some("this machine has one core");
            }
            let p = p.min(cores.max(1));
            for &m in &chain {
                instances[m] = p;
                split_chain[m] = Some(s);
            }
            if let Some(&partition) = chain.last() {
                let ports = plan.nodes[partition].catalog().outputs.len();
                for (c, _) in (0..ports).flat_map(|port| plan.consumers(partition, port)) {
                    if owners.get(c).is_some_and(|o| o.is_none()) {
                        colocated_with[c] = Some(s);
                    }
                }
            }
        }
        Self {
            instances,
            split_chain,
            colocated_with,
            not_split,
        }
    }

    /// Whether input `j` of `consumer` comes from a split source chain (its instances' blocks
    /// must be read back in order).
    pub fn ordered_input(&self, plan: &LogicalPlan, consumer: usize, j: usize) -> bool {
        plan.nodes
            .get(consumer)
            .and_then(|c| c.inputs.get(j))
            .and_then(|input| self.split_chain.get(input.from).copied().flatten())
            .is_some()
    }

    /// The threads a run of `plan` starts: each task (a chain of nodes on one thread) and its
    /// instances, for `flowbook check` and the run's first telemetry.
    pub fn threads(&self, plan: &LogicalPlan) -> ThreadMap {
        let owners = plan.model_owners();
        let runs = |i: usize| owners.get(i).is_some_and(|o| o.is_none());
        let local = |c: usize, j: usize| {
            plan.nodes
                .get(c)
                .and_then(|n| n.inputs.get(j))
                .is_some_and(|i| i.routing == Routing::Local)
        };
        let mut tasks = Vec::new();
        for (h, head) in plan.nodes.iter().enumerate() {
            if !runs(h) || !(0..head.inputs.len()).all(|j| !local(h, j)) {
                continue;
            }
            let mut members = vec![h];
            for (c, node) in plan.nodes.iter().enumerate().skip(h + 1) {
                if runs(c)
                    && node.inputs.len() == 1
                    && local(c, 0)
                    && members.contains(&node.inputs[0].from)
                {
                    members.push(c);
                }
            }
            tasks.push(TaskThreads {
                nodes: members
                    .iter()
                    .map(|&m| plan.nodes[m].name.clone())
                    .collect(),
                instances: self.instances.get(h).copied().unwrap_or(1),
                split_source: self.split_chain.get(h).copied().flatten().is_some()
                    && self.instances.get(h).is_some_and(|&n| n > 1),
                not_split: self.not_split.get(h).copied().flatten(),
                on_threads_of: self
                    .colocated_with
                    .get(h)
                    .copied()
                    .flatten()
                    .and_then(|s| plan.nodes.get(s))
                    .map(|n| n.name.clone()),
            });
        }
        ThreadMap { tasks }
    }
}

/// Why a source cannot split without changing its stream; `None` for those that can: the
/// keyed sequence (its records depend only on their index) unless paced, and a CSV source
/// reading a regular file (its instances find the same record-aligned byte blocks).
fn why_not_split(spec: &OpSpec) -> Option<&'static str> {
    match spec {
        OpSpec::SequenceSource { generator, .. } if generator.rate_per_s > 0.0 => {
            Some("it is paced (rate_per_s > 0): one instance keeps the pace")
        }
        OpSpec::SequenceSource { .. } => None,
        OpSpec::CsvSource(options) if crate::stream::sources::csv_file::splits(options) => None,
        OpSpec::CsvSource(_) => {
            Some("it reads standard input, a pipe or a device, which can be read only once")
        }
        _ => Some("each of its records depends on the ones before it"),
    }
}

/// From source `s`: the chain of single-consumer, single-input Watermark / Map / Filter nodes
/// on its thread that ends in a hash Partition of parallelism > 1 (of any parallelism on one
/// core, where its consumers then share the chain's thread) whose consumers each have
/// that partition as their only input. Returns the chain (source and partition included) and
/// the partition's parallelism.
fn chain_to_hash_partition(
    plan: &LogicalPlan,
    s: usize,
    cores: usize,
) -> Option<(Vec<usize>, usize)> {
    let mut chain = vec![s];
    let mut at = s;
    loop {
        let consumers: Vec<usize> = (0..plan.nodes[at].catalog().outputs.len())
            .flat_map(|port| plan.consumers(at, port))
            .map(|(c, _)| c)
            .collect();
        let [next] = consumers.as_slice() else {
            return None;
        };
        let node = plan.nodes.get(*next)?;
        if node.inputs.len() != 1 || node.inputs[0].routing != Routing::Local {
            return None;
        }
        chain.push(*next);
        match &node.spec {
            OpSpec::Watermark { .. } | OpSpec::Map { .. } | OpSpec::Filter { .. } => at = *next,
            OpSpec::Partition {
                strategy: Strategy::Hash,
                parallelism,
            } if *parallelism > 1 || cores <= 1 => {
                let readers_single = (0..node.catalog().outputs.len())
                    .flat_map(|port| plan.consumers(*next, port))
                    .all(|(c, _)| plan.nodes.get(c).is_some_and(|n| n.inputs.len() == 1));
                return readers_single.then_some((chain, *parallelism));
            }
            _ => return None,
        }
        if chain.len() > plan.nodes.len() {
            return None;
        }
    }
}

/// Threads of a run, by task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadMap {
    pub tasks: Vec<TaskThreads>,
}

/// One chain of nodes that runs on one thread per instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskThreads {
    pub nodes: Vec<String>,
    pub instances: usize,
    /// The chain starts at a source split over its instances.
    pub split_source: bool,
    /// The chain starts at a source that feeds a parallel hash partition but does not split:
    /// why.
    pub not_split: Option<&'static str>,
    /// The task starts no threads: its instances run on those of this source's chain.
    pub on_threads_of: Option<String>,
}

impl ThreadMap {
    pub fn thread_count(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.on_threads_of.is_none())
            .map(|t| t.instances)
            .sum()
    }
}

impl ThreadMap {
    /// What the map means for `cores` cores, in one line: whether every thread has a core of
    /// its own, or how many take turns. Every task of a throughput run is busy, so more threads
    /// than cores means the operating system shares the cores among them.
    pub fn summary(&self, cores: usize) -> String {
        let threads = self.thread_count();
        let cores = cores.max(1);
        let on = if cores == 1 {
            "1 core".to_owned()
        } else {
            format!("{cores} cores")
        };
        if threads <= cores {
            return format!("threads: {threads} on {on}, one core each");
        }
        format!(
            "threads: {threads} on {on}, {} more than cores: they take turns on the cores (each task runs one thread per instance)",
            threads - cores
        )
    }
}

impl fmt::Display for ThreadMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary(threads_available()))?;
        for task in &self.tasks {
            write!(f, "  {} × {}", task.nodes.join(" → "), task.instances)?;
            if task.split_source {
                write!(f, "  (source split in blocks, read back in order)")?;
            }
            if let Some(reason) = task.not_split {
                write!(f, "  (source not split: {reason})")?;
            }
            if let Some(source) = &task.on_threads_of {
                write!(f, "  (on the threads of {source}'s chain)")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(graph: &str, sets: &[(&str, &str, crate::graph::ParamValue)]) -> LogicalPlan {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("example-graphs")
            .join(graph);
        let mut g = crate::graph::load(&path).unwrap();
        for (node, param, value) in sets {
            let n = g.nodes.iter_mut().find(|n| n.name == *node).unwrap();
            n.params.insert((*param).to_owned(), value.clone());
        }
        crate::plan::plan(&g).unwrap()
    }

    #[test]
    fn a_sequence_into_a_hash_partition_splits_with_the_partitions_parallelism() {
        use crate::graph::ParamValue::Int;
        let plan = plan_of("bench-window.ron", &[("partition", "parallelism", Int(2))]);
        let layout = Layout::of(&plan, 2);
        assert_eq!(layout.instances, vec![2, 2, 2, 2, 2, 2]);
        let map = layout.threads(&plan);
        assert_eq!(
            map.thread_count(),
            2,
            "the window instances run on the source instances' threads"
        );
        assert_eq!(map.summary(2), "threads: 2 on 2 cores, one core each");
        assert_eq!(map.tasks[1].on_threads_of.as_deref(), Some("source"));
        assert_eq!(
            layout.colocated_with,
            vec![None, None, None, Some(0), None, None]
        );
        assert_eq!(
            map.tasks[0].nodes,
            vec!["source", "watermark", "partition"],
            "one thread per instance up to the exchange"
        );
        assert!(map.tasks[0].split_source);
        // Capped at the cores there are; at parallelism 1 nothing splits.
        assert_eq!(Layout::of(&plan, 1).instances, vec![1, 1, 1, 2, 2, 2]);
        let one = plan_of("bench-window.ron", &[]);
        assert_eq!(Layout::of(&one, 8).instances, vec![1; 6]);
        assert_eq!(Layout::of(&one, 8).threads(&one).thread_count(), 2);
        // On one core the windows share the source's thread, at any parallelism.
        for p in [&plan, &one] {
            let single = Layout::of(p, 1);
            assert_eq!(single.colocated_with[3], Some(0));
            let map = single.threads(p);
            assert_eq!(map.thread_count(), 1, "{map}");
            assert_eq!(map.summary(1), "threads: 1 on 1 core, one core each");
            assert!(!map.tasks[0].split_source);
        }
        // A paced source is not split.
        let paced = plan_of(
            "bench-window.ron",
            &[
                ("partition", "parallelism", Int(2)),
                (
                    "source",
                    "rate_per_s",
                    crate::graph::ParamValue::Float(1000.0),
                ),
            ],
        );
        assert_eq!(Layout::of(&paced, 2).instances[0], 1);
        let map = Layout::of(&paced, 2).threads(&paced);
        assert_eq!(
            map.tasks[0].not_split,
            Some("it is paced (rate_per_s > 0): one instance keeps the pace")
        );
        assert!(map.to_string().contains("(source not split: it is paced"));
        assert_eq!(
            Layout::of(&plan, 1).not_split[0],
            Some("this machine has one core")
        );
        assert_eq!(
            layout.not_split,
            vec![None; 6],
            "a split source has no reason"
        );
    }

    #[test]
    fn a_csv_file_into_a_hash_partition_splits_but_standard_input_does_not() {
        use crate::graph::ParamValue::{Int, Text};
        let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("example-graphs/data/events_a.csv")
            .display()
            .to_string();
        let plan = plan_of(
            "window-stats.ron",
            &[
                ("partition", "parallelism", Int(2)),
                ("source", "path", Text(events)),
            ],
        );
        let layout = Layout::of(&plan, 2);
        assert_eq!(&layout.instances[..3], &[2, 2, 2]);
        let map = layout.threads(&plan);
        assert_eq!(map.tasks[0].nodes, vec!["source", "watermark", "partition"]);
        assert!(map.tasks[0].split_source);
        assert!(
            map.to_string()
                .contains("(source split in blocks, read back in order)")
        );
        // Standard input can be read only once (planning it would read its header here).
        let mut stdin = plan;
        if let Some(OpSpec::CsvSource(options)) = stdin.nodes.get_mut(0).map(|n| &mut n.spec) {
            options.path = crate::paths::STDIN.into();
        }
        let one = Layout::of(&stdin, 2);
        assert_eq!(&one.instances[..4], &[1, 1, 1, 2]);
        assert!(!one.threads(&stdin).tasks[0].split_source);
        assert!(
            one.threads(&stdin)
                .to_string()
                .contains("(source not split: it reads standard input, a pipe or a device")
        );
    }
}
