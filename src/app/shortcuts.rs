//! Keyboard shortcuts: the table the menus display and the handler that turns key presses
//! into commands. Editing keys act only when no text field has the keyboard, so Ctrl+Z in a
//! field undoes typing, not the graph; canvas keys (Delete, Backspace, Space, F, Ctrl+A …)
//! act only while the canvas is where the user works (pointer over it, or last click on it).

use crate::app::command::Command;
use crate::app::run::RunCommand;
use egui::{Context, Event, Key, KeyboardShortcut, Modifiers};

pub const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
pub const SAVE_AS: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
pub const QUIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);
pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
pub const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
pub const REDO_ALT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
pub const DUPLICATE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::D);
pub const SELECT_ALL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::A);
pub const GROUP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::G);
pub const UNGROUP: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::G);
pub const ZOOM_TO_FIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F);
pub const RESET_ZOOM: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0);
pub const RUN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
pub const PAUSE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F6);
pub const STEP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F10);
pub const STOP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::SHIFT, Key::F5);
/// Run ▸ Run on Flink cluster… (opens the dialog with the remembered address).
pub const RUN_ON_FLINK: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F5);
pub const RESET: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::F5);
pub const NOTEBOOK: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::N);
pub const TOGGLE_THEME: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::T);

/// What the shortcuts asked for this frame, besides commands.
#[derive(Debug, Default)]
pub struct ShortcutEvents {
    /// Space or Tab: open the quick-add box at the pointer.
    pub quick_add: bool,
    /// Ctrl+Shift+G: ungroup the selected group.
    pub ungroup: bool,
    /// Escape on the canvas: close the open group.
    pub escape: bool,
}

/// Reads this frame's key presses. `dark` is the current theme (for the toggle);
/// `canvas_keys` whether keys that act on the canvas's selection may act.
pub fn shortcuts_ui(
    ctx: &Context,
    dark: bool,
    canvas_keys: bool,
    commands: &mut Vec<Command>,
) -> ShortcutEvents {
    let mut out = ShortcutEvents::default();
    let text_focus = ctx.egui_wants_keyboard_input();
    ctx.input_mut(|i| {
        let mut take = |s: &KeyboardShortcut| i.consume_shortcut(s);
        // Longest modifier sets first, so Ctrl+Shift+S is not read as Ctrl+S.
        if take(&SAVE_AS) {
            commands.push(Command::ShowFileDialog(
                crate::app::command::DialogPurpose::SaveAs,
            ));
        }
        if take(&NOTEBOOK) {
            commands.push(Command::ToggleNotebook);
        }
        if take(&SAVE) {
            commands.push(Command::Save);
        }
        if take(&OPEN) {
            commands.push(Command::ShowFileDialog(
                crate::app::command::DialogPurpose::Open,
            ));
        }
        if take(&NEW) {
            commands.push(Command::New);
        }
        if take(&QUIT) {
            commands.push(Command::Quit);
        }
        if take(&TOGGLE_THEME) {
            commands.push(Command::SetDarkTheme(!dark));
        }

        // Run keys work even while a text field has focus (F-keys type nothing).
        if take(&RESET) {
            commands.push(Command::Run(RunCommand::Reset));
        }
        if take(&STOP) {
            commands.push(Command::Run(RunCommand::Stop));
        }
        if take(&RUN_ON_FLINK) {
            commands.push(Command::Run(RunCommand::ShowFlinkDialog));
        }
        if take(&RUN) {
            commands.push(Command::Run(RunCommand::Start));
        }
        if take(&PAUSE) {
            commands.push(Command::TogglePause);
        }
        if take(&STEP) {
            commands.push(Command::Run(RunCommand::Step));
        }
    });
    if text_focus {
        return out;
    }
    ctx.input_mut(|i| {
        let mut take = |s: &KeyboardShortcut| i.consume_shortcut(s);
        if take(&REDO) || take(&REDO_ALT) {
            commands.push(Command::Redo);
        }
        if take(&UNDO) {
            commands.push(Command::Undo);
        }
    });
    if !canvas_keys {
        return out;
    }
    ctx.input_mut(|i| {
        let mut take = |s: &KeyboardShortcut| i.consume_shortcut(s);
        if take(&UNGROUP) {
            out.ungroup = true;
        }
        if take(&GROUP) {
            commands.push(Command::GroupSelection);
        }
        if take(&DUPLICATE) {
            commands.push(Command::Duplicate);
        }
        if take(&SELECT_ALL) {
            commands.push(Command::SelectAll);
        }
        if take(&RESET_ZOOM) {
            commands.push(Command::ResetZoom);
        }
        if take(&ZOOM_TO_FIT) {
            commands.push(Command::ZoomToFit);
        }
        // Read, not consumed: an open menu or popup closes on the same Escape.
        out.escape = i.key_pressed(Key::Escape);
        if i.consume_key(Modifiers::NONE, Key::Delete)
            || i.consume_key(Modifiers::NONE, Key::Backspace)
        {
            commands.push(Command::DeleteSelection);
        }
        if i.consume_key(Modifiers::NONE, Key::Space) || i.consume_key(Modifiers::NONE, Key::Tab) {
            out.quick_add = true;
        }
        for event in &i.events {
            match event {
                Event::Copy => commands.push(Command::Copy),
                Event::Cut => commands.push(Command::Cut),
                Event::Paste(text) => commands.push(Command::Paste(Some(text.clone()))),
                _ => {}
            }
        }
    });
    out
}
