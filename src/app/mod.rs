//! The desktop editor (feature `gui`): canvas, palette, inspector, notes, files and the
//! problems panel. Only this module imports egui and eframe; it changes the document through
//! typed commands applied at the end of each frame, and never runs a graph itself.

mod apply;
mod apply_groups;
pub mod canvas;
pub mod command;
mod dialogs;
pub mod document;
mod file_actions;
pub mod files;
pub mod gallery;
mod group_inspector;
mod inspector;
mod menus;
pub mod notebook;
pub mod palette;
pub mod panes;
pub mod param_check;
mod param_widgets;
pub mod plots;
pub mod problems;
pub mod recovery;
mod relocate;
pub mod run;
pub mod settings;
mod shell;
mod shortcuts;

pub use command::{Command, DialogPurpose, Guarded, Selection};
pub use panes::{PaneRects, PaneSizes, RightTab};
pub use settings::Settings;
pub use shell::{Dialog, FlowbookApp, Status};

use std::path::PathBuf;

/// Opens the editor window (optionally with a graph file, optionally running it at once) and
/// returns when it closes.
pub fn run_native(graph: Option<PathBuf>, autorun: bool) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Flowbook")
            .with_app_id("flowbook")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    recovery::install_crash_hook();
    eframe::run_native(
        "Flowbook",
        options,
        Box::new(move |cc| {
            let mut app = FlowbookApp::from_creation_context(cc);
            if let Some(dir) = recovery::default_recovery_dir() {
                let (recovery, errors) = recovery::Recovery::in_dir(&dir);
                app = app.with_recovery((recovery.publishing_crash_snapshots(), errors));
            }
            if graph.is_none() {
                app.welcome_on_first_launch();
            }
            if let Some(path) = graph {
                app.open_now(&path);
                if autorun {
                    app.commands.push(Command::Run(run::RunCommand::Start));
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| e.to_string())
}
