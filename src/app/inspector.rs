//! The right-hand inspector: the selected node's name, parameters, ports, notes and docs; a
//! selected comment's markdown; a selected wire; or, with nothing selected, the graph's name
//! and notes. Reads the document and emits commands; invalid input never leaves the field.

use crate::app::canvas::layout::spec_of;
use crate::app::canvas::style::{ERROR_RED, category_color};
use crate::app::command::{Command, Selection};
use crate::app::param_widgets::{
    Buffers, TextField, checked_text_ui, field_width, param_row_ui, port_type_text, take_pending,
};
use crate::graph::{Graph, Node, NodeId, ParamValue, is_valid_name};
use egui::{RichText, Ui};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

/// Field buffers of the inspector. UI state only.
#[derive(Debug, Default)]
pub struct InspectorState {
    pub buffers: Buffers,
    /// The node the buffers belong to; a new selection drops them.
    shown: Option<NodeId>,
    /// Graph notes: rendered (false) or being edited (true).
    pub editing_notes: bool,
}

/// The selected node's numbers from the current run, drawn below its parameters.
pub type LiveSection<'a> = &'a mut dyn FnMut(&mut Ui, &mut Vec<Command>);

/// What the inspector needs for one frame.
pub struct InspectorContext<'a> {
    pub graph: &'a Graph,
    pub selection: &'a Selection,
    pub commands: &'a mut Vec<Command>,
    pub markdown: &'a mut CommonMarkCache,
    pub live: Option<LiveSection<'a>>,
}

pub fn inspector_ui(ui: &mut Ui, state: &mut InspectorState, mut cx: InspectorContext<'_>) {
    let shown = cx.selection.single_node();
    if shown != state.shown {
        // Typing the user did not confirm before selecting something else still counts.
        if let Some(old) = state.shown {
            let prefix = format!("{}.", old.0);
            for (key, value) in take_pending(&mut state.buffers) {
                if let Some(param) = key.strip_prefix(&prefix) {
                    cx.commands.push(Command::SetParam {
                        node: old,
                        param: param.to_owned(),
                        value,
                        merge: false,
                    });
                }
            }
        }
        state.buffers.clear();
        state.shown = shown;
    }
    // Both directions: content wider than the pane scrolls instead of widening the pane.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some(node) = shown.and_then(|id| cx.graph.node(id)) {
                node_ui(ui, state, node, &mut cx);
            } else if let Some(group) = cx.selection.single_group() {
                crate::app::group_inspector::group_ui(
                    ui,
                    &mut state.buffers,
                    cx.graph,
                    group,
                    cx.commands,
                );
            } else if let Some(index) = cx.selection.single_comment() {
                comment_ui(ui, state, cx.graph, index, cx.commands);
            } else if let Some(edge) = &cx.selection.edge {
                ui.heading("Wire");
                ui.label(format!(
                    "{}.{} -> {}.{}",
                    cx.graph.display_name(edge.from.node),
                    edge.from.port,
                    cx.graph.display_name(edge.to.node),
                    edge.to.port
                ));
                if ui.button("Delete wire").clicked() {
                    cx.commands.push(Command::Disconnect(edge.clone()));
                }
            } else if !cx.selection.is_empty() {
                ui.heading(format!(
                    "{} nodes, {} groups, {} comments selected",
                    cx.selection.nodes.len(),
                    cx.selection.groups.len(),
                    cx.selection.comments.len()
                ));
                ui.horizontal(|ui| {
                    let groupable =
                        !cx.selection.nodes.is_empty() && cx.selection.groups.is_empty();
                    if ui
                        .add_enabled(groupable, egui::Button::new("Group"))
                        .on_hover_text("Show the selected nodes as one card (Ctrl+G)")
                        .clicked()
                    {
                        cx.commands.push(Command::GroupSelection);
                    }
                    if ui.button("Duplicate").clicked() {
                        cx.commands.push(Command::Duplicate);
                    }
                    if ui.button("Delete").clicked() {
                        cx.commands.push(Command::DeleteSelection);
                    }
                });
            } else {
                graph_ui(ui, state, cx.graph, cx.commands, cx.markdown);
            }
        });
}

