//! Edits that keep the document's invariants: unique names, fresh ids, edges that follow nodes.
//! The editor and the CLI's `--set` go through these; none of them checks kinds or types.

use super::{Comment, Edge, Graph, Node, NodeId, ParamValue};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("there is no node named '{0}'")]
    NoSuchNode(String),
    #[error("the name '{0}' is already taken by another node")]
    NameTaken(String),
    #[error("a node name cannot be empty or contain '.', spaces or quotes: '{0}'")]
    BadName(String),
    #[error("a node cannot feed itself")]
    SelfLoop,
    #[error("these ports are already connected")]
    AlreadyConnected,
    #[error("this wire would close a cycle: {0}; streams must flow one way")]
    WouldCycle(String),
}

impl Graph {
    /// An id no node has yet.
    pub fn fresh_id(&self) -> NodeId {
        NodeId(self.nodes.iter().map(|n| n.id.0 + 1).max().unwrap_or(1))
    }

    /// `base` if free, else `base2`, `base3`, …: names stay unique and readable.
    pub fn unique_name(&self, base: &str) -> String {
        if self.node_by_name(base).is_none() {
            return base.to_owned();
        }
        let stem = base.trim_end_matches(|c: char| c.is_ascii_digit());
        (2..)
            .map(|i| format!("{stem}{i}"))
            .find(|candidate| self.node_by_name(candidate).is_none())
            .unwrap_or_else(|| base.to_owned())
    }

    /// Adds a node of `kind` at `pos` with a unique name derived from `base_name`.
    pub fn add_node(&mut self, kind: &str, base_name: &str, pos: [f32; 2]) -> NodeId {
        let id = self.fresh_id();
        let name = self.unique_name(base_name);
        self.nodes.push(Node {
            id,
            name,
            kind: kind.to_owned(),
            pos,
            params: Default::default(),
            notes: String::new(),
        });
        id
    }

    /// Removes a node, every edge touching it, the notebook cells that show it and its place
    /// in a group (a group left empty goes too).
    pub fn remove_node(&mut self, id: NodeId) {
        self.nodes.retain(|n| n.id != id);
        self.edges.retain(|e| e.from.node != id && e.to.node != id);
        self.notebook.retain(|c| c.node() != Some(id));
        self.tidy_groups();
    }

    /// Renames a node, refusing duplicates and names the CLI could not address.
    pub fn rename_node(&mut self, id: NodeId, new_name: &str) -> Result<(), EditError> {
        if !is_valid_name(new_name) {
            return Err(EditError::BadName(new_name.to_owned()));
        }
        if self.nodes.iter().any(|n| n.name == new_name && n.id != id) {
            return Err(EditError::NameTaken(new_name.to_owned()));
        }
        let node = self
            .node_mut(id)
            .ok_or_else(|| EditError::NoSuchNode(id.to_string()))?;
        node.name = new_name.to_owned();
        Ok(())
    }

    /// Sets a parameter by node name (as `--set name.param=value` does); no type check here.
    pub fn set_param(
        &mut self,
        node_name: &str,
        param: &str,
        value: ParamValue,
    ) -> Result<(), EditError> {
        let node = self
            .node_by_name_mut(node_name)
            .ok_or_else(|| EditError::NoSuchNode(node_name.to_owned()))?;
        node.params.insert(param.to_owned(), value);
        Ok(())
    }
}

impl Graph {
    /// Adds a wire, refusing self-loops, duplicates and wires that would close a cycle.
    /// With `single_input`, wires already ending at `edge.to` are replaced; they are returned.
    /// Port types are the caller's business (the catalogue knows them, the document does not).
    pub fn connect(&mut self, edge: Edge, single_input: bool) -> Result<Vec<Edge>, EditError> {
        for end in [edge.from.node, edge.to.node] {
            if self.node(end).is_none() {
                return Err(EditError::NoSuchNode(end.to_string()));
            }
        }
        if edge.from.node == edge.to.node {
            return Err(EditError::SelfLoop);
        }
        if self.edges.contains(&edge) {
            return Err(EditError::AlreadyConnected);
        }
        if let Some(path) = self.path_between(edge.to.node, edge.from.node) {
            let mut names: Vec<String> = path.iter().map(|id| self.display_name(*id)).collect();
            names.push(self.display_name(edge.to.node));
            return Err(EditError::WouldCycle(names.join(" → ")));
        }
        let mut replaced = Vec::new();
        if single_input {
            self.edges.retain(|e| {
                let keep = e.to != edge.to;
                if !keep {
                    replaced.push(e.clone());
                }
                keep
            });
        }
        self.edges.push(edge);
        Ok(replaced)
    }

