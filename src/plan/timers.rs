//! Which event times matter to the operators a watermark feeds: the times at which a
//! tumbling or sliding window downstream fires or is dropped. Between two such times a
//! watermark changes nothing those operators do, so the watermark operator may hold it back
//! (see `stream::watermark`).

use super::{LogicalPlan, OpSpec, WindowAssigner};
use crate::stream::watermark::TimerGrid;

/// The timers of every operator that sees `watermark`'s watermarks, or `None` when one of them
/// reacts to watermarks at times that depend on the data (session windows), or when a
/// watermark's exact place matters for another reason (count windows pass records through
/// with event times of their own; merges take the minimum of several streams; learning nodes;
/// anything not known here). Map, Filter and Partition pass records and watermarks on as they
/// are; sinks ignore watermarks. A time window's own output is then exactly the one it makes
/// with every watermark, so what follows it needs no look.
pub fn downstream_timers(plan: &LogicalPlan, watermark: usize) -> Option<Vec<TimerGrid>> {
    let mut grids = Vec::new();
    let mut todo = vec![watermark];
    let mut seen = vec![false; plan.nodes.len()];
    while let Some(at) = todo.pop() {
        let node = plan.nodes.get(at)?;
        for port in 0..node.catalog().outputs.len() {
            for (c, _) in plan.consumers(at, port) {
                if std::mem::replace(seen.get_mut(c)?, true) {
                    continue;
                }
                let consumer = plan.nodes.get(c)?;
                match &consumer.spec {
                    OpSpec::Map { .. }
                    | OpSpec::Filter { .. }
                    | OpSpec::Partition { .. }
                    | OpSpec::Fault { .. } => todo.push(c),
                    OpSpec::CsvSink { .. } | OpSpec::NullSink { .. } => {}
                    OpSpec::Window(window) => {
                        let (size, slide, offset) = match window.assigner {
                            WindowAssigner::Tumbling { size_ms, offset_ms } => {
                                (size_ms, size_ms, offset_ms)
                            }
                            WindowAssigner::Sliding {
                                size_ms,
                                slide_ms,
                                offset_ms,
                            } => (size_ms, slide_ms, offset_ms),
                            _ => return None,
                        };
                        // Windows end at offset + size + k·slide; they fire at end − 1 and
                        // are dropped at end − 1 + allowed lateness.
                        let fire = offset.saturating_add(size).saturating_sub(1);
                        grids.push(TimerGrid::new(slide, fire));
                        if window.allowed_lateness_ms > 0 {
                            let drop = fire.saturating_add(window.allowed_lateness_ms);
                            grids.push(TimerGrid::new(slide, drop));
                        }
                    }
                    _ => return None,
                }
            }
        }
    }
    grids.sort_unstable();
    grids.dedup();
    Some(grids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ParamValue::{Int, Text};

    fn plan_of(file: &str, sets: &[(&str, &str, crate::graph::ParamValue)]) -> LogicalPlan {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut g = crate::graph::load(&root.join("example-graphs").join(file)).unwrap();
        if file == "window-stats.ron" {
            let events = root.join("tests/data/flink/events_a.csv");
            let source = g.nodes.iter_mut().find(|n| n.name == "source").unwrap();
            let path = Text(events.display().to_string());
            source.params.insert("path".to_owned(), path);
        }
        for (node, param, value) in sets {
            let n = g.nodes.iter_mut().find(|n| n.name == *node).unwrap();
            n.params.insert((*param).to_owned(), value.clone());
        }
        crate::plan::plan(&g).unwrap()
    }

    fn watermark_of(plan: &LogicalPlan) -> usize {
        plan.nodes
            .iter()
            .position(|n| matches!(n.spec, OpSpec::Watermark { .. }))
            .unwrap()
    }

    #[test]
    fn tumbling_and_sliding_windows_give_their_grids_sessions_and_counts_none() {
        let plan = plan_of("bench-window.ron", &[]);
        assert_eq!(
            downstream_timers(&plan, watermark_of(&plan)),
            Some(vec![TimerGrid::new(1000, 999)])
        );
        let sliding = plan_of(
            "window-stats.ron",
            &[
                ("window", "kind", Text("sliding".into())),
                ("window", "size_ms", Int(3000)),
                ("window", "slide_ms", Int(1000)),
                ("window", "offset_ms", Int(500)),
                ("window", "allowed_lateness_ms", Int(250)),
            ],
        );
        assert_eq!(
            downstream_timers(&sliding, watermark_of(&sliding)),
            Some(vec![TimerGrid::new(1000, 3499), TimerGrid::new(1000, 3749)])
        );
        for kind in ["session", "count"] {
            let other = plan_of("window-stats.ron", &[("window", "kind", Text(kind.into()))]);
            assert_eq!(
                downstream_timers(&other, watermark_of(&other)),
                None,
                "{kind}"
            );
        }
    }
}
