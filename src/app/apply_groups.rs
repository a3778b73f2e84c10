//! Applies the group commands: group the selection, ungroup, open a group, select all in the
//! scope shown. Every change is one undo step through `Document::edit`; which group is open
//! is view state and never enters the file.

use crate::app::canvas::cards::group_name_for;
use crate::app::canvas::layout::{card_layout, snap};
use crate::app::command::Selection;
use crate::app::shell::FlowbookApp;
use crate::graph::{Graph, GroupId, NodeId};
use std::collections::BTreeSet;

/// Nodes added while a group is open join it, so they do not vanish from the view.
pub(crate) fn join_group(graph: &mut Graph, scope: Option<GroupId>, nodes: &[NodeId]) {
    if let Some(group) = scope.and_then(|id| graph.group_mut(id)) {
        group.nodes.extend(nodes.iter().copied());
    }
}

impl FlowbookApp {
    /// Ctrl+G: the selected nodes become one group card where they were.
    pub(crate) fn group_selection(&mut self) {
        if self.canvas.scope.is_some() {
            self.set_error("Groups do not nest: close this group (Esc) to group its neighbours.");
            return;
        }
        if !self.selection.groups.is_empty() {
            self.set_error("Groups do not nest: ungroup the selected group first.");
            return;
        }
        let nodes = self.selection.nodes.clone();
        let graph = self.doc.graph();
        let Some(corner) = graph
            .nodes
            .iter()
            .filter(|n| nodes.contains(&n.id))
            .map(|n| card_layout(n).rect)
            .reduce(|a, b| a.union(b))
            .map(|r| snap(r.min))
        else {
            self.set_error("Select the nodes to group first.");
            return;
        };
        let name = group_name_for(graph, &nodes);
        let mut created = None;
        let done = self.edit(None, |g| {
            created = Some(
                g.group_nodes(&nodes, name, [corner.x, corner.y])
                    .map_err(|e| e.to_string())?,
            );
            Ok(())
        });
        if let (true, Some(id)) = (done, created) {
            let name = self.doc.graph().group(id).map(|g| g.name.clone());
            self.selection = Selection::only_group(id);
            self.set_status(format!(
                "Grouped {} nodes as '{}': double-click to open, Ctrl+Shift+G to ungroup",
                nodes.len(),
                name.unwrap_or_default()
            ));
        }
    }

    /// Ctrl+Shift+G: a group's nodes return to the top level where its card was.
    pub(crate) fn ungroup(&mut self, id: GroupId) {
        let graph = self.doc.graph();
        let Some(group) = graph.group(id) else {
            return;
        };
        let inside = graph
            .nodes
            .iter()
            .filter(|n| group.nodes.contains(&n.id))
            .map(|n| card_layout(n).rect)
            .reduce(|a, b| a.union(b));
        let offset = inside.map_or([0.0, 0.0], |r| {
            [group.pos[0] - r.min.x, group.pos[1] - r.min.y]
        });
        let mut freed = Vec::new();
        if self.edit(None, |g| {
            freed = g.ungroup(id, offset).map_err(|e| e.to_string())?;
            Ok(())
        }) {
            if self.canvas.scope == Some(id) {
                self.canvas.open_scope(None);
            }
            self.set_status(format!("Ungrouped {} nodes", freed.len()));
            self.selection = Selection {
                nodes: freed.into_iter().collect(),
                ..Selection::default()
            };
        }
    }

    /// Ctrl+A: every card of the scope shown (and the comments on the top level).
    pub(crate) fn select_all(&mut self) {
        let layouts = self.canvas.layouts(self.doc.graph());
        let mut selection = Selection::default();
        for (id, _) in &layouts.cards {
            match id {
                crate::app::canvas::CardId::Node(n) => selection.nodes.insert(*n),
                crate::app::canvas::CardId::Group(g) => selection.groups.insert(*g),
            };
        }
        if layouts.scope.is_none() {
            selection.comments = (0..self.doc.graph().comments.len()).collect();
        }
        self.selection = selection;
    }

    /// The selection showing `nodes` in the scope shown: grouped nodes by their group card on
    /// the top level.
    pub(crate) fn selection_of(&self, nodes: &[NodeId], comments: BTreeSet<usize>) -> Selection {
        let graph = self.doc.graph();
        let mut selection = Selection {
            comments,
            ..Selection::default()
        };
        for id in nodes {
            match graph.group_of(*id) {
                Some(group) if self.canvas.scope != Some(group.id) => {
                    selection.groups.insert(group.id);
                }
                _ => {
                    selection.nodes.insert(*id);
                }
            }
        }
        selection
    }
}