    /// Removes a wire; false when it was not there.
    pub fn disconnect(&mut self, edge: &Edge) -> bool {
        let before = self.edges.len();
        self.edges.retain(|e| e != edge);
        self.edges.len() != before
    }

    /// Nodes on a directed path `from` → … → `to` (both included), if one exists.
    pub fn path_between(&self, from: NodeId, to: NodeId) -> Option<Vec<NodeId>> {
        let mut came_from: BTreeMap<NodeId, NodeId> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(at) = queue.pop_front() {
            if at == to {
                let mut path = vec![to];
                let mut cursor = to;
                while let Some(prev) = came_from.get(&cursor) {
                    path.push(*prev);
                    cursor = *prev;
                }
                path.reverse();
                return Some(path);
            }
            for e in self.outputs_of(at) {
                if seen.insert(e.to.node) {
                    came_from.insert(e.to.node, at);
                    queue.push_back(e.to.node);
                }
            }
        }
        None
    }

    /// Sets the canvas positions of several nodes (a drag); unknown ids are ignored.
    pub fn move_nodes(&mut self, positions: &[(NodeId, [f32; 2])]) {
        for (id, pos) in positions {
            if let Some(node) = self.node_mut(*id) {
                node.pos = *pos;
            }
        }
    }

    /// Removes nodes (with their wires) and comments by index.
    pub fn remove_selection(&mut self, nodes: &BTreeSet<NodeId>, comments: &BTreeSet<usize>) {
        self.nodes.retain(|n| !nodes.contains(&n.id));
        self.edges
            .retain(|e| !nodes.contains(&e.from.node) && !nodes.contains(&e.to.node));
        self.notebook
            .retain(|c| c.node().is_none_or(|n| !nodes.contains(&n)));
        let mut index = 0;
        self.comments.retain(|_| {
            let keep = !comments.contains(&index);
            index += 1;
            keep
        });
        self.tidy_groups();
    }

    /// A graph holding copies of the given nodes, the wires between them and the given comments:
    /// what the editor puts on the clipboard.
    pub fn extract(&self, nodes: &BTreeSet<NodeId>, comments: &BTreeSet<usize>) -> Graph {
        let mut part = Graph::new(&self.name);
        part.nodes = self
            .nodes
            .iter()
            .filter(|n| nodes.contains(&n.id))
            .cloned()
            .collect();
        part.edges = self
            .edges
            .iter()
            .filter(|e| nodes.contains(&e.from.node) && nodes.contains(&e.to.node))
            .cloned()
            .collect();
        part.comments = self
            .comments
            .iter()
            .enumerate()
            .filter(|(i, _)| comments.contains(i))
            .map(|(_, c)| c.clone())
            .collect();
        // A group travels with its nodes when all of them are taken.
        part.groups = self
            .groups
            .iter()
            .filter(|g| g.nodes.iter().all(|n| nodes.contains(n)))
            .cloned()
            .collect();
        part
    }

    /// Inserts a copy of `part`, shifted by `offset`: fresh ids, names made unique (`window` →
    /// `window2`), wires remapped, wires to nodes outside `part` dropped. Returns the new ids in
    /// `part`'s order and the indices of the new comments.
    pub fn paste(&mut self, part: &Graph, offset: [f32; 2]) -> (Vec<NodeId>, Vec<usize>) {
        let shift = |p: [f32; 2]| [p[0] + offset[0], p[1] + offset[1]];
        let mut new_ids = BTreeMap::new();
        let mut added = Vec::new();
        for node in &part.nodes {
            if new_ids.contains_key(&node.id) {
                continue;
            }
            let id = self.fresh_id();
            let base = if is_valid_name(&node.name) {
                node.name.as_str()
            } else {
                node.kind.as_str()
            };
            let name = self.unique_name(base);
            new_ids.insert(node.id, id);
            self.nodes.push(Node {
                id,
                name,
                pos: shift(node.pos),
                ..node.clone()
            });
            added.push(id);
        }
        for edge in &part.edges {
            let (Some(from), Some(to)) = (new_ids.get(&edge.from.node), new_ids.get(&edge.to.node))
            else {
                continue;
            };
            let mut wire = edge.clone();
            wire.from.node = *from;
            wire.to.node = *to;
            if !self.edges.contains(&wire) {
                self.edges.push(wire);
            }
        }
        let first_comment = self.comments.len();
        self.comments.extend(part.comments.iter().map(|c| Comment {
            pos: shift(c.pos),
            ..c.clone()
        }));
        for group in &part.groups {
            let nodes: BTreeSet<NodeId> = group
                .nodes
                .iter()
                .filter_map(|n| new_ids.get(n).copied())
                .collect();
            // Nodes of `part` were pasted with fresh ids, so none of them is grouped yet.
            let _ = self.group_nodes(&nodes, &group.name, shift(group.pos));
        }
        (added, (first_comment..self.comments.len()).collect())
    }
}

