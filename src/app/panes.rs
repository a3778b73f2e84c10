//! The panes around the canvas and their sizes. Every pane takes at most a share of the window,
//! so the canvas keeps room at any size (720×480 up to 4K), and no pane grows with what it
//! shows, so selecting a node never moves the canvas. On a narrow window the inspector and the
//! notebook share one column as tabs. Records where each pane landed (keyboard, tests).

use crate::app::canvas::CanvasContext;
use crate::app::command::Command;
use crate::app::inspector::{InspectorContext, inspector_ui};
use crate::app::menus::{MenuContext, menu_bar_ui};
use crate::app::palette::{QuickAdd, palette_ui};
use crate::app::problems::{StatusLine, problems_ui, status_bar_ui};
use crate::app::shell::FlowbookApp;
use egui::{Context, Rangef, Rect, Vec2};

/// Below this window width the notebook shares the inspector's column (as a tab).
pub const SHARED_COLUMN_BELOW: f32 = 1280.0;

/// Where each pane sat in the last frame, in screen points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaneRects {
    pub palette: Rect,
    /// The right column: the inspector (or, on a narrow window, inspector and notebook tabs).
    pub inspector: Rect,
    /// The notebook's own column, when it has one.
    pub notebook: Option<Rect>,
    pub problems: Option<Rect>,
    pub plots: Option<Rect>,
    pub canvas: Rect,
}

impl Default for PaneRects {
    fn default() -> Self {
        Self {
            palette: Rect::NOTHING,
            inspector: Rect::NOTHING,
            notebook: None,
            problems: None,
            plots: None,
            canvas: Rect::NOTHING,
        }
    }
}

impl PaneRects {
    /// The panes where a click hands the keyboard away from the canvas.
    fn working_panes(&self) -> impl Iterator<Item = Rect> + '_ {
        [Some(self.palette), Some(self.inspector)]
            .into_iter()
            .chain([self.notebook, self.problems, self.plots])
            .flatten()
    }
}

/// Which tab the shared right column shows on a narrow window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RightTab {
    #[default]
    Inspector,
    Notebook,
}

/// Each pane's size range (and first size) for a window of `window` points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaneSizes {
    pub palette: (Rangef, f32),
    pub inspector: (Rangef, f32),
    pub notebook: (Rangef, f32),
    pub problems: (Rangef, f32),
    pub plots: (Rangef, f32),
    /// The notebook shares the inspector's column.
    pub shared_column: bool,
}

/// A pane's size range: from `min` up to a share of the window (never below `min`), and its
/// first size.
fn share(window: f32, fraction: f32, min: f32, default: f32) -> (Rangef, f32) {
    let max = (window * fraction).max(min);
    (Rangef::new(min, max), default.clamp(min, max))
}

impl PaneSizes {
    pub fn for_window(window: Vec2, notebook: bool) -> Self {
        let (w, h) = (window.x, window.y);
        Self {
            palette: share(w, 0.16, 110.0, 190.0),
            inspector: share(w, 0.28, 200.0, 280.0),
            notebook: share(w, 0.28, 240.0, 300.0),
            problems: share(h, 0.2, 50.0, 90.0),
            plots: share(h, 0.4, 110.0, 330.0),
            shared_column: notebook && w < SHARED_COLUMN_BELOW,
        }
    }
}

fn side(panel: egui::Panel, (range, default): (Rangef, f32)) -> egui::Panel {
    panel
        .resizable(true)
        .default_size(default)
        .size_range(range)
}

