//! Typed editors for one parameter: numbers (text with range check, scrub the name to drag),
//! checkboxes, combo boxes for choices, paths with a pick button, expressions with a live
//! syntax check. An invalid entry stays in the field, in red with its reason, and never
//! becomes a command; valid entries become `SetParam` commands. Every field has a fixed id
//! (from its buffer key), so panels appearing around it never take its keyboard focus away.

use crate::app::canvas::style::ERROR_RED;
use crate::app::command::{Command, DialogPurpose};
use crate::app::param_check::{check_param, default_value};
use crate::catalog::{NodeSpec, ParamKind, ParamSpec, parse_param_text};
use crate::graph::{Node, ParamValue};
use egui::{RichText, Sense, Ui};
use std::collections::HashMap;

/// Text being typed into a field that differs from the document (while focused, or invalid).
#[derive(Clone, Debug, Default)]
pub struct FieldBuffer {
    pub text: String,
    pub error: Option<String>,
    /// A field that commits on Enter: the value its valid text will become when the user
    /// presses Enter or leaves the field (or selects something else first).
    pub pending: Option<ParamValue>,
}

/// The fixed id of the text field with buffer key `key`: independent of where the field sits
/// in the widget tree, so it keeps the keyboard whatever panels come and go around it.
pub fn field_id(key: &str) -> egui::Id {
    egui::Id::unique(("flowbook-field", key))
}

/// A field's width in the inspector grid: `preferred`, or less when the pane is narrow, leaving
/// room for the reset button so the row fits the pane.
pub fn field_width(ui: &Ui, preferred: f32) -> f32 {
    (ui.available_width() - 48.0).clamp(60.0, preferred)
}

/// When a field's text becomes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// At every valid keystroke (merged into one undo step): names, notes, most parameters.
    EveryChange,
    /// On Enter or when the field loses focus; Escape drops the typing. Live parameters use
    /// it, so typing `0.05` changes a running trainer once, not at `0`, `0.0` and `0.05`.
    OnEnter,
}

/// The inspector's field buffers, keyed by `node-id.param` (or `node-id:name`).
pub type Buffers = HashMap<String, FieldBuffer>;

/// The text a value is edited as.
pub fn value_text(value: &ParamValue) -> String {
    match value {
        ParamValue::Text(s) => s.clone(),
        ParamValue::Float(x) => {
            let text = x.to_string();
            if text.contains(['.', 'e', 'E', 'N', 'i']) {
                text
            } else {
                format!("{text}.0")
            }
        }
        other => other.to_string(),
    }
}

/// How a checked text field looks: its buffer key, the document's text, its size and label.
pub struct TextField<'a> {
    pub key: &'a str,
    pub current_text: String,
    pub width: f32,
    pub multiline: bool,
    /// The label widget that names the field (for screen readers and tests).
    pub label: egui::Id,
    pub commit: Commit,
}

impl<'a> TextField<'a> {
    pub fn line(key: &'a str, current_text: String, width: f32, label: egui::Id) -> Self {
        Self {
            key,
            current_text,
            width,
            multiline: false,
            label,
            commit: Commit::EveryChange,
        }
    }

    pub fn area(key: &'a str, current_text: String, label: egui::Id) -> Self {
        Self {
            key,
            current_text,
            width: f32::INFINITY,
            multiline: true,
            label,
            commit: Commit::EveryChange,
        }
    }
}

