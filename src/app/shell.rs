//! The editor window: `FlowbookApp` holds the document and all UI state as plain fields, lays
//! out the panels each frame (menu, palette, canvas, inspector, problems, status) and applies
//! the frame's commands at its end. Persisted settings live apart, in `Settings`.

use crate::app::canvas::CanvasState;
use crate::app::command::{Command, Guarded, Selection};
use crate::app::document::Document;
use crate::app::files::{FileDialogState, is_csv_file, is_graph_file};
use crate::app::inspector::InspectorState;
use crate::app::palette::{PaletteState, QuickAdd, quick_add_ui};
use crate::app::problems::ProblemsCache;
use crate::app::recovery::{Recovery, RecoveryOffer};
use crate::app::run::RunState;
use crate::app::settings::{STORAGE_KEY, Settings};
use crate::app::shortcuts::shortcuts_ui;
use crate::graph::Graph;
use egui::{Context, ViewportCommand};
use egui_commonmark::CommonMarkCache;
use std::path::Path;

/// A modal dialog waiting for the user.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    /// A file could not be opened; the text names the file and, for syntax errors, line:column.
    LoadError(String),
    /// Unsaved changes: save, discard or cancel before doing this.
    Unsaved(Guarded),
    /// Work left by an earlier session that did not end cleanly: restore or discard it.
    Recovery(Box<RecoveryOffer>),
}

/// The status bar's message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub text: String,
    pub is_error: bool,
}

/// The whole editor state. Fields are public so tests can assert on them.
pub struct FlowbookApp {
    pub doc: Document,
    pub selection: Selection,
    pub canvas: CanvasState,
    pub settings: Settings,
    pub problems: ProblemsCache,
    pub inspector: InspectorState,
    pub palette: PaletteState,
    pub quick_add: Option<QuickAdd>,
    pub file_dialog: Option<FileDialogState>,
    pub dialog: Option<Dialog>,
    pub status: Status,
    /// Why the last attempted wire was refused, if it was.
    pub last_refusal: Option<String>,
    /// The editor's own copy of the last Copy (Edit -> Paste uses it).
    pub clipboard: Option<String>,
    /// Commands waiting for the end of the frame; tests may push their own.
    pub commands: Vec<Command>,
    /// An action to finish once Save As picked a file.
    pub(crate) after_save: Option<Guarded>,
    pub(crate) markdown: CommonMarkCache,
    shown_title: String,
    applied_dark: Option<bool>,
    pub(crate) close_confirmed: bool,
    /// The current run (if any), earlier runs and run view options.
    pub run: RunState,
    /// The examples gallery, while it is open.
    pub gallery: Option<crate::app::gallery::GalleryState>,
    /// The notebook pane's editing state.
    pub notebook: crate::app::notebook::NotebookState,
    /// The wire selected last frame, to open its data preview when the selection changes.
    previous_edge: Option<crate::graph::Edge>,
    /// Autosave and the recovery offers; off unless built `with_recovery`.
    pub recovery: Recovery,
    /// The user's last click was on the canvas (see `canvas_has_keys`).
    pub(crate) keys_on_canvas: bool,
    /// Where each pane sat last frame.
    pub panes: crate::app::panes::PaneRects,
    /// The shared right column's tab on a narrow window.
    pub right_tab: crate::app::panes::RightTab,
}

impl FlowbookApp {
    /// An editor with an empty, untitled graph.
    pub fn new(settings: Settings) -> Self {
        Self {
            doc: Document::new(Graph::new("untitled"), None),
            selection: Selection::default(),
            canvas: CanvasState::default(),
            settings,
            problems: ProblemsCache::default(),
            inspector: InspectorState::default(),
            palette: PaletteState::default(),
            quick_add: None,
            file_dialog: None,
            dialog: None,
            status: Status {
                text: "Drag a node from the palette onto the canvas to start.".into(),
                is_error: false,
            },
            last_refusal: None,
            clipboard: None,
            commands: Vec::new(),
            after_save: None,
            markdown: CommonMarkCache::default(),
            shown_title: String::new(),
            applied_dark: None,
            close_confirmed: false,
            run: RunState::default(),
            notebook: Default::default(),
            gallery: None,
            previous_edge: None,
            recovery: Recovery::disabled(),
            keys_on_canvas: true,
            panes: Default::default(),
            right_tab: Default::default(),
        }
    }

