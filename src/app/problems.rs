//! The validator's findings, kept fresh as the document changes, and the bottom panels that
//! show them: the problems list (click to select and centre a node) and the status bar.
//! Validation runs once per document revision, never per frame.

use crate::app::canvas::style::ERROR_RED;
use crate::app::command::Command;
use crate::graph::{Graph, NodeId};
use crate::plan::{GraphLocation, Problem, validate_in};
use egui::{RichText, Ui};
use std::collections::BTreeSet;

/// Problems of one revision of the document.
#[derive(Debug, Default)]
pub struct ProblemsCache {
    revision: Option<u64>,
    location: Option<GraphLocation>,
    pub problems: Vec<Problem>,
    /// Nodes with at least one problem: drawn with a red outline.
    pub nodes: BTreeSet<NodeId>,
}

impl ProblemsCache {
    /// Re-validates when the document changed since the last call.
    pub fn refresh(&mut self, graph: &Graph, revision: u64, location: &GraphLocation) {
        if self.revision == Some(revision) && self.location.as_ref() == Some(location) {
            return;
        }
        self.revision = Some(revision);
        self.location = Some(location.clone());
        self.problems = validate_in(graph, location);
        self.nodes = self.problems.iter().filter_map(|p| p.node).collect();
    }

    /// Forces the next `refresh` to validate (after a load replaced the document).
    pub fn invalidate(&mut self) {
        self.revision = None;
    }
}

/// The problems of the document, and the error of the last run if it failed (with its node).
pub fn problems_ui(
    ui: &mut Ui,
    cache: &ProblemsCache,
    run_failure: Option<(Option<crate::graph::NodeId>, String)>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong("Problems");
        let count = cache.problems.len();
        if count == 0 && run_failure.is_some() {
            ui.label(RichText::new("the last run failed").color(ERROR_RED));
        } else if count == 0 {
            ui.label(RichText::new("none: the graph can run").weak());
        } else {
            ui.label(RichText::new(count.to_string()).color(ERROR_RED).strong());
        }
    });
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some((node, message)) = &run_failure {
                let text = RichText::new(format!("Run failed — {message}"))
                    .color(ERROR_RED)
                    .strong();
                let clicked = ui
                    .add(egui::Label::new(text).sense(egui::Sense::click()))
                    .on_hover_text("Click to select the node that failed")
                    .clicked();
                if clicked && let Some(node) = node {
                    commands.push(Command::FocusNode(*node));
                }
            }
            for problem in &cache.problems {
                let text = RichText::new(problem.to_string()).color(ERROR_RED);
                let clicked = ui
                    .add(egui::Label::new(text).sense(egui::Sense::click()))
                    .on_hover_text("Click to select the node")
                    .clicked();
                if clicked && let Some(node) = problem.node {
                    commands.push(Command::FocusNode(node));
                }
            }
        });
}

/// What the status bar shows.
pub struct StatusLine<'a> {
    pub message: &'a str,
    pub message_is_error: bool,
    pub nodes: usize,
    pub wires: usize,
    pub selected: usize,
    pub zoom: f32,
    pub snap: bool,
    pub problems: usize,
    /// Where an unsaved graph's relative paths point ("files in Documents/").
    pub folder: Option<String>,
    /// The tooltip: the folder and why it is the base.
    pub folder_explained: String,
}

pub fn status_bar_ui(ui: &mut Ui, status: &StatusLine<'_>) {
    // The counts take their room first (right to left); the message gets the rest, cut with
    // an ellipsis (its whole text on hover), so the two never overlap on a narrow window.
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(format!("zoom {:.0}%", status.zoom * 100.0));
        ui.separator();
        ui.label(if status.snap { "snap on" } else { "snap off" });
        ui.separator();
        let problems = format!(
            "{} problem{}",
            status.problems,
            if status.problems == 1 { "" } else { "s" }
        );
        if status.problems > 0 {
            ui.label(RichText::new(problems).color(ERROR_RED));
        } else {
            ui.label(problems);
        }
        ui.separator();
        ui.label(format!(
            "{} nodes · {} wires · {} selected",
            status.nodes, status.wires, status.selected
        ));
        if let Some(folder) = &status.folder {
            ui.separator();
            ui.label(folder).on_hover_text(&status.folder_explained);
        }
        ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
            let colour = if status.message_is_error {
                ERROR_RED
            } else {
                ui.visuals().text_color()
            };
            ui.add(egui::Label::new(RichText::new(status.message).color(colour)).truncate());
        });
    });
}