impl FlowbookApp {
    pub(crate) fn panels_ui(&mut self, ui: &mut egui::Ui) {
        let sizes =
            PaneSizes::for_window(ui.ctx().content_rect().size(), self.settings.show_notebook);
        let menu_cx = MenuContext {
            can_undo: self.doc.can_undo(),
            can_redo: self.doc.can_redo(),
            has_selection: !self.selection.is_empty(),
            can_paste: self.clipboard.is_some(),
            dark_theme: self.settings.dark_theme,
            snap_to_grid: self.settings.snap_to_grid,
            show_minimap: self.settings.show_minimap,
            recent_files: &self.settings.recent_files,
            show_notebook: self.settings.show_notebook,
            run_live: self.run.is_live(),
            run_paused: self
                .run
                .session
                .as_ref()
                .is_some_and(|s| s.phase == crate::app::run::session::RunPhase::Paused),
            has_run: self.run.session.is_some(),
            can_group: self.canvas.scope.is_none()
                && !self.selection.nodes.is_empty()
                && self.selection.groups.is_empty(),
            selected_group: self.selection.single_group(),
            group_open: self.canvas.scope.is_some(),
        };
        egui::Panel::top("menu").show(ui, |ui| menu_bar_ui(ui, &menu_cx, &mut self.commands));
        egui::Panel::top("run_toolbar").show(ui, |ui| {
            crate::app::run::toolbar::run_toolbar_ui(
                ui,
                &self.run,
                self.doc.graph(),
                &mut self.commands,
            )
        });
        let status = StatusLine {
            message: &self.status.text,
            message_is_error: self.status.is_error,
            nodes: self.doc.graph().nodes.len(),
            wires: self.doc.graph().edges.len(),
            selected: self.selection.nodes.len() + self.selection.comments.len(),
            zoom: self.canvas.view.zoom,
            snap: self.settings.snap_to_grid,
            problems: self.problems.problems.len(),
            folder: self.doc.folder_badge(),
            folder_explained: self.doc.folder_explained(),
        };
        egui::Panel::bottom("status").show(ui, |ui| status_bar_ui(ui, &status));
        let failure = self.run.session.as_ref().and_then(|s| match &s.phase {
            crate::app::run::session::RunPhase::Failed { node, message } => {
                Some((s.id_of(node), format!("{node}: {message}")))
            }
            _ => None,
        });
        // The problems panel takes room only when there is something to fix.
        let show_problems = !self.problems.problems.is_empty() || failure.is_some();
        self.panes.problems = show_problems.then(|| {
            side(egui::Panel::bottom("problems"), sizes.problems)
                .show(ui, |ui| {
                    problems_ui(ui, &self.problems, failure, &mut self.commands)
                })
                .response
                .rect
        });
        let show_plots = self.run.session.is_some() && !self.run.plots.floating;
        self.panes.plots = show_plots.then(|| {
            side(egui::Panel::bottom("plots"), sizes.plots)
                .show(ui, |ui| self.plots_area_ui(ui))
                .response
                .rect
        });
        self.panes.palette = side(egui::Panel::left("palette"), sizes.palette)
            .show(ui, |ui| palette_ui(ui, &mut self.palette))
            .response
            .rect;
        self.panes.inspector = side(egui::Panel::right("inspector"), sizes.inspector)
            .show(ui, |ui| {
                if sizes.shared_column {
                    right_tabs_ui(ui, &mut self.right_tab);
                    if self.right_tab == RightTab::Notebook {
                        self.notebook_pane_ui(ui);
                        return;
                    }
                }
                self.inspector_pane_ui(ui);
            })
            .response
            .rect;
        self.panes.notebook = (self.settings.show_notebook && !sizes.shared_column).then(|| {
            side(egui::Panel::right("notebook"), sizes.notebook)
                .show(ui, |ui| self.notebook_pane_ui(ui))
                .response
                .rect
        });
        let live = self.run.session.as_ref().map(|s| {
            crate::app::run::overlay::live_overlay(s, self.doc.graph(), self.run.flow_view)
        });
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
                let cx = CanvasContext {
                    live: live.as_ref(),
                    graph: self.doc.graph(),
                    problem_nodes: &self.problems.nodes,
                    selection: &mut self.selection,
                    commands: &mut self.commands,
                    markdown: &mut self.markdown,
                    snap_to_grid: self.settings.snap_to_grid,
                    show_minimap: self.settings.show_minimap,
                    can_paste: self.clipboard.is_some(),
                };
                let events = self.canvas.canvas_ui(ui, cx);
                if let Some((screen, canvas)) = events.quick_add_at {
                    self.quick_add = Some(QuickAdd::new(screen, canvas));
                }
                if let Some(reason) = events.refusal {
                    self.set_error(format!("Wire refused: {reason}"));
                    self.last_refusal = Some(reason);
                }
            });
        self.panes.canvas = self.canvas.view.rect;
    }

    fn inspector_pane_ui(&mut self, ui: &mut egui::Ui) {
        let graph = self.doc.graph();
        let run = &mut self.run;
        let mut live = self.selection.single_node().map(|node| {
            move |ui: &mut egui::Ui, commands: &mut Vec<Command>| {
                crate::app::run::inspect::live_node_ui(ui, run, graph, node, commands)
            }
        });
        let cx = InspectorContext {
            graph,
            selection: &self.selection,
            commands: &mut self.commands,
            markdown: &mut self.markdown,
            live: live
                .as_mut()
                .map(|f| f as crate::app::inspector::LiveSection<'_>),
        };
        inspector_ui(ui, &mut self.inspector, cx);
    }

    fn notebook_pane_ui(&mut self, ui: &mut egui::Ui) {
        crate::app::notebook::notebook_ui(
            ui,
            &mut self.notebook,
            self.doc.graph(),
            &self.run,
            &mut self.markdown,
            &mut self.commands,
        )
    }

    /// Whether keys that act on the canvas (Delete, Space, F …) may act: the pointer is over
    /// the canvas, or the user's last click was on it. A click in a working pane (palette,
    /// inspector, notebook, problems, plots) hands the keyboard to that pane, so a key meant
    /// for a field never deletes a node; menus and toolbars leave it where it was.
    pub(crate) fn canvas_has_keys(&mut self, ctx: &Context) -> bool {
        let in_background = |pos: egui::Pos2| {
            ctx.layer_id_at(pos)
                .is_none_or(|l| l.order == egui::Order::Background)
        };
        let on_canvas = |pos: egui::Pos2| self.panes.canvas.contains(pos) && in_background(pos);
        let (pressed, hover) = ctx.input(|i| {
            (
                i.pointer
                    .any_pressed()
                    .then(|| i.pointer.interact_pos())
                    .flatten(),
                i.pointer.hover_pos(),
            )
        });
        if let Some(at) = pressed {
            if on_canvas(at) {
                self.keys_on_canvas = true;
            } else if in_background(at) && self.panes.working_panes().any(|r| r.contains(at)) {
                self.keys_on_canvas = false;
            }
        }
        self.keys_on_canvas || hover.is_some_and(on_canvas)
    }
}