    /// Builds the app from eframe's creation context, restoring the saved settings.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>) -> Self {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, STORAGE_KEY))
            .unwrap_or_default();
        Self::new(settings)
    }

    pub fn graph(&self) -> &Graph {
        self.doc.graph()
    }

    /// Shows `graph` as a freshly opened document (for tests and embedding).
    pub fn set_document(&mut self, graph: Graph, path: Option<std::path::PathBuf>) {
        self.replace_document(Document::new(graph, path));
    }

    /// Opens a file now (no unsaved-changes question): used at start-up.
    /// The first launch (no graph given) greets with the examples gallery.
    pub fn welcome_on_first_launch(&mut self) {
        if !self.settings.welcome_seen {
            self.gallery = Some(crate::app::gallery::GalleryState::load(true));
        }
    }

    pub fn open_now(&mut self, path: &Path) {
        self.open_file(path);
    }

    /// Replaces the document (after a successful load or New).
    pub(crate) fn replace_document(&mut self, doc: Document) {
        // A file that carries a notebook opens with its pane.
        if !doc.graph().notebook.is_empty() {
            self.settings.show_notebook = true;
        }
        self.doc = doc;
        // A run belongs to its document: stop it (dropping joins its threads).
        self.run = RunState {
            waker: self.run.waker.take(),
            ..RunState::default()
        };
        self.selection = Selection::default();
        self.inspector = InspectorState::default();
        self.problems.invalidate();
        self.canvas.open_scope(None);
        self.canvas.fit_requested = true;
        self.quick_add = None;
        self.notebook = crate::app::notebook::NotebookState::default();
        self.recovery.forget_document();
    }

    pub(crate) fn set_status(&mut self, text: impl Into<String>) {
        self.status = Status {
            text: text.into(),
            is_error: false,
        };
    }

    pub(crate) fn set_error(&mut self, text: impl Into<String>) {
        self.status = Status {
            text: text.into(),
            is_error: true,
        };
    }

    /// Work that must happen whether or not the window is shown: the run's telemetry is applied
    /// (on a time budget) and the executor is given a way to wake the editor.
    pub fn logic(&mut self, ctx: &Context) {
        if self.run.waker.is_none() {
            let ctx = ctx.clone();
            self.run.waker = Some(crate::exec::TelemetryWaker::new(move || {
                ctx.request_repaint()
            }));
        }
        self.drain_run(ctx);
    }

    /// One frame of the editor.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.apply_theme(&ctx);
        self.handle_close_request(&ctx);
        self.handle_dropped_files(&ctx);
        let modal_open = self.dialog.is_some() || self.file_dialog.is_some();
        let canvas_keys = self.canvas_has_keys(&ctx);
        let keys = if modal_open || self.quick_add.is_some() {
            Default::default()
        } else {
            shortcuts_ui(
                &ctx,
                self.settings.dark_theme,
                canvas_keys,
                &mut self.commands,
            )
        };
        self.problems
            .refresh(self.doc.graph(), self.doc.revision(), &self.doc.location());
        self.panels_ui(ui);
        self.open_preview_on_wire_click();
        if self.run.session.is_some() && self.run.plots.floating {
            let mut open = true;
            egui::Window::new("Plots")
                .open(&mut open)
                .default_size([900.0, 520.0])
                .show(&ctx, |ui| self.plots_area_ui(ui));
            if !open {
                self.run.plots.floating = false;
            }
        }
        if let Some(target) = self.run.preview.clone()
            && !crate::app::run::preview::preview_window(
                &ctx,
                self.doc.graph(),
                self.run.session.as_ref(),
                &target,
            )
        {
            self.commands.push(Command::ShowPreview(None));
        }
        if keys.ungroup
            && let Some(group) = self.selection.single_group()
        {
            self.commands.push(Command::Ungroup(group));
        }
        if keys.escape && self.canvas.scope.is_some() {
            self.commands.push(Command::OpenGroup(None));
        }
        if keys.quick_add {
            let pointer = ctx.input(|i| i.pointer.latest_pos());
            let view = &self.canvas.view;
            let at = pointer
                .filter(|p| view.rect.contains(*p))
                .unwrap_or(view.rect.center());
            self.quick_add = Some(QuickAdd::new(at, view.to_canvas(at)));
        }
        if let Some(quick) = &mut self.quick_add
            && !quick_add_ui(&ctx, quick, self.settings.snap_to_grid, &mut self.commands)
        {
            self.quick_add = None;
        }
        if let Some(dialog) = &mut self.file_dialog
            && let Some(answer) = dialog.file_dialog_ui(&ctx)
        {
            self.file_dialog = None;
            match answer {
                Some(command) => self.commands.push(command),
                None => self.after_save = None,
            }
        }
        if let Some(gallery) = &self.gallery
            && !crate::app::gallery::gallery_window(&ctx, gallery, &mut self.commands)
        {
            self.gallery = None;
            self.settings.welcome_seen = true;
        }
        crate::app::dialogs::dialogs_ui(
            &ctx,
            self.dialog.as_ref(),
            &self.doc.title(),
            &mut self.commands,
        );
        crate::app::run::flink::flink_dialog_ui(
            &ctx,
            &mut self.run.flink_dialog,
            &mut self.commands,
        );
        self.apply_commands(&ctx);
        self.recovery_ui(&ctx);
        self.update_title(&ctx);
    }

    /// The plots area's header (dock, compare, save) and its plots.
    pub(crate) fn plots_area_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("Plots");
            let dock = if self.run.plots.floating {
                "Dock at the bottom"
            } else {
                "Pop out"
            };
            if ui.button(dock).clicked() {
                self.run.plots.floating = !self.run.plots.floating;
            }
            ui.checkbox(
                &mut self.run.overlay_history,
                format!("compare earlier runs ({})", self.run.history.len()),
            );
            if ui
                .button("Save run metrics")
                .on_hover_text("Every kept run's metrics as CSV next to the graph file")
                .clicked()
            {
                self.commands
                    .push(Command::Run(crate::app::run::RunCommand::SaveMetrics));
            }
        });
        let path = self.doc.path.clone();
        let message = crate::app::run::plots_panel::plots_ui(
            ui,
            &mut self.run,
            self.doc.graph(),
            path.as_deref(),
            self.settings.show_notebook,
        );
        match message {
            Some(Ok(text)) => self.set_status(text),
            Some(Err(text)) => self.set_error(text),
            None => {}
        }
    }

    /// Applies the run's telemetry on a budget; repaints keep coming only while it runs.
    fn drain_run(&mut self, ctx: &Context) {
        let Some(session) = &mut self.run.session else {
            return;
        };
        let was_live = session.phase.is_live();
        session.drain(std::time::Duration::from_millis(8));
        if session.phase.is_live() {
            ctx.request_repaint_after(std::time::Duration::from_millis(33));
        } else if was_live {
            let text = match &session.phase {
                crate::app::run::session::RunPhase::Failed { node, message } => {
                    format!("Run {} failed at {node}: {message}", session.number)
                }
                _ => format!("Run {} ended ({:.2} s).", session.number, session.elapsed_s),
            };
            let failed = matches!(
                session.phase,
                crate::app::run::session::RunPhase::Failed { .. }
            );
            if failed {
                self.set_error(text);
            } else {
                self.set_status(text);
            }
            ctx.request_repaint();
        }
    }

    /// Clicking a wire opens the preview of its data (before a run too: it fills once the
    /// graph runs).
    fn open_preview_on_wire_click(&mut self) {
        let edge = self.selection.edge.clone();
        if edge != self.previous_edge {
            if let Some(e) = &edge {
                self.commands.push(Command::ShowPreview(Some((
                    e.from.node,
                    e.from.port.clone(),
                ))));
            }
            self.previous_edge = edge;
        }
    }

    fn apply_theme(&mut self, ctx: &Context) {
        if self.applied_dark != Some(self.settings.dark_theme) {
            self.applied_dark = Some(self.settings.dark_theme);
            ctx.set_theme(if self.settings.dark_theme {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
        }
    }

    fn handle_close_request(&mut self, ctx: &Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && self.doc.is_modified()
            && !self.close_confirmed
        {
            ctx.send_viewport_cmd(ViewportCommand::CancelClose);
            self.dialog = Some(Dialog::Unsaved(Guarded::Quit));
        }
    }

    fn handle_dropped_files(&mut self, ctx: &Context) {
        let dropped: Vec<_> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        let pointer = ctx.input(|i| i.pointer.latest_pos());
        for path in dropped {
            if is_graph_file(&path) {
                self.commands.push(Command::Open(path));
            } else if is_csv_file(&path) {
                let view = &self.canvas.view;
                let at = pointer
                    .filter(|p| view.rect.contains(*p))
                    .unwrap_or(view.rect.center());
                let pos =
                    CanvasState::drop_position(view.to_canvas(at), self.settings.snap_to_grid);
                self.commands.push(Command::AddCsvSource { path, pos });
            } else {
                self.set_error(format!(
                    "Cannot use {}: drop a .ron graph or a .csv file",
                    path.display()
                ));
            }
        }
    }

    fn update_title(&mut self, ctx: &Context) {
        // An unsaved graph says where its relative paths point, so outputs are never a surprise.
        let title = match self.doc.folder_hint() {
            Some(hint) => format!("{} — {hint} — Flowbook", self.doc.title()),
            None => format!("{} — Flowbook", self.doc.title()),
        };
        if title != self.shown_title {
            ctx.send_viewport_cmd(ViewportCommand::Title(title.clone()));
            self.shown_title = title;
        }
    }

    /// The window title as last sent.
    pub fn window_title(&self) -> &str {
        &self.shown_title
    }
}

impl eframe::App for FlowbookApp {
    /// Telemetry is drained here, outside the paint path: eframe calls `logic` before every
    /// frame and, while the window is hidden, whenever the executor's waker asks for a repaint,
    /// so a hidden window keeps the run's channel empty.
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        FlowbookApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.on_clean_exit();
    }
}
