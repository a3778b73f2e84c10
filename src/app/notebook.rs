//! The notebook pane beside the canvas: the graph's cells in order — markdown text and pinned
//! outputs (a trainer's plot, a window node's latest windows, the run summary) that fill from
//! the current run. Cells are part of the document: every change is an undoable edit.

use crate::app::command::Command;
use crate::app::plots::Series;
use crate::app::plots::{PlotSettings, PlotView, plot_ui};
use crate::app::run::RunState;
use crate::app::run::plots_panel::{markers_of, trainer_plot_view};
use crate::graph::{Cell, Graph};
use crate::notebook::{CellOutput, NotebookResults, Table, cell_title};
use egui::{RichText, Ui};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

/// UI state of the pane (not saved in the graph file).
#[derive(Default)]
pub struct NotebookState {
    /// The markdown cell being edited, and its text so far.
    editing: Option<(usize, String)>,
    /// Plot settings of pinned plots, by cell position.
    plot_settings: std::collections::BTreeMap<usize, PlotSettings>,
    /// The outputs saved with the file (shown until a run produces new ones).
    pub stored: Option<NotebookResults>,
}

impl NotebookState {
    /// Drops the state kept by cell position (the open editor, plot zoom) after cells moved.
    pub fn forget_positions(&mut self) {
        self.editing = None;
        self.plot_settings.clear();
    }

    /// Drops stored outputs of nodes no longer in the graph, so a new node that reuses a
    /// deleted node's id does not show the deleted node's results.
    pub fn forget_removed_nodes(&mut self, graph: &Graph) {
        if let Some(stored) = &mut self.stored {
            stored
                .outputs
                .retain(|r| r.cell.node().is_none_or(|n| graph.node(n).is_some()));
        }
    }
}

/// The payload of a cell being dragged to a new place: its position.
#[derive(Clone, Copy, Debug)]
struct CellDrag(usize);

pub use crate::notebook::pin_cells;

pub fn notebook_ui(
    ui: &mut Ui,
    state: &mut NotebookState,
    graph: &Graph,
    run_state: &RunState,
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
        if ui
            .button("Export report…")
            .on_hover_text("The notebook with the last run's outputs as one HTML page")
            .clicked()
        {
            commands.push(Command::ShowFileDialog(
                crate::app::command::DialogPurpose::ExportReport,
            ));
        }
    });
    if let Some(run) = state.stored.as_ref().and_then(|r| r.run.as_ref())
        // Shown until a run produces outputs of its own.
        && run_state.session.is_none()
    {
        ui.label(
            RichText::new(format!(
                "Outputs of the run saved with the file ({}, {:.1} s, {}).",
                run.outcome, run.seconds, run.taken_at
            ))
            .weak(),
        );
    }
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
                    let frame = egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        cell_header_ui(ui, index, count, cell, graph, commands);
                        cell_body_ui(ui, state, index, cell, graph, run_state, markdown, commands);
                    });
                    drop_target_ui(ui, &frame.response, index, commands);
                });
            }
        });
}

