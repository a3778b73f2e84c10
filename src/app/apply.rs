//! Applies the frame's commands to the editor: document edits through `Document::edit` (one
//! undo step each, drags merged), clipboard, selection, view, files and dialogs. The only
//! place that changes the document; errors become status messages or dialogs, never panics.

use crate::app::apply_groups::join_group;
use crate::app::canvas::wiring;
use crate::app::command::{Command, DialogPurpose, Guarded, Selection};
use crate::app::document::MergeKey;
use crate::app::files::csv_source_params;
use crate::app::param_check::{check_param, default_value};
use crate::app::shell::FlowbookApp;
use crate::catalog::NodeKind;
use crate::graph::{Comment, Edge, Graph, NodeId, ParamValue, from_ron_str, to_ron_string};
use egui::Context;
use std::collections::BTreeSet;
use std::path::Path;

/// Where pasted and duplicated items land relative to their originals.
const PASTE_OFFSET: [f32; 2] = [40.0, 40.0];

fn field(key: String) -> Option<MergeKey> {
    Some(MergeKey::Field(key))
}

impl FlowbookApp {
    /// Applies and clears the pending commands.
    pub fn apply_commands(&mut self, ctx: &Context) {
        let commands = std::mem::take(&mut self.commands);
        if commands.is_empty() {
            return;
        }
        for command in commands {
            if matches!(
                command,
                Command::MoveCell { .. } | Command::DeleteCell(_) | Command::Undo | Command::Redo
            ) {
                // Cells may change places: per-position pane state would follow the wrong cell.
                self.notebook.forget_positions();
            }
            // The last line of defence: a bug in one command is reported, the editor and the
            // open graph stay.
            if let Err(panic) = crate::guard::catch(|| self.apply(command, ctx)) {
                self.set_error(format!(
                    "internal error (a bug in Flowbook, please report it): {panic}; the graph is still open"
                ));
            }
        }
        self.notebook.forget_removed_nodes(self.doc.graph());
    }

    /// A document edit; failures become the status message.
    pub(crate) fn edit(
        &mut self,
        merge: Option<MergeKey>,
        change: impl FnOnce(&mut Graph) -> Result<(), String>,
    ) -> bool {
        match self.doc.edit(merge, change) {
            Ok(()) => true,
            Err(message) => {
                self.set_error(message);
                false
            }
        }
    }

    /// The canvas point in the middle of the view (where menu-added items go).
    fn view_centre(&self) -> [f32; 2] {
        let c = self.canvas.view.to_canvas(self.canvas.view.rect.center());
        [c.x, c.y]
    }

