//! Builds [`NotebookResults`] from executor telemetry: the app feeds it every message of a run,
//! `flowbook report` feeds it a headless run. It keeps what any cell could show (the metric
//! fields that trainer plots draw, the newest windows and previews, the last statuses), so a
//! cell pinned in the middle of a run fills too.

use super::pins::plot_fields;
use super::results::{
    CellOutput, CellResult, Envelope, NotebookResults, RunInfo, SeriesData, Table,
};
use crate::catalog::NodeKind;
use crate::exec::{
    NodeStatus, Outcome, PortPreview, RunReport, Telemetry, WindowSample, format_value,
};
use crate::graph::{Cell, Graph, NodeId};
use std::collections::{BTreeMap, VecDeque};

/// Rows a window table keeps (newest first).
const TABLE_ROWS: usize = 12;

/// Points kept per metric while collecting (the stored file thins further).
const KEPT_POINTS: usize = 8192;

#[derive(Default)]
pub struct ResultsCollector {
    ids: BTreeMap<String, NodeId>,
    /// Per trainer, per metric field a pinned plot draws: (step, value).
    metrics: BTreeMap<(NodeId, String), Envelope>,
    windows: BTreeMap<NodeId, VecDeque<WindowSample>>,
    /// The newest non-empty preview of each (node, output port index).
    previews: BTreeMap<(NodeId, usize), PortPreview>,
    statuses: Vec<NodeStatus>,
    elapsed_s: f64,
    outcome: Option<Outcome>,
}

impl ResultsCollector {
    pub fn new(graph: &Graph) -> Self {
        Self {
            ids: graph.nodes.iter().map(|n| (n.name.clone(), n.id)).collect(),
            ..Self::default()
        }
    }

    /// The names of nodes whose data previews the graph's cells show: watch them in a run.
    pub fn preview_nodes(graph: &Graph) -> Vec<String> {
        let mut names: Vec<String> = cells_of(graph)
            .iter()
            .filter_map(|c| match c {
                Cell::Preview { node, .. } => graph.node(*node).map(|n| n.name.clone()),
                _ => None,
            })
            .collect();
        names.dedup();
        names
    }

    /// Takes in one telemetry message.
    pub fn observe(&mut self, message: &Telemetry) {
        match message {
            Telemetry::Progress {
                elapsed_s,
                nodes,
                metrics,
                windows,
                ..
            } => {
                self.elapsed_s = *elapsed_s;
                for batch in metrics {
                    let Some(&id) = self.ids.get(&batch.node) else {
                        continue;
                    };
                    let Some(step_at) = batch.fields.iter().position(|f| f == "step") else {
                        continue;
                    };
                    for field in PLOTS.iter().flat_map(|plot| plot_fields(plot)) {
                        let Some(at) = batch.fields.iter().position(|f| f == field) else {
                            continue;
                        };
                        let points = self
                            .metrics
                            .entry((id, (*field).to_owned()))
                            .or_insert_with(|| Envelope::new(KEPT_POINTS));
                        for row in &batch.rows {
                            let (Some(&x), Some(&y)) = (row.get(step_at), row.get(at)) else {
                                continue;
                            };
                            if x.is_finite() && y.is_finite() {
                                points.push([x, y]);
                            }
                        }
                    }
                }
                for w in windows {
                    let kept = self.windows.entry(w.node).or_default();
                    kept.extend(w.samples.iter().cloned());
                    let excess = kept.len().saturating_sub(TABLE_ROWS);
                    kept.drain(..excess);
                }
                self.take_statuses(nodes);
            }
            Telemetry::Done(report) => self.finish(report),
        }
    }

    /// The end of the run (also what `RunHandle::wait` returns).
    pub fn finish(&mut self, report: &RunReport) {
        self.elapsed_s = report.elapsed_s;
        self.outcome = Some(report.outcome.clone());
        self.take_statuses(&report.nodes);
    }

    fn take_statuses(&mut self, nodes: &[NodeStatus]) {
        for status in nodes {
            for preview in status.preview.iter().filter(|p| !p.rows.is_empty()) {
                self.previews
                    .insert((status.id, preview.port), preview.clone());
            }
        }
        self.statuses = nodes.to_vec();
    }

    /// What the run produced so far, for every cell of the graph (or, if it has none, of
    /// [`super::default_cells`]) that has something to show.
    pub fn results(&self, graph: &Graph, taken_at: String) -> NotebookResults {
        let outputs = cells_of(graph)
            .iter()
            .filter_map(|cell| {
                let output = self.output(graph, cell)?;
                Some(CellResult {
                    cell: cell.clone(),
                    output,
                })
            })
            .collect();
        let outcome = match &self.outcome {
            None => "in progress".to_string(),
            Some(Outcome::Finished) => "finished".to_string(),
            Some(Outcome::Stopped) => "stopped".to_string(),
            Some(Outcome::Failed { node, message }) => {
                format!("failed at node '{node}': {message}")
            }
        };
        NotebookResults {
            version: 0,
            run: (!self.statuses.is_empty()).then_some(RunInfo {
                outcome,
                seconds: self.elapsed_s,
                taken_at,
            }),
            outputs,
        }
    }