/// Dropping a dragged cell on this one moves it above or below, by the pointer's half.
fn drop_target_ui(ui: &Ui, frame: &egui::Response, index: usize, commands: &mut Vec<Command>) {
    let Some(pointer) = ui.ctx().pointer_interact_pos() else {
        return;
    };
    let below = pointer.y > frame.rect.center().y;
    if frame.dnd_hover_payload::<CellDrag>().is_some() {
        let y = if below {
            frame.rect.bottom() + 2.0
        } else {
            frame.rect.top() - 2.0
        };
        let stroke = egui::Stroke::new(3.0, ui.visuals().selection.bg_fill);
        ui.painter().hline(frame.rect.x_range(), y, stroke);
    }
    if let Some(dragged) = frame.dnd_release_payload::<CellDrag>() {
        let from = dragged.0;
        let insert_at = index + usize::from(below);
        let to = if from < insert_at {
            insert_at - 1
        } else {
            insert_at
        };
        if to != from {
            commands.push(Command::MoveCell { from, to });
        }
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
        let title = cell_title(cell, graph);
        ui.dnd_drag_source(
            egui::Id::unique(("notebook-drag-cell", index)),
            CellDrag(index),
            |ui| ui.label(RichText::new(format!("☰ {title}")).strong()),
        )
        .response
        .on_hover_text("Drag to move this cell");
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

/// Stored series back into plot series (they were thinned when saved).
fn stored_series(output: Option<CellOutput>) -> Vec<Series> {
    let Some(CellOutput::Plot { series, .. }) = output else {
        return Vec::new();
    };
    series
        .iter()
        .map(|s| {
            let mut out = Series::new(&s.name);
            for &(x, y) in &s.points {
                // Stored points are finite and in x order: pushing cannot fail.
                let _ = out.push(f64::from(x), f64::from(y));
            }
            out
        })
        .collect()
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
    // A live run's output, else the one saved with the file.
    let output = |stored: &Option<NotebookResults>| match session {
        Some(s) => s.results.output(graph, cell),
        None => stored.as_ref().and_then(|r| r.output(cell)).cloned(),
    };
    match cell {
        Cell::Markdown { text } => {
            let editing = state.editing.as_ref().is_some_and(|(i, _)| *i == index);
            if editing {
                if let Some((_, buffer)) = &mut state.editing {
                    ui.add(
                        egui::TextEdit::multiline(buffer)
                            .id(egui::Id::unique(("flowbook-notebook-cell", index)))
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
            // Live: the plots area's view of the session (markers, earlier runs faded
            // behind); else the stored thinned series.
            let stored = match session {
                Some(_) => Vec::new(),
                None => stored_series(output(&state.stored)),
            };
            let markers = session.map(|s| markers_of(s, *node)).unwrap_or_default();
            let history = if run.overlay_history {
                run.history.as_slice()
            } else {
                &[]
            };
            let title = cell_title(cell, graph);
            let view = match session {
                Some(s) => trainer_plot_view(title, s, history, graph, *node, plot, &markers),
                None => stored
                    .iter()
                    .fold(PlotView::new(title).x_label("step"), PlotView::series),
            };
            if view.series.is_empty() {
                ui.label(RichText::new("Fills when the graph runs.").weak());
                return;
            }
            let settings = state.plot_settings.entry(index).or_default();
            ui.allocate_ui(egui::vec2(ui.available_width(), 220.0), |ui| {
                plot_ui(ui, &format!("cell_plot_{index}"), &view, settings);
            });
        }
        Cell::Preview { node, port } => match output(&state.stored) {
            Some(CellOutput::Table(table)) => table_ui(ui, ("cell_table", index), &table),
            _ => {
                ui.label(
                    RichText::new("Fills when the graph runs (or click the wire during a run).")
                        .weak(),
                );
                if session.is_some() && ui.small_button("Watch now").clicked() {
                    commands.push(Command::ShowPreview(Some((*node, port.clone()))));
                }
            }
        },
        Cell::WindowStats { .. } | Cell::RunSummary => match output(&state.stored) {
            Some(CellOutput::Table(table)) => {
                if matches!(cell, Cell::RunSummary)
                    && let Some(s) = session
                {
                    ui.label(format!(
                        "Run {}: {:?} after {:.2} s",
                        s.number,
                        s.phase,
                        s.seconds()
                    ));
                }
                table_ui(ui, ("cell_table", index), &table);
            }
            _ => {
                ui.label(RichText::new("Fills when the graph runs.").weak());
            }
        },
    }
}

/// A results table as a striped grid, numbers in monospace.
fn table_ui(ui: &mut Ui, id: (&str, usize), table: &Table) {
    egui::ScrollArea::horizontal()
        .id_salt(("scroll", id))
        .show(ui, |ui| {
            egui::Grid::new(id).striped(true).show(ui, |ui| {
                for h in &table.headers {
                    ui.strong(h);
                }
                ui.end_row();
                for row in &table.rows {
                    for c in row {
                        ui.monospace(c);
                    }
                    ui.end_row();
                }
            });
        });
}
