//! The data preview: the last records that left a wire's port, as a table refreshing live.
//! It watches one node at a time (the executor keeps rows only for watched nodes).

use super::session::RunSession;
use crate::graph::{Graph, NodeId};
use egui::{Context, RichText};

/// Shows the preview window of `(node, port)`; returns false when the user closed it.
pub fn preview_window(
    ctx: &Context,
    graph: &Graph,
    session: Option<&RunSession>,
    target: &(NodeId, String),
) -> bool {
    let (node, port) = target;
    let name = graph
        .node(*node)
        .map_or_else(|| "?".to_owned(), |n| n.name.clone());
    let mut open = true;
    egui::Window::new(format!("Data preview — {name}.{port}"))
        .open(&mut open)
        .default_size([560.0, 320.0])
        .default_pos([420.0, 110.0])
        .resizable(true)
        .show(ctx, |ui| preview_ui(ui, graph, session, *node, port));
    open
}

fn preview_ui(
    ui: &mut egui::Ui,
    graph: &Graph,
    session: Option<&RunSession>,
    node: NodeId,
    port: &str,
) {
    let Some(session) = session else {
        ui.label(
            "Press Run (F5): the last records on this wire show here while the graph runs, \
             and stay after it ends.",
        );
        return;
    };
    let port_index = graph
        .node(node)
        .and_then(crate::app::canvas::layout::spec_of)
        .and_then(|s| s.outputs.iter().position(|p| p.name == port))
        .unwrap_or(0);
    let preview = session
        .node(node)
        .and_then(|s| s.preview.iter().find(|p| p.port == port_index));
    let Some(preview) = preview.filter(|p| !p.rows.is_empty()) else {
        ui.label(if session.phase.is_live() {
            "Waiting for records on this wire…"
        } else {
            "No records passed this wire while it was watched. Run again to see them."
        });
        return;
    };
    ui.label(
        RichText::new(format!(
            "last {} records, newest first{}",
            preview.rows.len(),
            if session.phase.is_live() {
                " · live"
            } else {
                ""
            }
        ))
        .weak(),
    );
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("preview_grid")
                .striped(true)
                .min_col_width(48.0)
                .show(ui, |ui| {
                    for h in &preview.headers {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for row in preview.rows.iter().rev() {
                        for cell in row {
                            ui.monospace(cell);
                        }
                        ui.end_row();
                    }
                });
        });
}