/// The tab strip of the shared right column.
fn right_tabs_ui(ui: &mut egui::Ui, tab: &mut RightTab) {
    ui.horizontal(|ui| {
        ui.selectable_value(tab, RightTab::Inspector, "Inspector");
        ui.selectable_value(tab, RightTab::Notebook, "Notebook");
    });
    ui.separator();
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::vec2;

    #[test]
    fn the_canvas_keeps_room_at_the_smallest_window() {
        let sizes = PaneSizes::for_window(vec2(720.0, 480.0), true);
        assert!(
            sizes.shared_column,
            "the notebook shares the inspector's column"
        );
        let sides = sizes.palette.0.max + sizes.inspector.0.max;
        assert!(720.0 - sides >= 300.0, "canvas width {}", 720.0 - sides);
        let bottoms = sizes.problems.0.max + sizes.plots.0.max;
        assert!(480.0 - 90.0 - bottoms >= 90.0, "canvas height");
    }

    #[test]
    fn a_wide_window_keeps_the_first_sizes() {
        let sizes = PaneSizes::for_window(vec2(1600.0, 1000.0), true);
        assert!(!sizes.shared_column);
        assert_eq!(sizes.palette.1, 190.0);
        assert_eq!(sizes.inspector.1, 280.0);
        assert_eq!(sizes.notebook.1, 300.0);
        assert_eq!(sizes.plots.1, 330.0);
    }
}