    /// What `cell` shows now, if the run produced anything for it.
    pub fn output(&self, graph: &Graph, cell: &Cell) -> Option<CellOutput> {
        match cell {
            Cell::Markdown { .. } => None,
            Cell::Plot { node, plot } => {
                let series: Vec<SeriesData> = plot_fields(plot)
                    .iter()
                    .filter_map(|field| {
                        let points = self.metrics.get(&(*node, (*field).to_owned()))?.points();
                        (!points.is_empty()).then(|| SeriesData::thinned(*field, &points))
                    })
                    .collect();
                (!series.is_empty()).then(|| CellOutput::Plot {
                    x_label: "step".into(),
                    series,
                })
            }
            Cell::WindowStats { node } => {
                let windows = self.windows.get(node).filter(|w| !w.is_empty())?;
                Some(CellOutput::Table(window_table(windows)))
            }
            Cell::Preview { node, port } => {
                let kind = graph.node(*node).and_then(|n| NodeKind::from_id(&n.kind))?;
                let at = kind.spec().outputs.iter().position(|p| p.name == port)?;
                let preview = self.previews.get(&(*node, at))?;
                Some(CellOutput::Table(Table {
                    headers: preview.headers.clone(),
                    rows: preview
                        .rows
                        .iter()
                        .rev()
                        .take(TABLE_ROWS)
                        .cloned()
                        .collect(),
                }))
            }
            Cell::RunSummary => (!self.statuses.is_empty())
                .then(|| CellOutput::Table(summary_table(graph, &self.statuses))),
        }
    }
}

/// Every plot a trainer cell can draw.
const PLOTS: [&str; 4] = ["loss", "accuracy", "lr", "hit_rate"];

fn cells_of(graph: &Graph) -> Vec<Cell> {
    if graph.notebook.is_empty() {
        super::default_cells(graph)
    } else {
        graph.notebook.clone()
    }
}

/// The newest windows first: key, bounds, count and the value statistics. When every window
/// falls on one day the bounds are clock times and the date is said once, in the `start`
/// header, so the table fits a notebook pane (a full date in every cell pushed `end` out).
fn window_table(windows: &VecDeque<WindowSample>) -> Table {
    use crate::format::{event_clock, event_date, event_time};
    let one_day = windows
        .iter()
        .flat_map(|w| [w.start, w.end - 1])
        .map(event_date)
        .try_fold(None::<String>, |seen, date| match seen {
            Some(prev) if prev != date => Err(()),
            _ => Ok(Some(date)),
        })
        .ok()
        .flatten()
        .filter(|date| !date.ends_with(" ms"));
    // As many decimals as the bounds need: whole seconds for 1 s windows.
    let precision = [1000, 100, 10]
        .into_iter()
        .find(|p| windows.iter().all(|w| w.start % p == 0 && w.end % p == 0))
        .unwrap_or(1);
    let bound = |ms: i64| match &one_day {
        Some(_) => event_clock(ms, precision),
        None => event_time(ms),
    };
    let start = match &one_day {
        Some(date) => format!("start ({date})"),
        None => "start".to_owned(),
    };
    Table {
        headers: ["key", &start, "end", "count", "mean", "min", "max"]
            .map(String::from)
            .to_vec(),
        rows: windows
            .iter()
            .rev()
            .map(|w| {
                vec![
                    w.key.clone(),
                    bound(w.start),
                    bound(w.end),
                    w.count.to_string(),
                    format_value(w.mean),
                    format_value(w.min),
                    format_value(w.max),
                ]
            })
            .collect(),
    }
}

/// One row per node of the graph that did something: records, state and final metrics.
fn summary_table(graph: &Graph, statuses: &[NodeStatus]) -> Table {
    let rows = statuses
        .iter()
        .filter(|s| graph.node(s.id).is_some() && (s.records_in > 0 || s.records_out > 0))
        .map(|s| {
            let metrics: Vec<String> = s
                .last_metrics
                .iter()
                .filter(|(name, value)| {
                    value.is_finite()
                        && matches!(
                            name.as_str(),
                            "step" | "epoch" | "loss" | "accuracy" | "test_loss" | "test_accuracy"
                        )
                })
                .map(|(name, value)| format!("{name} {}", crate::format::metric(*value)))
                .collect();
            vec![
                s.name.clone(),
                format!("{:?}", s.state).to_lowercase(),
                crate::format::count(s.records_in),
                crate::format::count(s.records_out),
                if s.late > 0 {
                    crate::format::count(s.late)
                } else {
                    String::new()
                },
                metrics.join(", "),
            ]
        })
        .collect();
    Table {
        headers: [
            "node",
            "state",
            "records in",
            "records out",
            "late",
            "final metrics",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

#[cfg(test)]
mod window_table_tests {
    use super::*;

    fn sample(start: i64, end: i64) -> WindowSample {
        WindowSample {
            key: "a".into(),
            start,
            end,
            count: 3,
            mean: 1.5,
            min: 1.0,
            max: 2.0,
        }
    }

    #[test]
    fn windows_of_one_day_show_clock_times_and_the_date_once() {
        let day = 1_700_000_000_000; // 2023-11-14 22:13:20 UTC
        let table = window_table(&[sample(day, day + 1000)].into_iter().collect());
        assert_eq!(table.headers[1], "start (2023-11-14)");
        assert_eq!(
            table.rows[0][1], "22:13:20",
            "whole seconds need no decimals"
        );
        assert_eq!(table.rows[0][2], "22:13:21");
        let table = window_table(&[sample(day + 250, day + 750)].into_iter().collect());
        assert_eq!(table.rows[0][1], "22:13:20.25");
        let two_days = [
            sample(day, day + 1000),
            sample(day + 86_400_000, day + 86_401_000),
        ];
        let table = window_table(&two_days.into_iter().collect());
        assert_eq!(table.headers[1], "start");
        assert_eq!(table.rows[0][1], "2023-11-15 22:13:20.000");
    }
}
