//! The notebook pane beside the canvas: the graph's cells in order — markdown text and pinned
//! outputs (a trainer's plot, a window node's latest windows, the run summary) that fill from
//! the current run. Cells are part of the document: every change is an undoable edit.

use crate::app::command::Command;
use crate::app::plots::{PlotSettings, PlotView, plot_ui};
use crate::app::run::RunState;
use crate::catalog::NodeKind;
use crate::graph::{Cell, Graph, NodeId};
use egui::{RichText, Ui};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

/// UI state of the pane (not saved in the file).
#[derive(Default)]
pub struct NotebookState {
    /// The markdown cell being edited, and its text so far.
    editing: Option<(usize, String)>,
    /// Plot settings of pinned plots, by cell position.
    plot_settings: std::collections::BTreeMap<usize, PlotSettings>,
}

/// The cells a "Pin to notebook" on `node` adds: what that kind of node shows best.
pub fn pin_cells(graph: &Graph, node: NodeId) -> Vec<Cell> {
    let kind = graph.node(node).and_then(|n| NodeKind::from_id(&n.kind));
    match kind {
        Some(NodeKind::Trainer) => vec![
            Cell::Plot {
                node,
                plot: "loss".into(),
            },
            Cell::Plot {
                node,
                plot: "accuracy".into(),
            },
        ],
        Some(NodeKind::Window | NodeKind::Aggregate) => vec![Cell::WindowStats { node }],
        _ => vec![Cell::Preview {
            node,
            port: "out".into(),
        }],
    }
}

/// The metric fields a pinned trainer plot draws.
fn plot_fields(plot: &str) -> &'static [&'static str] {
    match plot {
        "accuracy" => &["accuracy", "test_accuracy", "progressive_accuracy"],
        "lr" => &["lr"],
        _ => &["loss", "test_loss", "progressive_loss"],
    }
}

pub fn notebook_ui(
    ui: &mut Ui,
    state: &mut NotebookState,
    graph: &Graph,
    run: &RunState,
    markdown: &mut CommonMarkCache,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.heading("Notebook");
        if ui.button("+ Text").clicked() {
            commands.push(Command::AddCell(Cell::Markdown {
                text: "Write *markdown* here.".into(),
            }));
        }
        if ui.button("+ Run summary").clicked() {
            commands.push(Command::AddCell(Cell::RunSummary));
        }
    });
    if graph.notebook.is_empty() {
        ui.label(
            RichText::new(
                "No cells yet. Add text above, or right-click a node and choose Pin to notebook to keep \
                 its output here.",
            )
            .weak(),
        );
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let count = graph.notebook.len();
            for (index, cell) in graph.notebook.iter().enumerate() {
                ui.push_id(("cell", index), |ui| {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        cell_header_ui(ui, index, count, cell, graph, commands);
                        cell_body_ui(ui, state, index, cell, graph, run, markdown, commands);
                    });
                });
            }
        });
}

fn cell_title(cell: &Cell, graph: &Graph) -> String {
    let name = |n: &NodeId| graph.display_name(*n);
    match cell {
        Cell::Markdown { .. } => "Text".into(),
        Cell::Plot { node, plot } => format!("{} — {plot}", name(node)),
        Cell::Preview { node, port } => format!("{}.{port} — data", name(node)),
        Cell::WindowStats { node } => format!("{} — windows", name(node)),
        Cell::RunSummary => "Run summary".into(),
    }
}

fn cell_header_ui(
    ui: &mut Ui,
    index: usize,
    count: usize,
    cell: &Cell,
    graph: &Graph,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(cell_title(cell, graph)).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Delete").clicked() {
                commands.push(Command::DeleteCell(index));
            }
            if ui
                .add_enabled(index + 1 < count, egui::Button::new("Down").small())
                .clicked()
            {
                commands.push(Command::MoveCell {
                    from: index,
                    to: index + 1,
                });
            }
            if ui
                .add_enabled(index > 0, egui::Button::new("Up").small())
                .clicked()
            {
                commands.push(Command::MoveCell {
                    from: index,
                    to: index - 1,
                });
            }
        });
    });
}

