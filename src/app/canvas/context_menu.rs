//! The canvas's right-click menu: what it offers depends on what was under the pointer (a
//! card, a wire, a comment or empty canvas). Items push commands or open the quick-add box.

use super::interact::{Hit, click_selects, hit_test};
use super::{CanvasContext, CanvasEvents, CanvasState, Layouts};
use crate::app::command::Command;
use egui::{Modifiers, Response};

/// The right-click menu: on a card, a wire, a comment or empty canvas.
pub fn context_menu_ui(
    state: &mut CanvasState,
    response: &Response,
    cx: &mut CanvasContext<'_>,
    layouts: &Layouts,
    events: &mut CanvasEvents,
) {
    if response.secondary_clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        let hit = hit_test(cx.graph, layouts, &state.view, p);
        let keep = match &hit {
            Hit::Node(id) => cx.selection.nodes.contains(id),
            Hit::Group(id) => cx.selection.groups.contains(id),
            Hit::Comment(i) => cx.selection.comments.contains(i),
            _ => true,
        };
        if !keep {
            click_selects(cx.selection, &hit, Modifiers::NONE);
        }
        if let Hit::Wire(edge) = &hit {
            click_selects(cx.selection, &Hit::Wire(edge.clone()), Modifiers::NONE);
        }
        state.context_target = Some((hit, p));
    }
    let Some((target, at)) = state.context_target.clone() else {
        return;
    };
    let commands = &mut *cx.commands;
    response.context_menu(|ui| match &target {
        Hit::Node(_) | Hit::Port(_) => {
            let node = match &target {
                Hit::Node(id) => Some(*id),
                Hit::Port(port) => Some(port.port.node),
                _ => None,
            };
            if let Some(node) = node
                && ui.button("Pin to notebook").clicked()
            {
                commands.push(Command::PinToNotebook(node));
            }
            if ui
                .button("Group")
                .on_hover_text("Show the selected nodes as one card (Ctrl+G)")
                .clicked()
            {
                commands.push(Command::GroupSelection);
            }
            edit_items_ui(ui, commands);
        }
        Hit::Group(group) => {
            if ui.button("Open group").clicked() {
                commands.push(Command::OpenGroup(Some(*group)));
            }
            if ui
                .button("Ungroup")
                .on_hover_text("Put its nodes back on the canvas (Ctrl+Shift+G)")
                .clicked()
            {
                commands.push(Command::Ungroup(*group));
            }
            edit_items_ui(ui, commands);
        }
        Hit::Wire(edge) => {
            if ui.button("Delete wire").clicked() {
                commands.push(Command::Disconnect(edge.clone()));
            }
        }
        Hit::Comment(_) | Hit::CommentResize(_) => {
            if ui.button("Delete comment").clicked() {
                commands.push(Command::DeleteSelection);
            }
        }
        Hit::Empty => {
            if ui.button("Add node…").clicked() {
                events.quick_add_at = Some((at, state.view.to_canvas(at)));
            }
            if state.scope.is_some() {
                if ui.button("Close group").clicked() {
                    commands.push(Command::OpenGroup(None));
                }
            } else if ui.button("Add comment").clicked() {
                let p = state.view.to_canvas(at);
                commands.push(Command::AddComment { pos: [p.x, p.y] });
            }
            if ui
                .add_enabled(cx.can_paste, egui::Button::new("Paste"))
                .clicked()
            {
                commands.push(Command::Paste(None));
            }
            ui.separator();
            if ui.button("Select All").clicked() {
                commands.push(Command::SelectAll);
            }
            if ui.button("Zoom to Fit").clicked() {
                commands.push(Command::ZoomToFit);
            }
        }
    });
}

/// Duplicate, Copy, Cut and Delete of the selection.
fn edit_items_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    if ui.button("Duplicate").clicked() {
        commands.push(Command::Duplicate);
    }
    if ui.button("Copy").clicked() {
        commands.push(Command::Copy);
    }
    if ui.button("Cut").clicked() {
        commands.push(Command::Cut);
    }
    ui.separator();
    if ui.button("Delete").clicked() {
        commands.push(Command::DeleteSelection);
    }
}
