//! Node groups: a named set of nodes the editor shows as one card with outer ports (like
//! Blender's node groups or KNIME's metanodes), opened to edit inside. The grouped nodes stay
//! in the graph's one node list, so ids and names stay unique across the document: telemetry,
//! `--set name.param` and error messages reach a node inside a group unchanged. `flattened`
//! is the graph the planner sees; it never depends on how nodes are grouped.

use super::{Graph, NodeId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A group's identity inside one graph. Stable across renames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub u32);

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "group #{}", self.0)
    }
}

/// Nodes shown as one card. Each node belongs to at most one group; the nodes keep their own
/// positions, which place them on the group's inside (seen when the group is opened).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    /// Shown on the card; unique among the graph's groups.
    pub name: String,
    /// Canvas position of the group card's top-left corner.
    pub pos: [f32; 2],
    /// The grouped nodes.
    pub nodes: Vec<NodeId>,
}

/// Why nodes could not be grouped or ungrouped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupError {
    #[error("select at least one node to group")]
    Empty,
    #[error("'{0}' is already in group '{1}'; ungroup it first (groups do not nest)")]
    AlreadyGrouped(String, String),
    #[error("there is no {0}")]
    NoSuchGroup(GroupId),
    #[error("the group name '{0}' is already taken")]
    NameTaken(String),
    #[error("a group name cannot be empty")]
    EmptyName,
}

impl Graph {
    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn group_mut(&mut self, id: GroupId) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    /// The group a node is in, if any.
    pub fn group_of(&self, node: NodeId) -> Option<&Group> {
        self.groups.iter().find(|g| g.nodes.contains(&node))
    }

    /// Every grouped node, with its group.
    pub fn grouped_nodes(&self) -> BTreeMap<NodeId, GroupId> {
        let mut grouped = BTreeMap::new();
        for group in &self.groups {
            for node in &group.nodes {
                grouped.entry(*node).or_insert(group.id);
            }
        }
        grouped
    }

    fn fresh_group_id(&self) -> GroupId {
        GroupId(self.groups.iter().map(|g| g.id.0 + 1).max().unwrap_or(1))
    }

    /// `base` if no group has it, else `base2`, `base3`, ….
    pub fn unique_group_name(&self, base: &str) -> String {
        let taken = |name: &str| self.groups.iter().any(|g| g.name == name);
        if !taken(base) {
            return base.to_owned();
        }
        let stem = base.trim_end_matches(|c: char| c.is_ascii_digit());
        (2..)
            .map(|i| format!("{stem}{i}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| base.to_owned())
    }

    /// Groups `nodes` under a name derived from `base_name`; the card goes where the nodes'
    /// top-left corner was (`pos`). Nodes already in a group are refused, by name.
    pub fn group_nodes(
        &mut self,
        nodes: &BTreeSet<NodeId>,
        base_name: &str,
        pos: [f32; 2],
    ) -> Result<GroupId, GroupError> {
        let members: Vec<NodeId> = self
            .nodes
            .iter()
            .map(|n| n.id)
            .filter(|id| nodes.contains(id))
            .collect();
        if members.is_empty() {
            return Err(GroupError::Empty);
        }
        for id in &members {
            if let Some(group) = self.group_of(*id) {
                return Err(GroupError::AlreadyGrouped(
                    self.display_name(*id),
                    group.name.clone(),
                ));
            }
        }
        let id = self.fresh_group_id();
        let name = self.unique_group_name(base_name);
        self.groups.push(Group {
            id,
            name,
            pos,
            nodes: members,
        });
        Ok(id)
    }

    /// Dissolves a group: its nodes return to the canvas, moved by `offset` (so they land where
    /// the card was). Returns the nodes.
    pub fn ungroup(&mut self, id: GroupId, offset: [f32; 2]) -> Result<Vec<NodeId>, GroupError> {
        let index = self
            .groups
            .iter()
            .position(|g| g.id == id)
            .ok_or(GroupError::NoSuchGroup(id))?;
        let group = self.groups.remove(index);
        for node in &group.nodes {
            if let Some(n) = self.node_mut(*node) {
                n.pos = [n.pos[0] + offset[0], n.pos[1] + offset[1]];
            }
        }
        Ok(group.nodes)
    }

    /// Renames a group, refusing empty names and names another group has.
    pub fn rename_group(&mut self, id: GroupId, name: &str) -> Result<(), GroupError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(GroupError::EmptyName);
        }
        if self.groups.iter().any(|g| g.name == name && g.id != id) {
            return Err(GroupError::NameTaken(name.to_owned()));
        }
        let group = self.group_mut(id).ok_or(GroupError::NoSuchGroup(id))?;
        group.name = name.to_owned();
        Ok(())
    }

    /// Drops what a hand-edited file or an edit left behind: group entries naming nodes that
    /// do not exist (or that an earlier group already holds), and groups left empty.
    pub fn tidy_groups(&mut self) {
        let existing: BTreeSet<NodeId> = self.nodes.iter().map(|n| n.id).collect();
        let mut seen = BTreeSet::new();
        for group in &mut self.groups {
            group
                .nodes
                .retain(|id| existing.contains(id) && seen.insert(*id));
        }
        self.groups.retain(|g| !g.nodes.is_empty());
    }