    fn apply(&mut self, command: Command, ctx: &Context) {
        match command {
            Command::AddNode { kind, pos } => self.add_node(kind, pos),
            Command::AddCsvSource { path, pos } => self.add_csv_source(&path, pos),
            Command::AddComment { .. } if self.canvas.scope.is_some() => {
                self.set_error("Comments live on the top level: close the group first (Esc).");
            }
            Command::AddComment { pos } => {
                let pos = if pos.iter().all(|v| v.is_finite()) {
                    pos
                } else {
                    self.view_centre()
                };
                let index = self.graph().comments.len();
                let added = self.edit(None, |g| {
                    g.comments.push(Comment {
                        text: "**Note**\n\nWrite *markdown* here; edit it in the inspector.".into(),
                        pos,
                        size: [260.0, 120.0],
                    });
                    Ok(())
                });
                if added {
                    self.selection = Selection {
                        comments: BTreeSet::from([index]),
                        ..Selection::default()
                    };
                }
            }
            Command::Connect { from, to } => self.connect(Edge { from, to }),
            Command::Disconnect(edge) => {
                if self.edit(None, |g| {
                    if g.disconnect(&edge) {
                        Ok(())
                    } else {
                        Err("that wire is gone".into())
                    }
                }) {
                    self.selection.edge = None;
                    self.set_status("Wire deleted");
                }
            }
            Command::MoveItems {
                nodes,
                comments,
                groups,
                gesture,
            } => {
                self.edit(Some(MergeKey::Gesture(gesture)), |g| {
                    g.move_nodes(&nodes);
                    for (id, pos) in &groups {
                        if let Some(group) = g.group_mut(*id) {
                            group.pos = *pos;
                        }
                    }
                    for (i, pos) in &comments {
                        if let Some(c) = g.comments.get_mut(*i) {
                            c.pos = *pos;
                        }
                    }
                    Ok(())
                });
            }
            Command::ResizeComment {
                index,
                size,
                gesture,
            } => {
                self.edit(Some(MergeKey::Gesture(gesture)), |g| {
                    if let Some(c) = g.comments.get_mut(index) {
                        c.size = size;
                    }
                    Ok(())
                });
            }
            Command::SetParam {
                node,
                param,
                value,
                merge,
            } => self.set_param(node, &param, value, merge),
            Command::CommitLiveParam { node, param } => self.commit_live_param(node, &param),
            Command::ResetParam { node, param } => {
                self.edit(None, |g| {
                    if let Some(n) = g.node_mut(node) {
                        n.params.remove(&param);
                    }
                    Ok(())
                });
            }
            Command::Rename { node, name } => {
                self.edit(field(format!("{}:name", node.0)), |g| {
                    g.rename_node(node, &name).map_err(|e| e.to_string())
                });
            }
            Command::SetNodeNotes { node, text } => {
                self.edit(field(format!("{}:notes", node.0)), |g| {
                    if let Some(n) = g.node_mut(node) {
                        n.notes = text;
                    }
                    Ok(())
                });
            }
            Command::SetCommentText { index, text } => {
                self.edit(field(format!("comment:{index}")), |g| {
                    if let Some(c) = g.comments.get_mut(index) {
                        c.text = text;
                    }
                    Ok(())
                });
            }
            Command::SetGraphName(name) => {
                self.edit(field("graph:name".into()), |g| {
                    g.name = name;
                    Ok(())
                });
            }
            Command::SetGraphNotes(text) => {
                self.edit(field("graph:notes".into()), |g| {
                    g.notes = text;
                    Ok(())
                });
            }
            Command::EndEdit => self.doc.close_merge(),
            Command::DeleteSelection => self.delete_selection(),
            Command::Copy => self.copy(ctx),
            Command::Cut => {
                self.copy(ctx);
                self.delete_selection();
            }
            Command::Paste(text) => self.paste(text, ctx),
            Command::Duplicate => self.duplicate(),
            Command::Undo => {
                let before = crate::app::run::live_values(self.doc.graph());
                if self.doc.undo() {
                    self.set_status("Undone");
                    // An undone live change (lr) is undone in the running graph too.
                    self.reapply_live_params(&before, "undo");
                }
                self.prune_selection();
            }
            Command::Redo => {
                let before = crate::app::run::live_values(self.doc.graph());
                if self.doc.redo() {
                    self.set_status("Redone");
                    self.reapply_live_params(&before, "redo");
                }
                self.prune_selection();
            }
            Command::SelectAll => self.select_all(),
            Command::Select(selection) => self.selection = selection,
            Command::GroupSelection => self.group_selection(),
            Command::Ungroup(group) => self.ungroup(group),
            Command::RenameGroup { group, name } => {
                self.edit(field(format!("group:{}:name", group.0)), |g| {
                    g.rename_group(group, &name).map_err(|e| e.to_string())
                });
            }
            Command::OpenGroup(group) => {
                self.canvas.open_scope(group);
                self.selection = Selection::default();
            }
            Command::FocusNode(id) => {
                self.keys_on_canvas = true;
                self.selection = Selection::only_node(id);
                self.canvas.frame_node(self.doc.graph(), id);
            }
            Command::ZoomToFit => self.canvas.fit_requested = true,
            Command::ResetZoom => self.canvas.reset_zoom_on(self.doc.graph(), &self.selection),
            Command::SetDarkTheme(dark) => self.settings.dark_theme = dark,
            Command::SetSnapToGrid(on) => self.settings.snap_to_grid = on,
            Command::SetMinimap(on) => self.settings.show_minimap = on,
            Command::New => self.guarded(Guarded::New, ctx),
            Command::Open(path) => self.guarded(Guarded::Open(path), ctx),
            Command::OpenExampleCopy(path) => self.guarded(Guarded::OpenCopy(path), ctx),
            Command::ShowGallery => {
                self.gallery = Some(crate::app::gallery::GalleryState::load(false));
            }
            Command::Discard(action) => {
                self.dialog = None;
                self.perform(action, ctx);
            }
            Command::SaveThen(action) => {
                self.dialog = None;
                match self.doc.path.clone() {
                    Some(path) => {
                        if self.save_to(&path) {
                            self.perform(action, ctx);
                        }
                    }
                    None => {
                        self.after_save = Some(action);
                        self.show_file_dialog(DialogPurpose::SaveAs);
                    }
                }
            }
            Command::Save => match self.doc.path.clone() {
                Some(path) => {
                    self.save_to(&path);
                }
                None => self.show_file_dialog(DialogPurpose::SaveAs),
            },
            Command::SaveAs(path) => {
                if self.save_to(&path)
                    && let Some(action) = self.after_save.take()
                {
                    self.perform(action, ctx);
                }
            }
            Command::ShowFileDialog(purpose) => self.show_file_dialog(purpose),
            Command::ExportReport(path) => self.export_report(&path),
            Command::Quit => self.guarded(Guarded::Quit, ctx),
            Command::DismissDialog => self.dialog = None,
            Command::Run(run) => self.apply_run(run),
            Command::TogglePause => {
                let paused = self
                    .run
                    .session
                    .as_ref()
                    .is_some_and(|s| s.phase == crate::app::run::session::RunPhase::Paused);
                self.apply_run(if paused {
                    crate::app::run::RunCommand::Resume
                } else {
                    crate::app::run::RunCommand::Pause
                });
            }
            Command::SetFlowView(view) => self.run.flow_view = view,
            Command::ShowPreview(target) => self.show_preview(target),
            Command::AddCell(cell) => {
                self.settings.show_notebook = true;
                self.edit(None, |g| {
                    g.notebook.push(cell);
                    Ok(())
                });
            }
            Command::SetCellText { index, text } => {
                self.edit(None, |g| match g.notebook.get_mut(index) {
                    Some(crate::graph::Cell::Markdown { text: t }) => {
                        *t = text;
                        Ok(())
                    }
                    _ => Err("that cell is not a text cell any more".into()),
                });
            }
            Command::MoveCell { from, to } => {
                self.edit(None, |g| {
                    g.move_cell(from, to);
                    Ok(())
                });
            }
            Command::DeleteCell(index) => {
                self.edit(None, |g| {
                    if index < g.notebook.len() {
                        g.notebook.remove(index);
                    }
                    Ok(())
                });
            }
            Command::PinToNotebook(node) => {
                let cells = crate::app::notebook::pin_cells(self.doc.graph(), node);
                if cells.is_empty() {
                    self.set_error("Nothing to pin: wire something into this node first.");
                    return;
                }
                self.settings.show_notebook = true;
                if self.edit(None, |g| {
                    g.notebook.extend(cells);
                    Ok(())
                }) {
                    self.set_status("Pinned to the notebook.");
                }
            }
            Command::ToggleNotebook => self.settings.show_notebook = !self.settings.show_notebook,
            Command::RestoreRecovery | Command::DiscardRecovery => self.answer_recovery(&command),
        }
    }

