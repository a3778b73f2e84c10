//! The menu bar: File, Edit, View and Run. Items only push commands; their enabled state
//! reflects the document (nothing to undo, nothing selected). Run items wait for the live-run
//! work and are shown disabled with a hint.

use crate::app::command::{Command, DialogPurpose};
use crate::app::shortcuts as keys;
use egui::{Button, KeyboardShortcut, Ui};
use std::path::PathBuf;

/// What the menus need to know about the editor's state.
pub struct MenuContext<'a> {
    pub can_undo: bool,
    pub can_redo: bool,
    pub has_selection: bool,
    pub can_paste: bool,
    pub dark_theme: bool,
    pub snap_to_grid: bool,
    pub show_minimap: bool,
    pub recent_files: &'a [PathBuf],
    pub show_notebook: bool,
    pub run_live: bool,
    pub run_paused: bool,
    pub has_run: bool,
    /// Nodes are selected on the top level (they can be grouped).
    pub can_group: bool,
    /// The one selected group card.
    pub selected_group: Option<crate::graph::GroupId>,
    /// A group is open for editing.
    pub group_open: bool,
}

fn item(ui: &mut Ui, label: &str, shortcut: Option<&KeyboardShortcut>, enabled: bool) -> bool {
    let mut button = Button::new(label);
    if let Some(s) = shortcut {
        button = button.shortcut_text(ui.ctx().format_shortcut(s));
    }
    ui.add_enabled(enabled, button).clicked()
}

pub fn menu_bar_ui(ui: &mut Ui, cx: &MenuContext<'_>, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu_ui(ui, cx, commands));
        ui.menu_button("Edit", |ui| edit_menu_ui(ui, cx, commands));
        ui.menu_button("View", |ui| view_menu_ui(ui, cx, commands));
        ui.menu_button("Run", |ui| run_menu_ui(ui, cx, commands));
    });
}

fn run_menu_ui(ui: &mut Ui, cx: &MenuContext<'_>, commands: &mut Vec<Command>) {
    use crate::app::run::RunCommand;
    let run = |c: RunCommand| Command::Run(c);
    let entries = [
        (
            if cx.run_paused { "Resume" } else { "Run" },
            &keys::RUN,
            !cx.run_live || cx.run_paused,
            run(RunCommand::Start),
        ),
        (
            "Pause",
            &keys::PAUSE,
            cx.run_live && !cx.run_paused,
            run(RunCommand::Pause),
        ),
        ("Step", &keys::STEP, true, run(RunCommand::Step)),
        ("Stop", &keys::STOP, cx.run_live, run(RunCommand::Stop)),
        ("Reset", &keys::RESET, cx.has_run, run(RunCommand::Reset)),
    ];
    for (label, shortcut, enabled, command) in entries {
        if item(ui, label, Some(shortcut), enabled) {
            commands.push(command);
        }
    }
    if item(
        ui,
        "Run on Flink cluster…",
        Some(&keys::RUN_ON_FLINK),
        !cx.run_live,
    ) {
        commands.push(run(RunCommand::ShowFlinkDialog));
    }
    ui.separator();
    if item(ui, "Save run metrics as CSV", None, cx.has_run) {
        commands.push(run(RunCommand::SaveMetrics));
    }
    if item(ui, "Forget earlier runs", None, true) {
        commands.push(run(RunCommand::ClearHistory));
    }
}

fn file_menu_ui(ui: &mut Ui, cx: &MenuContext<'_>, commands: &mut Vec<Command>) {
    if item(ui, "New", Some(&keys::NEW), true) {
        commands.push(Command::New);
    }
    if item(ui, "Open…", Some(&keys::OPEN), true) {
        commands.push(Command::ShowFileDialog(DialogPurpose::Open));
    }
    ui.add_enabled_ui(!cx.recent_files.is_empty(), |ui| {
        ui.menu_button("Open Recent", |ui| {
            for path in cx.recent_files {
                if ui.button(path.display().to_string()).clicked() {
                    commands.push(Command::Open(path.clone()));
                }
            }
        });
    });
    if item(ui, "Examples…", None, true) {
        commands.push(Command::ShowGallery);
    }
    ui.separator();
    if item(ui, "Save", Some(&keys::SAVE), true) {
        commands.push(Command::Save);
    }
    if item(ui, "Save As…", Some(&keys::SAVE_AS), true) {
        commands.push(Command::ShowFileDialog(DialogPurpose::SaveAs));
    }
    if item(ui, "Export report…", None, true) {
        commands.push(Command::ShowFileDialog(DialogPurpose::ExportReport));
    }
    ui.separator();
    if item(ui, "Add CSV source…", None, true) {
        commands.push(Command::ShowFileDialog(DialogPurpose::AddCsv));
    }
    ui.separator();
    if item(ui, "Quit", Some(&keys::QUIT), true) {
        commands.push(Command::Quit);
    }
}

