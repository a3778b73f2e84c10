//! The plots area: one plot per thing worth watching, laid out automatically — the decision
//! boundary, training loss (raw and smoothed, live parameter changes marked, earlier runs faded
//! behind), accuracy, learning rate, window statistics per key over event time, records per
//! window, watermark against the newest event time, late records and throughput per node.
//! Plots the open notebook already shows are not drawn twice. Docked at the bottom or popped out.

use super::session::RunSession;
use super::views::decision::DecisionView;
use super::{PastRun, RunState};
use crate::app::plots::{
    MIN_SAMPLES_FOR_SPREAD, Marker, PlotGrid, PlotSettings, PlotView, PngExport, Series, plot_ui,
};
use crate::catalog::NodeKind;
use crate::format::EventClock;
use crate::graph::{Cell, Graph, NodeId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Keys of a window plot drawn with a min/max band; the others are thin lines.
const BANDED_KEYS: usize = 3;
/// Nodes drawn in the throughput plot at most (the busiest).
const THROUGHPUT_NODES: usize = 8;

/// Plot options the user set, and the state of a PNG export.
#[derive(Default)]
pub struct PlotsState {
    /// Settings per plot, by title.
    pub settings: BTreeMap<String, PlotSettings>,
    /// Shown in a separate window instead of the bottom panel.
    pub floating: bool,
    png: PngExport,
    /// The decision-boundary view of each two-input classifier, with its cached image.
    pub decisions: BTreeMap<NodeId, DecisionView>,
}

/// What one plot shows, by reference into the session.
#[derive(Clone, Copy, Debug, PartialEq)]
enum PlotKind {
    Decision(NodeId),
    Loss(NodeId),
    Accuracy(NodeId),
    /// A ranking trainer's hit rate against its popularity baseline.
    HitRate(NodeId),
    LearningRate(NodeId),
    Window(NodeId),
    WindowCounts(NodeId),
    Watermark(NodeId),
    Late,
    Throughput,
}

impl PlotKind {
    /// The notebook cell that shows the same plot, if this is a trainer plot.
    fn same_as_cell(self, cell: &Cell) -> bool {
        let Cell::Plot { node, plot } = cell else {
            return false;
        };
        match self {
            PlotKind::Loss(id) => *node == id && plot == "loss",
            PlotKind::Accuracy(id) => *node == id && plot == "accuracy",
            PlotKind::HitRate(id) => *node == id && plot == "hit_rate",
            PlotKind::LearningRate(id) => *node == id && plot == "lr",
            _ => false,
        }
    }
}

/// The plots worth showing for this session, in order.
fn plot_list(session: &RunSession, graph: &Graph) -> Vec<(String, PlotKind)> {
    let name = |id: NodeId| graph.display_name(id);
    let mut plots = Vec::new();
    for (id, insight) in &session.insights {
        if super::views::decision::draws(&insight.model) {
            plots.push((
                format!("{} — decision boundary", name(*id)),
                PlotKind::Decision(*id),
            ));
        }
    }
    for (id, history) in &session.metrics {
        let has = |f: &str| history.field(f).is_some_and(|s| !s.is_empty());
        plots.push((format!("{} — loss", name(*id)), PlotKind::Loss(*id)));
        if has("accuracy") || has("test_accuracy") || has("progressive_accuracy") {
            plots.push((format!("{} — accuracy", name(*id)), PlotKind::Accuracy(*id)));
        }
        if has("hit_rate") {
            plots.push((
                format!("{} — hit rate vs popularity", name(*id)),
                PlotKind::HitRate(*id),
            ));
        }
        plots.push((
            format!("{} — learning rate", name(*id)),
            PlotKind::LearningRate(*id),
        ));
    }
    for (id, keys) in &session.window_keys {
        if keys.is_empty() {
            continue;
        }
        if keys.has_values() {
            plots.push((
                format!("{} — mean, min/max per key", name(*id)),
                PlotKind::Window(*id),
            ));
        }
        plots.push((
            format!("{} — records per window", name(*id)),
            PlotKind::WindowCounts(*id),
        ));
    }
    // A watermark that never moved before the end of the input (a graph without watermarks
    // jumps once, to its newest event) would plot as a dot: no plot.
    let moving: Vec<NodeId> = session
        .watermarks
        .iter()
        .filter(|(_, (watermark, _))| watermark.y_bounds().is_some_and(|(low, high)| high > low))
        .map(|(id, _)| *id)
        .collect();
    if let Some(id) = moving
        .iter()
        .find(|id| {
            graph
                .node(**id)
                .and_then(|n| NodeKind::from_id(&n.kind))
                .is_some_and(|k| k == NodeKind::Window)
        })
        .or_else(|| moving.first())
    {
        plots.push((
            format!("{} — watermark vs newest event", name(*id)),
            PlotKind::Watermark(*id),
        ));
    }
    if !session.late_counts.is_empty() {
        plots.push(("late records".to_owned(), PlotKind::Late));
    }
    plots.push(("throughput per node".to_owned(), PlotKind::Throughput));
    plots
}

/// Series of `fields` of a trainer's metrics that have points.
fn metric_series<'a>(session: &'a RunSession, node: NodeId, fields: &[&str]) -> Vec<&'a Series> {
    let Some(history) = session.metrics.get(&node) else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|f| history.field(f))
        .filter(|s| !s.is_empty())
        .collect()
}