#[allow(clippy::too_many_arguments)]
fn cell_body_ui(
    ui: &mut Ui,
    state: &mut NotebookState,
    index: usize,
    cell: &Cell,
    graph: &Graph,
    run: &RunState,
    markdown: &mut CommonMarkCache,
    commands: &mut Vec<Command>,
) {
    let session = run.session.as_ref();
    match cell {
        Cell::Markdown { text } => {
            let editing = state.editing.as_ref().is_some_and(|(i, _)| *i == index);
            if editing {
                if let Some((_, buffer)) = &mut state.editing {
                    ui.add(
                        egui::TextEdit::multiline(buffer)
                            .desired_rows(4)
                            .desired_width(f32::INFINITY),
                    );
                }
                if ui.button("Done").clicked()
                    && let Some((i, buffer)) = state.editing.take()
                {
                    commands.push(Command::SetCellText {
                        index: i,
                        text: buffer,
                    });
                }
            } else {
                CommonMarkViewer::new().show(ui, markdown, text);
                if ui.small_button("Edit").clicked() {
                    state.editing = Some((index, text.clone()));
                }
            }
        }
        Cell::Plot { node, plot } => {
            let series: Vec<_> = session
                .and_then(|s| s.metrics.get(node))
                .map(|m| {
                    plot_fields(plot)
                        .iter()
                        .filter_map(|f| m.field(f))
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if series.is_empty() {
                ui.label(RichText::new("Fills when the graph runs.").weak());
                return;
            }
            let mut view = PlotView::new(cell_title(cell, graph)).x_label("step");
            for s in series {
                view = view.series(s);
            }
            let settings = state.plot_settings.entry(index).or_default();
            ui.allocate_ui(egui::vec2(ui.available_width(), 220.0), |ui| {
                plot_ui(ui, &format!("cell_plot_{index}"), &view, settings);
            });
        }
        Cell::WindowStats { node } => {
            let windows = session.and_then(|s| s.windows.get(node));
            let Some(windows) = windows.filter(|w| !w.is_empty()) else {
                ui.label(RichText::new("Fills when the graph runs.").weak());
                return;
            };
            egui::Grid::new(("cell_windows", index))
                .striped(true)
                .show(ui, |ui| {
                    for h in ["key", "start", "end", "count", "mean", "min", "max"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for w in windows.iter().rev().take(12) {
                        ui.monospace(&w.key);
                        ui.monospace(w.start.to_string());
                        ui.monospace(w.end.to_string());
                        ui.monospace(w.count.to_string());
                        for v in [w.mean, w.min, w.max] {
                            ui.monospace(crate::exec::format_value(v));
                        }
                        ui.end_row();
                    }
                });
        }
        Cell::Preview { node, port } => {
            let rows = session.and_then(|s| s.node(*node)).and_then(|s| {
                let at = graph
                    .node(*node)
                    .and_then(crate::app::canvas::layout::spec_of)
                    .and_then(|spec| spec.outputs.iter().position(|p| p.name == port))?;
                s.preview.iter().find(|p| p.port == at).cloned()
            });
            match rows.filter(|p| !p.rows.is_empty()) {
                Some(p) => {
                    egui::Grid::new(("cell_preview", index))
                        .striped(true)
                        .show(ui, |ui| {
                            for h in &p.headers {
                                ui.strong(h);
                            }
                            ui.end_row();
                            for row in p.rows.iter().rev().take(12) {
                                for c in row {
                                    ui.monospace(c);
                                }
                                ui.end_row();
                            }
                        });
                }
                None => {
                    ui.label(
                        RichText::new("Click the wire while the graph runs to fill this preview.")
                            .weak(),
                    );
                    if session.is_some() && ui.small_button("Watch now").clicked() {
                        commands.push(Command::ShowPreview(Some((*node, port.clone()))));
                    }
                }
            }
        }
        Cell::RunSummary => match session {
            None => {
                ui.label(RichText::new("Fills when the graph runs.").weak());
            }
            Some(s) => {
                ui.label(format!(
                    "Run {}: {:?} after {:.2} s",
                    s.number,
                    s.phase,
                    s.seconds()
                ));
                for (id, status) in &s.nodes {
                    if graph.node(*id).is_none() || status.records_out == 0 {
                        continue;
                    }
                    let mut line = format!(
                        "{}: {} records out",
                        status.name,
                        crate::app::canvas::live::count_text(status.records_out as f64)
                    );
                    for (name, value) in &status.last_metrics {
                        if matches!(name.as_str(), "loss" | "test_accuracy") && value.is_finite() {
                            line.push_str(&format!(" · {name} {value:.4}"));
                        }
                    }
                    ui.label(line);
                }
            }
        },
    }
}