    /// The graph the planner and the executor see: every node and wire, no groups. Groups
    /// only change how the editor shows nodes, so flattening loses nothing that runs.
    pub fn flattened(&self) -> Cow<'_, Graph> {
        if self.groups.is_empty() {
            return Cow::Borrowed(self);
        }
        let mut flat = self.clone();
        flat.groups.clear();
        Cow::Owned(flat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, PortRef};

    fn chain() -> (Graph, Vec<NodeId>) {
        let mut g = Graph::new("t");
        let ids: Vec<NodeId> = ["batch", "dense1", "tanh1", "dense2", "loss"]
            .iter()
            .enumerate()
            .map(|(i, name)| g.add_node("dense", name, [i as f32 * 200.0, 0.0]))
            .collect();
        for pair in ids.windows(2) {
            g.edges.push(Edge {
                from: PortRef::new(pair[0], "out"),
                to: PortRef::new(pair[1], "in"),
            });
        }
        (g, ids)
    }

    #[test]
    fn grouping_keeps_nodes_and_wires_and_flattening_drops_only_the_group() {
        let (mut g, ids) = chain();
        let before = g.clone();
        let inner: BTreeSet<NodeId> = ids[1..4].iter().copied().collect();
        let group = g.group_nodes(&inner, "mlp", [200.0, 0.0]).unwrap();
        assert_eq!(g.group(group).map(|g| g.nodes.len()), Some(3));
        assert_eq!(g.group_of(ids[2]).map(|g| g.name.as_str()), Some("mlp"));
        assert_eq!(g.flattened().as_ref(), &before);
        assert_eq!(g.nodes, before.nodes);
        assert_eq!(g.edges, before.edges);
    }

    #[test]
    fn a_node_is_in_one_group_only_and_names_stay_unique() {
        let (mut g, ids) = chain();
        g.group_nodes(&BTreeSet::from([ids[1]]), "mlp", [0.0, 0.0])
            .unwrap();
        let err = g
            .group_nodes(&BTreeSet::from([ids[1], ids[2]]), "mlp", [0.0, 0.0])
            .unwrap_err();
        assert_eq!(
            err,
            GroupError::AlreadyGrouped("dense1".into(), "mlp".into())
        );
        let second = g
            .group_nodes(&BTreeSet::from([ids[2]]), "mlp", [0.0, 0.0])
            .unwrap();
        assert_eq!(g.group(second).map(|g| g.name.as_str()), Some("mlp2"));
        assert_eq!(
            g.rename_group(second, "mlp"),
            Err(GroupError::NameTaken("mlp".into()))
        );
        assert_eq!(
            g.group_nodes(&BTreeSet::new(), "x", [0.0, 0.0]),
            Err(GroupError::Empty)
        );
    }

    #[test]
    fn ungrouping_moves_the_nodes_to_the_card_and_removes_the_group() {
        let (mut g, ids) = chain();
        let group = g
            .group_nodes(&BTreeSet::from([ids[1], ids[2]]), "mlp", [0.0, 0.0])
            .unwrap();
        let nodes = g.ungroup(group, [10.0, 20.0]).unwrap();
        assert_eq!(nodes, vec![ids[1], ids[2]]);
        assert!(g.groups.is_empty());
        assert_eq!(g.node(ids[1]).map(|n| n.pos), Some([210.0, 20.0]));
        assert_eq!(
            g.ungroup(group, [0.0, 0.0]),
            Err(GroupError::NoSuchGroup(group))
        );
    }

    #[test]
    fn tidying_drops_missing_and_doubly_grouped_nodes_and_empty_groups() {
        let (mut g, ids) = chain();
        g.groups.push(Group {
            id: GroupId(1),
            name: "a".into(),
            pos: [0.0, 0.0],
            nodes: vec![ids[1], NodeId(99)],
        });
        g.groups.push(Group {
            id: GroupId(2),
            name: "b".into(),
            pos: [0.0, 0.0],
            nodes: vec![ids[1]],
        });
        g.tidy_groups();
        assert_eq!(g.groups.len(), 1);
        assert_eq!(g.groups[0].nodes, vec![ids[1]]);
    }

    #[test]
    fn the_examples_groups_load_and_round_trip() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs");
        let mut grouped = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "ron") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let graph = crate::graph::from_ron_str(&text, "example").unwrap();
            let mut tidy = graph.clone();
            tidy.tidy_groups();
            assert_eq!(tidy, graph, "{}: groups name real nodes", path.display());
            grouped += usize::from(!graph.groups.is_empty());
            let saved = crate::graph::to_ron_string(&graph).unwrap();
            let reloaded = crate::graph::from_ron_str(&saved, "saved").unwrap();
            assert_eq!(reloaded, graph, "{}: groups survive saving", path.display());
            assert_eq!(crate::graph::to_ron_string(&reloaded).unwrap(), saved);
        }
        assert!(
            grouped >= 5,
            "every learning example shows its network as a group"
        );
    }
}
