//! Edits that keep the document's invariants: unique names, fresh ids, edges that follow nodes.
//! The editor and the CLI's `--set` go through these; none of them checks kinds or types.

use super::{Graph, Node, NodeId, ParamValue};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("there is no node named '{0}'")]
    NoSuchNode(String),
    #[error("the name '{0}' is already taken by another node")]
    NameTaken(String),
    #[error("a node name cannot be empty or contain '.', spaces or quotes: '{0}'")]
    BadName(String),
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

    /// Removes a node and every edge touching it.
    pub fn remove_node(&mut self, id: NodeId) {
        self.nodes.retain(|n| n.id != id);
        self.edges.retain(|e| e.from.node != id && e.to.node != id);
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
}
