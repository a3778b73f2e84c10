//! Modal dialogs: a file that failed to load (its error with line:column; the current graph is
//! untouched), the unsaved-changes question before New, Open or Quit, and the offer to restore
//! work left by a session that did not end cleanly. Buttons push commands.

use crate::app::canvas::style::ERROR_RED;
use crate::app::command::{Command, Guarded};
use crate::app::recovery::RecoveryOffer;
use crate::app::shell::Dialog;
use egui::{Context, Id, RichText};

pub fn dialogs_ui(
    ctx: &Context,
    dialog: Option<&Dialog>,
    title: &str,
    commands: &mut Vec<Command>,
) {
    let Some(dialog) = dialog else {
        return;
    };
    let modal = egui::Modal::new(Id::unique("flowbook-dialog")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        match dialog {
            Dialog::LoadError(message) => {
                ui.heading("Could not open the file");
                ui.add_space(6.0);
                // The plain sentence wraps; the line with its caret stays monospace.
                let (sentence, excerpt) = message.split_once('\n').unwrap_or((message, ""));
                ui.label(RichText::new(sentence).color(ERROR_RED));
                if !excerpt.is_empty() {
                    ui.add_space(4.0);
                    ui.add(egui::Label::new(RichText::new(excerpt).monospace()).extend());
                }
                ui.add_space(6.0);
                ui.label("The current graph is unchanged.");
                ui.add_space(6.0);
                if ui.button("OK").clicked() {
                    commands.push(Command::DismissDialog);
                }
            }
            Dialog::Unsaved(action) => {
                let what = match action {
                    Guarded::New => "starting a new graph",
                    Guarded::Open(_) | Guarded::OpenCopy(_) => "opening another graph",
                    Guarded::Quit => "quitting",
                };
                let name = title.trim_end_matches(" *");
                ui.heading("Unsaved changes");
                ui.label(format!("Save the changes to '{name}' before {what}?"));
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        commands.push(Command::SaveThen(action.clone()));
                    }
                    if ui.button("Don't save").clicked() {
                        commands.push(Command::Discard(action.clone()));
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(Command::DismissDialog);
                    }
                });
            }
            Dialog::Recovery(offer) => recovery_offer_ui(ui, offer, commands),
        }
    });
    if modal.should_close() {
        commands.push(Command::DismissDialog);
    }
}

/// "Restore unsaved work from <time> (<graph name>)?" with the file it belongs to.
fn recovery_offer_ui(ui: &mut egui::Ui, offer: &RecoveryOffer, commands: &mut Vec<Command>) {
    ui.heading("Unsaved work found");
    ui.label(offer.question());
    let belongs = match &offer.record.original {
        Some(path) => format!("It belongs to {}.", path.display()),
        None => "It was never saved to a file.".to_owned(),
    };
    ui.label(belongs);
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui.button("Restore").clicked() {
            commands.push(Command::RestoreRecovery);
        }
        if ui.button("Discard").clicked() {
            commands.push(Command::DiscardRecovery);
        }
    });
}