fn edit_menu_ui(ui: &mut Ui, cx: &MenuContext<'_>, commands: &mut Vec<Command>) {
    let clip = |key| KeyboardShortcut::new(egui::Modifiers::COMMAND, key);
    if item(ui, "Undo", Some(&keys::UNDO), cx.can_undo) {
        commands.push(Command::Undo);
    }
    if item(ui, "Redo", Some(&keys::REDO), cx.can_redo) {
        commands.push(Command::Redo);
    }
    ui.separator();
    if item(ui, "Cut", Some(&clip(egui::Key::X)), cx.has_selection) {
        commands.push(Command::Cut);
    }
    if item(ui, "Copy", Some(&clip(egui::Key::C)), cx.has_selection) {
        commands.push(Command::Copy);
    }
    if item(ui, "Paste", Some(&clip(egui::Key::V)), cx.can_paste) {
        commands.push(Command::Paste(None));
    }
    if item(ui, "Duplicate", Some(&keys::DUPLICATE), cx.has_selection) {
        commands.push(Command::Duplicate);
    }
    let delete = Button::new("Delete").shortcut_text("Del");
    if ui.add_enabled(cx.has_selection, delete).clicked() {
        commands.push(Command::DeleteSelection);
    }
    ui.separator();
    if item(ui, "Group", Some(&keys::GROUP), cx.can_group) {
        commands.push(Command::GroupSelection);
    }
    if item(
        ui,
        "Ungroup",
        Some(&keys::UNGROUP),
        cx.selected_group.is_some(),
    ) && let Some(group) = cx.selected_group
    {
        commands.push(Command::Ungroup(group));
    }
    ui.separator();
    if item(ui, "Select All", Some(&keys::SELECT_ALL), true) {
        commands.push(Command::SelectAll);
    }
    if item(ui, "Add Comment", None, true) {
        // No position: the comment goes to the middle of the view.
        commands.push(Command::AddComment {
            pos: [f32::NAN, f32::NAN],
        });
    }
}

fn view_menu_ui(ui: &mut Ui, cx: &MenuContext<'_>, commands: &mut Vec<Command>) {
    if item(ui, "Zoom to Fit", Some(&keys::ZOOM_TO_FIT), true) {
        commands.push(Command::ZoomToFit);
    }
    if item(ui, "Reset Zoom", Some(&keys::RESET_ZOOM), true) {
        commands.push(Command::ResetZoom);
    }
    let close = Button::new("Close group").shortcut_text("Esc");
    if ui.add_enabled(cx.group_open, close).clicked() {
        commands.push(Command::OpenGroup(None));
    }
    ui.separator();
    let mut snap = cx.snap_to_grid;
    if ui.checkbox(&mut snap, "Snap to grid").changed() {
        commands.push(Command::SetSnapToGrid(snap));
    }
    let mut minimap = cx.show_minimap;
    if ui.checkbox(&mut minimap, "Minimap").changed() {
        commands.push(Command::SetMinimap(minimap));
    }
    let mut notebook = cx.show_notebook;
    if ui
        .checkbox(&mut notebook, "Notebook")
        .on_hover_text(ui.ctx().format_shortcut(&keys::NOTEBOOK))
        .changed()
    {
        commands.push(Command::ToggleNotebook);
    }
    ui.separator();
    let theme = keys::TOGGLE_THEME;
    if item(ui, "Dark theme", Some(&theme), !cx.dark_theme) {
        commands.push(Command::SetDarkTheme(true));
    }
    if item(ui, "Light theme", Some(&theme), cx.dark_theme) {
        commands.push(Command::SetDarkTheme(false));
    }
}