/// A text field bound to a buffer. Returns the parsed value when the user changed the text
/// into a valid one (`Commit::EveryChange`) or committed a valid text (`Commit::OnEnter`);
/// shows the parse error in red otherwise.
pub fn checked_text_ui(
    ui: &mut Ui,
    buffers: &mut Buffers,
    field: TextField<'_>,
    parse: impl Fn(&str) -> Result<ParamValue, String>,
) -> Option<ParamValue> {
    let TextField {
        key,
        current_text,
        width,
        multiline,
        label,
        commit,
    } = field;
    let buffer = buffers
        .entry(key.to_owned())
        .or_insert_with(|| FieldBuffer {
            text: current_text.clone(),
            ..FieldBuffer::default()
        });
    let invalid = buffer.error.is_some();
    let mut edit = if multiline {
        egui::TextEdit::multiline(&mut buffer.text).desired_rows(2)
    } else {
        egui::TextEdit::singleline(&mut buffer.text)
    }
    .id(field_id(key))
    .desired_width(width);
    if invalid {
        edit = edit.text_color(ERROR_RED);
    }
    let response = ui.add(edit).labelled_by(label);
    let mut result = None;
    if response.changed() {
        match parse(&buffer.text) {
            Ok(value) => {
                buffer.error = None;
                if commit == Commit::OnEnter {
                    buffer.pending = (buffer.text != current_text).then(|| value.clone());
                }
                result = Some(value);
            }
            Err(reason) => {
                buffer.error = Some(reason);
                buffer.pending = None;
            }
        }
    }
    if commit == Commit::OnEnter {
        // Typing only checks; the value leaves the field when the user is done with it.
        let escaped = ui.input(|i| i.key_pressed(egui::Key::Escape));
        let done = response.lost_focus();
        result = match (done, escaped) {
            (true, true) => {
                buffers.remove(key);
                return None;
            }
            (true, false) => buffer.pending.take(),
            _ => None,
        };
    }
    if invalid {
        response.clone().highlight();
        ui.painter().rect_stroke(
            response.rect,
            2.0,
            egui::Stroke::new(1.5, ERROR_RED),
            egui::StrokeKind::Outside,
        );
    }
    let keep = response.has_focus() || buffer.error.is_some();
    if !keep {
        buffers.remove(key);
    }
    result
}

/// Valid typing still waiting in fields that commit on Enter, by buffer key, when the fields
/// go away before the user left them (another selection). The buffers are dropped.
pub fn take_pending(buffers: &mut Buffers) -> Vec<(String, ParamValue)> {
    let pending = buffers
        .iter_mut()
        .filter_map(|(key, b)| b.pending.take().map(|v| (key.clone(), v)))
        .collect();
    buffers.clear();
    pending
}