/// A trainer's live-parameter changes as plot markers.
pub fn markers_of(session: &RunSession, node: NodeId) -> Vec<Marker> {
    session
        .markers
        .iter()
        .filter(|m| m.node == node)
        .map(|m| Marker::new(m.step, m.label.clone()))
        .collect()
}

/// A trainer's plot (`plot` is "loss", "accuracy" or "lr"): the current run's fields over
/// steps, its live-parameter changes marked, and each earlier run's first field faded behind
/// in its own colour. The plots area and the notebook's pinned plots both draw this one view.
pub fn trainer_plot_view<'a>(
    title: String,
    session: &'a RunSession,
    history: &'a [PastRun],
    graph: &Graph,
    node: NodeId,
    plot: &str,
    markers: &'a [Marker],
) -> PlotView<'a> {
    let fields = crate::notebook::plot_fields(plot);
    let mut view = PlotView::new(title).x_label("step");
    for s in metric_series(session, node, fields) {
        view = view.series(s);
    }
    if plot == "accuracy" || plot == "hit_rate" {
        view = view.include_y(0.0).include_y(1.0);
    }
    view = view.markers(markers);
    let trainer = graph.display_name(node);
    for past in history {
        if let Some(m) = past.metrics.get(&trainer) {
            let series: Vec<&Series> = fields
                .iter()
                .filter_map(|f| m.field(f))
                .filter(|s| !s.is_empty())
                .take(1)
                .collect();
            if !series.is_empty() {
                view = view.overlay(past.label.clone(), series);
            }
        }
    }
    view
}

/// Nodes whose throughput is worth a line: the ones that moved records, busiest first.
fn busy_nodes(session: &RunSession) -> Vec<&Series> {
    let mut busy: Vec<(&Series, u64)> = session
        .throughput
        .iter()
        .filter_map(|(id, s)| {
            let out = session.node(*id)?.records_out;
            (out > 0).then_some((s, out))
        })
        .collect();
    busy.sort_by_key(|b| std::cmp::Reverse(b.1));
    busy.into_iter()
        .take(THROUGHPUT_NODES)
        .map(|(s, _)| s)
        .collect()
}

/// What the throughput plot says instead of a line when there is too little to draw a rate.
fn throughput_message(session: &RunSession, lines: &[&Series]) -> Option<String> {
    let samples = lines.iter().map(|s| s.len()).max().unwrap_or(0);
    if samples >= MIN_SAMPLES_FOR_SPREAD {
        return None;
    }
    let records: u64 = session
        .nodes
        .values()
        .map(|n| n.records_out)
        .max()
        .unwrap_or(0);
    Some(if session.phase.is_live() {
        "Measuring: a rate needs three samples (a tenth of a second)…".to_owned()
    } else {
        format!(
            "The run took {:.2} s: too short to draw a rate ({samples} sample{}). The busiest \
             node moved {} records, about {}.",
            session.elapsed_s,
            if samples == 1 { "" } else { "s" },
            crate::format::count(records),
            crate::format::rate(records as f64 / session.elapsed_s.max(1e-6), "records/s")
        )
    })
}