/// Names are addressed as `name.param` on the command line, so they avoid dots and spaces.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_nodes_get_unique_names_and_ids() {
        let mut g = Graph::new("t");
        let a = g.add_node("window", "window", [0.0, 0.0]);
        let b = g.add_node("window", "window", [0.0, 0.0]);
        assert_ne!(a, b);
        assert_eq!(g.display_name(b), "window2");
    }

    #[test]
    fn rename_refuses_a_taken_name() {
        let mut g = Graph::new("t");
        let a = g.add_node("window", "a", [0.0, 0.0]);
        g.add_node("window", "b", [0.0, 0.0]);
        assert_eq!(g.rename_node(a, "b"), Err(EditError::NameTaken("b".into())));
        assert_eq!(
            g.rename_node(a, "x.y"),
            Err(EditError::BadName("x.y".into()))
        );
        g.rename_node(a, "c").unwrap();
        assert_eq!(g.display_name(a), "c");
    }

    fn wire(from: NodeId, to: NodeId) -> Edge {
        Edge {
            from: crate::graph::PortRef::new(from, "out"),
            to: crate::graph::PortRef::new(to, "in"),
        }
    }

    #[test]
    fn connect_refuses_loops_duplicates_and_cycles_naming_the_cycle() {
        let mut g = Graph::new("t");
        let a = g.add_node("map", "a", [0.0, 0.0]);
        let b = g.add_node("map", "b", [0.0, 0.0]);
        let c = g.add_node("map", "c", [0.0, 0.0]);
        assert_eq!(g.connect(wire(a, a), true), Err(EditError::SelfLoop));
        g.connect(wire(a, b), true).unwrap();
        assert_eq!(
            g.connect(wire(a, b), true),
            Err(EditError::AlreadyConnected)
        );
        g.connect(wire(b, c), true).unwrap();
        assert_eq!(
            g.connect(wire(c, a), true),
            Err(EditError::WouldCycle("a → b → c → a".into()))
        );
        assert_eq!(g.edges.len(), 2);
    }

    #[test]
    fn connecting_a_single_input_replaces_its_old_wire() {
        let mut g = Graph::new("t");
        let a = g.add_node("map", "a", [0.0, 0.0]);
        let b = g.add_node("map", "b", [0.0, 0.0]);
        let c = g.add_node("map", "c", [0.0, 0.0]);
        g.connect(wire(a, c), true).unwrap();
        assert_eq!(g.connect(wire(b, c), true), Ok(vec![wire(a, c)]));
        assert_eq!(g.edges, vec![wire(b, c)]);
        assert!(g.disconnect(&wire(b, c)));
        assert!(!g.disconnect(&wire(b, c)));
    }

    #[test]
    fn paste_renames_remaps_and_keeps_only_internal_wires() {
        let mut g = Graph::new("t");
        let a = g.add_node("map", "a", [0.0, 0.0]);
        let b = g.add_node("map", "b", [10.0, 0.0]);
        let c = g.add_node("map", "c", [20.0, 0.0]);
        g.connect(wire(a, b), true).unwrap();
        g.connect(wire(b, c), true).unwrap();
        let part = g.extract(&BTreeSet::from([a, b]), &BTreeSet::new());
        assert_eq!(part.edges, vec![wire(a, b)]);
        let (added, _) = g.paste(&part, [5.0, 5.0]);
        let names: Vec<String> = added.iter().map(|id| g.display_name(*id)).collect();
        assert_eq!(names, ["a2", "b2"]);
        assert_eq!(g.edges.len(), 3);
        assert!(g.edges.contains(&wire(added[0], added[1])));
        assert_eq!(g.node(added[1]).map(|n| n.pos), Some([15.0, 5.0]));
    }

    #[test]
    fn removing_a_selection_drops_its_wires_and_comments() {
        let mut g = Graph::new("t");
        let a = g.add_node("map", "a", [0.0, 0.0]);
        let b = g.add_node("map", "b", [0.0, 0.0]);
        g.connect(wire(a, b), true).unwrap();
        for text in ["one", "two"] {
            g.comments.push(Comment {
                text: text.into(),
                pos: [0.0, 0.0],
                size: [100.0, 50.0],
            });
        }
        g.remove_selection(&BTreeSet::from([a]), &BTreeSet::from([0]));
        assert!(g.edges.is_empty());
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.comments.len(), 1);
        assert_eq!(g.comments.first().map(|c| c.text.as_str()), Some("two"));
    }
}
