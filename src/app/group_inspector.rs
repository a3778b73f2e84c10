//! The inspector of a group card: its name, its nodes (click to open the group at one), its
//! outer ports, and the ways in (Open) and out (Ungroup). Emits commands only.

use crate::app::canvas::cards::outer_ports;
use crate::app::command::Command;
use crate::app::param_widgets::{Buffers, TextField, checked_text_ui, port_type_text};
use crate::graph::{Graph, GroupId, ParamValue};
use egui::{RichText, Ui};

pub fn group_ui(
    ui: &mut Ui,
    buffers: &mut Buffers,
    graph: &Graph,
    id: GroupId,
    commands: &mut Vec<Command>,
) {
    let Some(group) = graph.group(id) else {
        return;
    };
    ui.heading("Group");
    ui.label(
        RichText::new(
            "Its nodes run as if they were on the canvas; the group only shows them as one card.",
        )
        .weak(),
    );
    ui.horizontal(|ui| {
        if ui
            .button("Open group")
            .on_hover_text("Edit inside (double-click the card; Esc comes back)")
            .clicked()
        {
            commands.push(Command::OpenGroup(Some(id)));
        }
        if ui
            .button("Ungroup")
            .on_hover_text("Put its nodes back on the canvas (Ctrl+Shift+G)")
            .clicked()
        {
            commands.push(Command::Ungroup(id));
        }
    });
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("name");
        let key = format!("group:{}:name", id.0);
        let others: Vec<&str> = graph
            .groups
            .iter()
            .filter(|g| g.id != id)
            .map(|g| g.name.as_str())
            .collect();
        let renamed = checked_text_ui(
            ui,
            buffers,
            TextField::line(&key, group.name.clone(), 170.0, label.id),
            |text| {
                let text = text.trim();
                if text.is_empty() {
                    return Err("a group needs a name".into());
                }
                if others.contains(&text) {
                    return Err(format!("'{text}' is already another group's name"));
                }
                Ok(ParamValue::Text(text.to_owned()))
            },
        );
        if let Some(ParamValue::Text(name)) = renamed
            && name != group.name
        {
            commands.push(Command::RenameGroup { group: id, name });
        }
    });
    if let Some(reason) = buffers
        .get(&format!("group:{}:name", id.0))
        .and_then(|b| b.error.clone())
    {
        ui.label(
            RichText::new(reason)
                .color(crate::app::canvas::style::ERROR_RED)
                .small(),
        );
    }
    ui.add_space(6.0);
    ui.label(RichText::new(format!("{} nodes", group.nodes.len())).strong());
    ui.horizontal_wrapped(|ui| {
        for node in group.nodes.iter().filter_map(|n| graph.node(*n)) {
            if ui
                .link(&node.name)
                .on_hover_text(format!("{}: open the group at this node", node.kind))
                .clicked()
            {
                commands.push(Command::FocusNode(node.id));
            }
        }
    });
    ui.add_space(6.0);
    ui.label(RichText::new("Outer ports").strong());
    let (inputs, outputs) = outer_ports(graph, group);
    for (ports, side) in [(inputs, "in"), (outputs, "out")] {
        for (node, spec, label) in ports {
            ui.horizontal_wrapped(|ui| {
                ui.label(side);
                ui.strong(label.as_ref());
                ui.label(port_type_text(spec.ty));
                ui.label(
                    RichText::new(format!("({}.{})", graph.display_name(node), spec.name))
                        .weak()
                        .small(),
                );
            });
        }
    }
}
