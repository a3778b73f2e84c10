//! The bar over the canvas while a group is open: where the user is ("Graph › mlp") and the
//! way back to the top level. Only pushes commands.

use crate::app::command::Command;
use crate::graph::{Graph, GroupId};
use egui::{Rect, RichText, Ui, UiBuilder, vec2};

pub fn scope_bar_ui(
    ui: &mut Ui,
    canvas: Rect,
    graph: &Graph,
    group: GroupId,
    commands: &mut Vec<Command>,
) {
    let Some(group) = graph.group(group) else {
        return;
    };
    let area = Rect::from_min_size(
        canvas.min + vec2(8.0, 8.0),
        vec2(canvas.width() - 16.0, 28.0),
    );
    ui.scope_builder(UiBuilder::new().max_rect(area), |ui| {
        egui::Frame::popup(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui
                    .button("◀ Graph")
                    .on_hover_text("Close the group and show the whole graph (Esc)")
                    .clicked()
                {
                    commands.push(Command::OpenGroup(None));
                }
                ui.label(RichText::new("/").weak());
                ui.strong(&group.name);
                ui.label(
                    RichText::new(format!(
                        "editing inside the group: {} nodes; wires to the outside end in stubs",
                        group.nodes.len()
                    ))
                    .weak(),
                );
            });
        });
    });
}