    fn add_node(&mut self, kind: NodeKind, pos: [f32; 2]) {
        let spec = kind.spec();
        let mut added = NodeId(0);
        let scope = self.canvas.scope;
        if self.edit(None, |g| {
            added = g.add_node(spec.id, spec.id, pos);
            join_group(g, scope, &[added]);
            Ok(())
        }) {
            self.selection = Selection::only_node(added);
            let name = self.doc.graph().display_name(added);
            self.set_status(format!("Added {} '{name}'", spec.title));
        }
    }

    fn add_csv_source(&mut self, path: &Path, pos: [f32; 2]) {
        let params = match csv_source_params(path, &self.doc.location()) {
            Ok(p) => p,
            Err(e) => {
                self.set_error(format!("Cannot add a CSV source: {e}"));
                return;
            }
        };
        let pos = if pos == [40.0, 40.0] {
            self.view_centre()
        } else {
            pos
        };
        let stem: String = path
            .file_stem()
            .map(|s| {
                s.to_string_lossy()
                    .chars()
                    .map(|c| if c.is_alphanumeric() { c } else { '_' })
                    .collect()
            })
            .unwrap_or_else(|| "source".into());
        let columns = params
            .iter()
            .find(|(n, _)| *n == "value_columns")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut added = NodeId(0);
        let scope = self.canvas.scope;
        if self.edit(None, |g| {
            added = g.add_node("csv_source", &stem, pos);
            join_group(g, scope, &[added]);
            if let Some(node) = g.node_mut(added) {
                for (name, value) in params {
                    node.params.insert(name.to_owned(), ParamValue::Text(value));
                }
            }
            Ok(())
        }) {
            self.selection = Selection::only_node(added);
            self.set_status(format!(
                "Added a CSV source for {} (values: {columns})",
                path.display()
            ));
        }
    }