fn node_ui(ui: &mut Ui, state: &mut InspectorState, node: &Node, cx: &mut InspectorContext<'_>) {
    let graph = cx.graph;
    let Some(spec) = spec_of(node) else {
        ui.heading(&node.name);
        ui.colored_label(ERROR_RED, format!("Unknown node kind '{}'", node.kind));
        return;
    };
    ui.horizontal(|ui| {
        crate::app::palette::swatch_ui(ui, category_color(spec.category));
        ui.heading(spec.title);
        ui.label(RichText::new(spec.category.to_string()).weak());
    });
    ui.label(RichText::new(spec.summary).weak());
    ui.separator();
    egui::Grid::new("inspector-params")
        .num_columns(2)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("name");
            let key = format!("{}:name", node.id.0);
            let others: Vec<&str> = graph
                .nodes
                .iter()
                .filter(|n| n.id != node.id)
                .map(|n| n.name.as_str())
                .collect();
            let renamed = checked_text_ui(
                ui,
                &mut state.buffers,
                TextField::line(&key, node.name.clone(), field_width(ui, 170.0), label.id),
                |text| {
                    if !is_valid_name(text) {
                        return Err(
                            "use letters, digits, '_' or '-' (no dots, spaces or quotes)".into(),
                        );
                    }
                    if others.contains(&text) {
                        return Err(format!("'{text}' is already taken by another node"));
                    }
                    Ok(ParamValue::Text(text.to_owned()))
                },
            );
            if let Some(ParamValue::Text(name)) = renamed
                && name != node.name
            {
                cx.commands.push(Command::Rename {
                    node: node.id,
                    name,
                });
            }
            ui.end_row();
            if let Some(reason) = state.buffers.get(&key).and_then(|b| b.error.clone()) {
                ui.label("");
                ui.label(RichText::new(reason).color(ERROR_RED).small());
                ui.end_row();
            }
            for param in spec.params {
                if crate::app::param_check::param_applies(node, spec, param.name) {
                    param_row_ui(ui, &mut state.buffers, node, spec, param, cx.commands);
                }
            }
        });
    // Parameters first; the run's numbers below them, collapsible.
    if let Some(live) = cx.live.as_mut() {
        ui.separator();
        live(ui, cx.commands);
    }
    ui.separator();
    ports_ui(ui, node, graph, spec);
    ui.separator();
    ui.label(RichText::new("Notes").strong());
    let key = format!("{}:notes", node.id.0);
    let label = ui.label(RichText::new("markdown, saved in the file").weak().small());
    let notes = checked_text_ui(
        ui,
        &mut state.buffers,
        TextField::area(&key, node.notes.clone(), label.id),
        |t| Ok(ParamValue::Text(t.to_owned())),
    );
    if let Some(ParamValue::Text(text)) = notes {
        cx.commands.push(Command::SetNodeNotes {
            node: node.id,
            text,
        });
    }
    ui.separator();
    egui::CollapsingHeader::new("Documentation")
        .default_open(true)
        .show(ui, |ui| {
            CommonMarkViewer::new().show(ui, cx.markdown, spec.doc);
        });
}

fn ports_ui(ui: &mut Ui, node: &Node, graph: &Graph, spec: &'static crate::catalog::NodeSpec) {
    ui.label(RichText::new("Ports").strong());
    for (ports, output) in [(spec.inputs, false), (spec.outputs, true)] {
        for port in ports {
            let wires = graph
                .edges
                .iter()
                .filter(|e| {
                    let end = if output { &e.from } else { &e.to };
                    end.node == node.id && end.port == port.name
                })
                .count();
            ui.horizontal_wrapped(|ui| {
                ui.label(if output { "out" } else { "in" });
                ui.strong(port.name);
                ui.label(port_type_text(port.ty));
                let mut note = format!("{wires} wire{}", if wires == 1 { "" } else { "s" });
                if port.required {
                    note.push_str(", required");
                }
                if port.many {
                    note.push_str(", takes many");
                }
                let colour = if port.required && wires == 0 {
                    ERROR_RED
                } else {
                    ui.visuals().weak_text_color()
                };
                ui.label(RichText::new(note).color(colour).small());
            })
            .response
            .on_hover_text(port.doc);
        }
    }
}

fn comment_ui(
    ui: &mut Ui,
    state: &mut InspectorState,
    graph: &Graph,
    index: usize,
    commands: &mut Vec<Command>,
) {
    let Some(comment) = graph.comments.get(index) else {
        return;
    };
    ui.heading("Comment");
    let label = ui.label(
        RichText::new("Markdown: **bold**, *italic*, lists, `code`, # headings")
            .weak()
            .small(),
    );
    let key = format!("comment:{index}");
    let text = checked_text_ui(
        ui,
        &mut state.buffers,
        TextField::area(&key, comment.text.clone(), label.id),
        |t| Ok(ParamValue::Text(t.to_owned())),
    );
    if let Some(ParamValue::Text(text)) = text {
        commands.push(Command::SetCommentText { index, text });
    }
    if ui.button("Delete comment").clicked() {
        commands.push(Command::DeleteSelection);
    }
}

fn graph_ui(
    ui: &mut Ui,
    state: &mut InspectorState,
    graph: &Graph,
    commands: &mut Vec<Command>,
    markdown: &mut CommonMarkCache,
) {
    ui.heading("Graph");
    let label = ui.label("Name");
    let name = checked_text_ui(
        ui,
        &mut state.buffers,
        TextField::line("graph:name", graph.name.clone(), f32::INFINITY, label.id),
        |t| Ok(ParamValue::Text(t.to_owned())),
    );
    if let Some(ParamValue::Text(name)) = name {
        commands.push(Command::SetGraphName(name));
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Notes").strong());
        let toggle = if state.editing_notes {
            "Done"
        } else {
            "Edit notes"
        };
        if ui.small_button(toggle).clicked() {
            state.editing_notes = !state.editing_notes;
        }
    });
    if state.editing_notes {
        let label = ui.label(RichText::new("markdown, saved in the file").weak().small());
        let notes = checked_text_ui(
            ui,
            &mut state.buffers,
            TextField::area("graph:notes", graph.notes.clone(), label.id),
            |t| Ok(ParamValue::Text(t.to_owned())),
        );
        if let Some(ParamValue::Text(text)) = notes {
            commands.push(Command::SetGraphNotes(text));
        }
    } else if graph.notes.trim().is_empty() {
        ui.label(
            RichText::new("No notes yet. Press Edit notes to write what this graph shows.").weak(),
        );
    } else {
        CommonMarkViewer::new().show(ui, markdown, &graph.notes);
    }
    ui.add_space(8.0);
    ui.label(
        RichText::new(format!(
            "{} nodes, {} wires, {} comments",
            graph.nodes.len(),
            graph.edges.len(),
            graph.comments.len()
        ))
        .weak(),
    );
    ui.label(RichText::new("Select a node to edit its parameters.").weak());
}