/// The plots panel contents; returns a status message when an export happened. With the
/// notebook open, trainer plots it pins are left to it (one place, not two side by side).
pub fn plots_ui(
    ui: &mut egui::Ui,
    run: &mut RunState,
    graph: &Graph,
    graph_path: Option<&Path>,
    notebook_open: bool,
) -> Option<Result<String, String>> {
    let mut message = None;
    if let Some(result) = run.plots.png.poll(ui.ctx()) {
        message = Some(
            result
                .map(|p| format!("Saved plot to {}", p.display()))
                .map_err(|e| format!("Cannot save the plot: {e}")),
        );
    }
    let Some(session) = &run.session else {
        ui.label(egui::RichText::new("Press Run: plots of the run appear here.").weak());
        return message;
    };
    let (pinned, list): (Vec<_>, Vec<_>) =
        plot_list(session, graph)
            .into_iter()
            .partition(|(_, kind)| {
                notebook_open && graph.notebook.iter().any(|c| kind.same_as_cell(c))
            });
    if !pinned.is_empty() {
        let titles: Vec<&str> = pinned.iter().map(|(t, _)| t.as_str()).collect();
        ui.label(egui::RichText::new(format!("📌 In the notebook: {}", titles.join(", "))).weak())
            .on_hover_text("Pinned plots show in the notebook pane; close it to see them here");
    }
    let markers: BTreeMap<NodeId, Vec<Marker>> = session
        .metrics
        .keys()
        .map(|id| (*id, markers_of(session, *id)))
        .collect();
    let no_markers: Vec<Marker> = Vec::new();
    let history = if run.overlay_history {
        run.history.as_slice()
    } else {
        &[]
    };
    let settings = &mut run.plots.settings;
    let png = &mut run.plots.png;
    let decisions = &mut run.plots.decisions;
    let grid = PlotGrid {
        min_column_width: 360.0,
        max_columns: 4,
        min_plot_height: 220.0,
        spacing: 8.0,
    };
    grid.show(ui, list.len(), |ui, index| {
        let Some((title, kind)) = list.get(index) else {
            return;
        };
        if let PlotKind::Decision(id) = kind {
            if let Some(insight) = session.insights.get(id) {
                let view = decisions.entry(*id).or_default();
                if let Some([a, b]) = session.input_names.get(id) {
                    view.axis_names = [a.clone(), b.clone()];
                }
                let when = if insight.is_final {
                    "final model".to_owned()
                } else {
                    format!("step {}", insight.step)
                };
                ui.label(egui::RichText::new(format!("{title} · {when}")).strong());
                view.decision_ui(ui, insight);
            }
            return;
        }
        let mut view = PlotView::new(title.clone());
        match kind {
            PlotKind::Decision(_) => {}
            PlotKind::Loss(id)
            | PlotKind::Accuracy(id)
            | PlotKind::HitRate(id)
            | PlotKind::LearningRate(id) => {
                let plot = match kind {
                    PlotKind::Loss(_) => "loss",
                    PlotKind::Accuracy(_) => "accuracy",
                    PlotKind::HitRate(_) => "hit_rate",
                    _ => "lr",
                };
                let markers = markers.get(id).map_or(no_markers.as_slice(), Vec::as_slice);
                view =
                    trainer_plot_view(title.clone(), session, history, graph, *id, plot, markers);
            }
            PlotKind::Window(id) => {
                view = event_x(view, session, "window end");
                // Session means are heavy-tailed (a visit's first click carries the idle gap
                // before it): up to a quarter of them may be marked rather than squash the rest.
                view.outlier_share = Some(0.25);
                if let Some(keys) = session.window_keys.get(id) {
                    let ranked = keys.ranked();
                    for (i, band) in ranked.iter().enumerate() {
                        view = if i < BANDED_KEYS {
                            view.band(band)
                        } else {
                            view.band_line(band)
                        };
                    }
                    let lines = ranked.len().saturating_sub(BANDED_KEYS);
                    let mut about = format!(
                        "{} key{} banded",
                        ranked.len().min(BANDED_KEYS),
                        if ranked.len().min(BANDED_KEYS) == 1 {
                            ""
                        } else {
                            "s"
                        }
                    );
                    if lines > 0 {
                        about.push_str(&format!(", {lines} as thin lines"));
                    }
                    if keys.other_keys() > 0 {
                        about.push_str(&format!(", {} more not drawn", keys.other_keys()));
                    }
                    view.title = format!("{title} ({about})");
                }
            }
            PlotKind::WindowCounts(id) => {
                view = event_x(view, session, "window end").y_label("records");
                if let Some(counts) = session.window_keys.get(id).and_then(|k| k.busiest_counts()) {
                    view.title = format!("{title} (busiest key)");
                    view = view.bars(counts);
                }
            }
            PlotKind::Watermark(id) => {
                view = view.x_label("wall time (s)");
                view = match (session.event_clock, session.event_origin_ms) {
                    (EventClock::Epoch, Some(origin)) => {
                        view.y_label("event time").y_event_time(origin)
                    }
                    (EventClock::Epoch, None) => view.y_label("event time"),
                    (EventClock::Rows, _) => view.y_label("event time (row number)"),
                };
                if let Some((watermark, newest)) = session.watermarks.get(id) {
                    view = view.series(watermark).series(newest);
                }
            }
            PlotKind::Late => {
                view = view.x_label("wall time (s)").y_label("late records");
                for s in session.late_counts.values() {
                    view = view.series(s);
                }
            }
            PlotKind::Throughput => {
                view = view.x_label("wall time (s)").y_label("records out / s");
                let lines = busy_nodes(session);
                if let Some(text) = throughput_message(session, &lines) {
                    view = view.message(text);
                }
                for s in lines {
                    view = view.series(s);
                }
            }
        }
        let plot_settings = settings.entry(title.clone()).or_insert_with(|| {
            let mut s = PlotSettings::default();
            if !matches!(kind, PlotKind::Loss(_) | PlotKind::Accuracy(_)) {
                s.smoothing = 0.0;
            }
            // One huge window mean must not squash every other key's line to the floor.
            s.clip_outliers = matches!(kind, PlotKind::Window(_));
            s
        });
        let response = plot_ui(ui, title, &view, plot_settings);
        if response.export_csv {
            let path = export_path(graph_path, title, "csv");
            message = Some(match view.export_csv(&path) {
                Ok(()) => Ok(format!("Exported {}", path.display())),
                Err(e) => Err(format!("Cannot export {}: {e}", path.display())),
            });
        }
        if response.save_png {
            png.request(response.plot_rect, export_path(graph_path, title, "png"));
        }
    });
    message
}

/// An x axis of event time: UTC clock times for epoch times, row numbers for numbered rows.
fn event_x<'a>(view: PlotView<'a>, session: &RunSession, label: &str) -> PlotView<'a> {
    match (session.event_clock, session.event_origin_ms) {
        (EventClock::Epoch, Some(origin)) => view.x_label(label).x_event_time(origin),
        (EventClock::Epoch, None) => view.x_label(label),
        (EventClock::Rows, _) => view.x_label(format!("{label} (row number)")),
    }
}

/// `<graph dir>/<graph stem>-<plot title>.<ext>`, or in the working directory when untitled.
fn export_path(graph_path: Option<&Path>, title: &str, ext: &str) -> PathBuf {
    let slug: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let stem = graph_path
        .and_then(|p| p.file_stem())
        .map_or("flowbook".to_owned(), |s| s.to_string_lossy().into_owned());
    let dir = graph_path
        .and_then(|p| p.parent())
        .map_or_else(PathBuf::new, Path::to_path_buf);
    dir.join(format!("{stem}-{slug}.{ext}"))
}