    fn connect(&mut self, edge: Edge) {
        let graph = self.doc.graph();
        if let Err(reason) = wiring::check_wire(graph, &edge.from, &edge.to) {
            self.set_error(format!("Wire refused: {reason}"));
            self.last_refusal = Some(reason);
            return;
        }
        let single = wiring::single_input(graph, &edge.to);
        let label = format!(
            "{}.{} -> {}.{}",
            graph.display_name(edge.from.node),
            edge.from.port,
            graph.display_name(edge.to.node),
            edge.to.port
        );
        let mut replaced = Vec::new();
        if self.edit(None, |g| {
            replaced = g.connect(edge, single).map_err(|e| e.to_string())?;
            Ok(())
        }) {
            self.last_refusal = None;
            let note = if replaced.is_empty() {
                ""
            } else {
                " (replacing the old wire)"
            };
            self.set_status(format!("Connected {label}{note}"));
        }
    }

    fn set_param(&mut self, node: NodeId, param: &str, value: ParamValue, merge: bool) {
        let Some(spec) = self
            .doc
            .graph()
            .node(node)
            .and_then(crate::app::canvas::layout::spec_of)
        else {
            return;
        };
        if let Err(reason) = check_param(spec, param, &value) {
            self.set_error(format!("{param}: {reason}"));
            return;
        }
        let merge = if merge {
            field(format!("{}.{param}", node.0))
        } else {
            None
        };
        // Typing or scrubbing (merged edits) changes the document only; a committed value
        // (Enter, focus-out, end of a scrub) reaches the running graph once.
        let live_value = spec
            .param(param)
            .filter(|p| p.live && merge.is_none() && self.run.is_live())
            .and_then(|_| value.as_f64());
        let edited = self.edit(merge, |g| {
            if let Some(n) = g.node_mut(node) {
                n.params.insert(param.to_owned(), value);
            }
            Ok(())
        });
        // A live parameter also changes the running graph (and is marked on its plots).
        if edited && let Some(v) = live_value {
            self.apply_run(crate::app::run::RunCommand::SetLive {
                node,
                param: param.to_owned(),
                value: v,
            });
        }
    }

    /// Sends a live parameter's document value to the running graph (after a scrub).
    fn commit_live_param(&mut self, node: NodeId, param: &str) {
        let Some(n) = self.doc.graph().node(node) else {
            return;
        };
        let Some(spec) = crate::app::canvas::layout::spec_of(n) else {
            return;
        };
        let Some(value) = spec
            .param(param)
            .filter(|p| p.live && self.run.is_live())
            .map(|p| {
                n.params
                    .get(param)
                    .cloned()
                    .unwrap_or_else(|| default_value(p))
            })
            .and_then(|v| v.as_f64())
        else {
            return;
        };
        self.apply_run(crate::app::run::RunCommand::SetLive {
            node,
            param: param.to_owned(),
            value,
        });
    }