/// One row of the parameter grid (label, editor, reset), plus its error line if any.
pub fn param_row_ui(
    ui: &mut Ui,
    buffers: &mut Buffers,
    node: &Node,
    spec: &'static NodeSpec,
    param: &'static ParamSpec,
    commands: &mut Vec<Command>,
) {
    let key = format!("{}.{}", node.id.0, param.name);
    let own = node.params.get(param.name);
    let value = own.cloned().unwrap_or_else(|| default_value(param));
    let set = |value: ParamValue, merge: bool| Command::SetParam {
        node: node.id,
        param: param.name.to_owned(),
        value,
        merge,
    };
    let range = match param.kind {
        ParamKind::Int { min, max } => {
            format!("\ninteger in {min}..={max}; drag the name to change")
        }
        ParamKind::Float { min, max } => {
            format!("\nnumber in {min}..={max}; drag the name to change")
        }
        _ => String::new(),
    };
    let numeric = matches!(param.kind, ParamKind::Int { .. } | ParamKind::Float { .. });
    let (label_text, live_hint) = if param.live {
        (
            format!("{} (live)", param.name),
            "\nlive: while the graph runs, a new value applies on Enter (or when the field \
             loses focus) and is marked on the plots",
        )
    } else {
        (param.name.to_owned(), "")
    };
    let label = ui
        .add(egui::Label::new(label_text).sense(if numeric {
            Sense::drag()
        } else {
            Sense::hover()
        }))
        .on_hover_text(format!("{}{range}{live_hint}", param.doc));
    if numeric {
        scrub_ui(ui, &label, param, &value, &mut |v| {
            commands.push(set(v, true))
        });
        if label.drag_stopped() {
            commands.push(Command::EndEdit);
            // A scrubbed live parameter reaches the running graph once, where it was let go.
            if param.live {
                commands.push(Command::CommitLiveParam {
                    node: node.id,
                    param: param.name.to_owned(),
                });
            }
        }
    }
    let stored_error = check_param(spec, param.name, &value).err();
    ui.horizontal(|ui| {
        match param.kind {
            ParamKind::Bool => {
                let mut on = matches!(value, ParamValue::Bool(true));
                if ui.checkbox(&mut on, "").labelled_by(label.id).changed() {
                    commands.push(set(ParamValue::Bool(on), false));
                }
            }
            ParamKind::Choice(options) => {
                let current = value_text(&value);
                egui::ComboBox::from_id_salt(&key)
                    .selected_text(current.clone())
                    .width(field_width(ui, 150.0))
                    .show_ui(ui, |ui| {
                        for option in options {
                            if ui.selectable_label(current == *option, *option).clicked()
                                && current != *option
                            {
                                commands.push(set(ParamValue::Text((*option).to_owned()), false));
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
            }
            ParamKind::Path => {
                let parsed = checked_text_ui(
                    ui,
                    buffers,
                    TextField::line(&key, value_text(&value), field_width(ui, 150.0), label.id),
                    |t| parse_param_text(param, t).map_err(|e| e.to_string()),
                );
                if let Some(v) = parsed {
                    commands.push(set(v, true));
                }
                if ui.button("…").on_hover_text("Pick a file").clicked() {
                    commands.push(Command::ShowFileDialog(DialogPurpose::ParamPath {
                        node: node.id,
                        param: param.name.to_owned(),
                    }));
                }
            }
            ParamKind::Expr
            | ParamKind::Text
            | ParamKind::List
            | ParamKind::Int { .. }
            | ParamKind::Float { .. } => {
                let multiline =
                    matches!(param.kind, ParamKind::Expr) && value_text(&value).len() > 28;
                let commit = if param.live {
                    Commit::OnEnter
                } else {
                    Commit::EveryChange
                };
                let field = TextField {
                    multiline,
                    commit,
                    ..TextField::line(&key, value_text(&value), field_width(ui, 170.0), label.id)
                };
                let parsed = checked_text_ui(ui, buffers, field, |t| {
                    let v = parse_param_text(param, t).map_err(|e| e.to_string())?;
                    check_param(spec, param.name, &v)?;
                    Ok(v)
                });
                if let Some(v) = parsed
                    && v != value
                {
                    // A committed value is its own undo step; typing merges into one.
                    commands.push(set(v, commit == Commit::EveryChange));
                }
                if buffers.get(&key).is_some_and(|b| b.pending.is_some()) {
                    ui.label(RichText::new("Enter applies").weak().small())
                        .on_hover_text("Esc puts the old value back");
                }
            }
        }
        if own.is_some_and(|v| *v != default_value(param))
            && ui
                .small_button("reset")
                .on_hover_text("Reset to the default")
                .clicked()
        {
            commands.push(Command::ResetParam {
                node: node.id,
                param: param.name.to_owned(),
            });
        }
    });
    ui.end_row();
    let typed_error = buffers.get(&key).and_then(|b| b.error.clone());
    if let Some(reason) = typed_error.or(stored_error) {
        ui.label("");
        ui.label(
            RichText::new(format!("{}: {reason}", param.name))
                .color(ERROR_RED)
                .small(),
        );
        ui.end_row();
    }
}

/// Dragging a number's name left or right changes it, within its range.
fn scrub_ui(
    ui: &Ui,
    label: &egui::Response,
    param: &ParamSpec,
    value: &ParamValue,
    emit: &mut dyn FnMut(ParamValue),
) {
    if label.hovered() || label.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
    let dx = label.drag_delta().x as f64;
    if !label.dragged() || dx == 0.0 {
        return;
    }
    match (&param.kind, value) {
        (ParamKind::Int { min, max }, ParamValue::Int(i)) => {
            let step = ((*i as f64).abs() * 0.01).max(1.0);
            let next = (*i as f64 + dx * step)
                .round()
                .clamp(*min as f64, *max as f64) as i64;
            if next != *i {
                emit(ParamValue::Int(next));
            }
        }
        (ParamKind::Float { min, max }, ParamValue::Float(_) | ParamValue::Int(_)) => {
            let x = match value {
                ParamValue::Float(x) => *x,
                ParamValue::Int(i) => *i as f64,
                _ => 0.0,
            };
            let step = (x.abs() * 0.01).max(1e-3);
            let next = (x + dx * step).clamp(*min, *max);
            let rounded = (next * 1e6).round() / 1e6;
            emit(ParamValue::Float(rounded));
        }
        _ => {}
    }
}

/// A port type in its wire colour.
pub fn port_type_text(ty: crate::catalog::PortType) -> RichText {
    RichText::new(ty.to_string())
        .color(crate::app::canvas::style::port_color(ty))
        .strong()
}