    /// Opens or closes a data preview; the run keeps rows only for the watched node.
    fn show_preview(&mut self, target: Option<(NodeId, String)>) {
        let name = target
            .as_ref()
            .and_then(|(id, _)| self.doc.graph().node(*id))
            .map(|n| n.name.clone());
        if let Some(session) = &mut self.run.session {
            session.watch(name.as_deref());
        }
        self.run.preview = target;
    }

    fn delete_selection(&mut self) {
        if let Some(edge) = self.selection.edge.take() {
            self.edit(None, |g| {
                g.disconnect(&edge);
                Ok(())
            });
            return;
        }
        if self.selection.is_empty() {
            return;
        }
        let (nodes, comments) = (
            self.selection.nodes_with_groups(self.doc.graph()),
            self.selection.comments.clone(),
        );
        if self.edit(None, |g| {
            g.remove_selection(&nodes, &comments);
            Ok(())
        }) {
            self.set_status(format!(
                "Deleted {} nodes, {} comments",
                nodes.len(),
                comments.len()
            ));
        }
        self.selection = Selection::default();
    }

    fn copy(&mut self, ctx: &Context) {
        let nodes = self.selection.nodes_with_groups(self.doc.graph());
        if nodes.is_empty() && self.selection.comments.is_empty() {
            return;
        }
        let part = self.doc.graph().extract(&nodes, &self.selection.comments);
        match to_ron_string(&part) {
            Ok(text) => {
                ctx.copy_text(text.clone());
                self.clipboard = Some(text);
                self.set_status(format!(
                    "Copied {} nodes and {} wires",
                    part.nodes.len(),
                    part.edges.len()
                ));
            }
            Err(e) => self.set_error(format!("Cannot copy: {e}")),
        }
    }

    fn paste(&mut self, text: Option<String>, ctx: &Context) {
        let Some(text) = text.or_else(|| self.clipboard.clone()) else {
            return;
        };
        let part = match from_ron_str(&text, "clipboard") {
            Ok(part) => part,
            Err(e) => {
                self.set_error(format!("The clipboard holds no Flowbook nodes ({e})"));
                return;
            }
        };
        let pointer = ctx
            .input(|i| i.pointer.latest_pos())
            .filter(|p| self.canvas.view.rect.contains(*p));
        let origin = crate::app::canvas::layout::graph_bounds(&part).map(|r| r.min);
        let offset = match (pointer, origin) {
            (Some(p), Some(o)) => {
                let at = self.canvas.view.to_canvas(p);
                [at.x - o.x, at.y - o.y]
            }
            _ => PASTE_OFFSET,
        };
        self.insert_part(&part, offset, "Pasted");
    }

    fn duplicate(&mut self) {
        let nodes = self.selection.nodes_with_groups(self.doc.graph());
        let part = self.doc.graph().extract(&nodes, &self.selection.comments);
        if part.nodes.is_empty() && part.comments.is_empty() {
            return;
        }
        self.insert_part(&part, PASTE_OFFSET, "Duplicated");
    }

    fn insert_part(&mut self, part: &Graph, offset: [f32; 2], verb: &str) {
        let mut added = (Vec::new(), Vec::new());
        let scope = self.canvas.scope;
        if self.edit(None, |g| {
            added = g.paste(part, offset);
            // Inside an open group, loose pasted nodes join it (groups do not nest).
            let loose: Vec<NodeId> = added
                .0
                .iter()
                .copied()
                .filter(|id| g.group_of(*id).is_none())
                .collect();
            join_group(g, scope, &loose);
            Ok(())
        }) {
            self.set_status(format!(
                "{verb} {} nodes and {} wires",
                part.nodes.len(),
                part.edges.len()
            ));
            self.selection = self.selection_of(&added.0, added.1.into_iter().collect());
        }
    }

    /// Drops selected items that no longer exist (after undo/redo).
    fn prune_selection(&mut self) {
        let g = self.doc.graph();
        self.selection.nodes.retain(|id| g.node(*id).is_some());
        self.selection.comments.retain(|i| *i < g.comments.len());
        self.selection.groups.retain(|id| g.group(*id).is_some());
        if self
            .selection
            .edge
            .as_ref()
            .is_some_and(|e| !g.edges.contains(e))
        {
            self.selection.edge = None;
        }
    }
}
