//! The cards the canvas shows at one scope. At the top level: every node outside a group,
//! and one card per group whose outer ports are its nodes' ports that are wired across the
//! group's edge or not wired at all. Inside an open group: its nodes. Pure functions of the
//! document and the scope, shared by painting, hit tests, the minimap and the gallery.

use super::layout::{CardLayout, CardPort, card_layout, card_with_ports, spec_of};
use crate::catalog::{Category, PortSpec};
use crate::graph::{Graph, Group, GroupId, NodeId, PortRef};
use egui::{Pos2, Rect, pos2};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// What a card stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardId {
    Node(NodeId),
    Group(GroupId),
}

/// The open group, if it still exists (an undo may have removed it).
pub fn valid_scope(graph: &Graph, scope: Option<GroupId>) -> Option<GroupId> {
    scope.filter(|g| graph.group(*g).is_some())
}

/// Every card of one scope for this frame, looked up by the nodes they show.
pub struct Layouts {
    pub cards: Vec<(CardId, CardLayout)>,
    /// The open group these cards are the inside of; the top level when none.
    pub scope: Option<GroupId>,
    /// Node → the card showing it (its own, or its group's).
    index: HashMap<NodeId, usize>,
}

impl Layouts {
    /// The cards of `scope`: the top level (`None`) or the inside of a group.
    pub fn of(graph: &Graph, scope: Option<GroupId>) -> Self {
        let scope = valid_scope(graph, scope);
        let grouped = graph.grouped_nodes();
        let mut cards = Vec::with_capacity(graph.nodes.len());
        let mut index = HashMap::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            if grouped.get(&node.id).copied() == scope {
                index.insert(node.id, cards.len());
                cards.push((CardId::Node(node.id), card_layout(node)));
            }
        }
        if scope.is_none() {
            for group in &graph.groups {
                let at = cards.len();
                for node in &group.nodes {
                    index.entry(*node).or_insert(at);
                }
                cards.push((CardId::Group(group.id), group_layout(graph, group)));
            }
        }
        Self {
            cards,
            scope,
            index,
        }
    }

    /// The card showing node `id` in this scope.
    pub fn get(&self, id: NodeId) -> Option<&CardLayout> {
        self.card(id).map(|(_, c)| c)
    }

    pub fn card(&self, id: NodeId) -> Option<&(CardId, CardLayout)> {
        self.index.get(&id).and_then(|i| self.cards.get(*i))
    }

    /// The card of `id` (a node or a group card).
    pub fn of_card(&self, id: CardId) -> Option<&CardLayout> {
        self.cards.iter().find(|(c, _)| *c == id).map(|(_, c)| c)
    }

    /// Where a wire attaches to a port, in canvas units; none when the port is not on screen
    /// in this scope (a node outside the open group, a port inside a closed group). A node's
    /// port the catalogue does not know attaches to the middle of the card's edge.
    pub fn anchor(&self, port: &PortRef, output: bool) -> Option<Pos2> {
        let (id, card) = self.card(port.node)?;
        let found = card
            .ports
            .iter()
            .find(|a| a.output == output && a.node == port.node && a.spec.name == port.port)
            .map(|a| a.pos);
        match (found, id) {
            (Some(p), _) => Some(p),
            (None, CardId::Group(_)) => None,
            (None, CardId::Node(_)) => {
                let x = if output {
                    card.rect.max.x
                } else {
                    card.rect.min.x
                };
                Some(pos2(x, card.rect.center().y))
            }
        }
    }

    /// The area the cards cover, if any.
    pub fn bounds(&self) -> Option<Rect> {
        self.cards
            .iter()
            .map(|(_, c)| c.rect)
            .reduce(|a, b| a.union(b))
    }
}

/// The ports of a group's nodes that the group card shows: those wired to a node outside the
/// group, and those not wired at all (so the group can be wired later). Nodes in the order the
/// group lists them, ports in their catalogue order.
pub fn outer_ports(graph: &Graph, group: &Group) -> (Vec<CardPort>, Vec<CardPort>) {
    let inside: BTreeSet<NodeId> = group.nodes.iter().copied().collect();
    let mut inputs: Vec<(NodeId, &'static PortSpec)> = Vec::new();
    let mut outputs: Vec<(NodeId, &'static PortSpec)> = Vec::new();
    for id in &group.nodes {
        let Some(spec) = graph.node(*id).and_then(spec_of) else {
            continue;
        };
        for port in spec.inputs {
            let wires: Vec<NodeId> = graph
                .edges
                .iter()
                .filter(|e| e.to.node == *id && e.to.port == port.name)
                .map(|e| e.from.node)
                .collect();
            if wires.is_empty() || wires.iter().any(|n| !inside.contains(n)) {
                inputs.push((*id, port));
            }
        }
        for port in spec.outputs {
            let wires: Vec<NodeId> = graph
                .edges
                .iter()
                .filter(|e| e.from.node == *id && e.from.port == port.name)
                .map(|e| e.to.node)
                .collect();
            if wires.is_empty() || wires.iter().any(|n| !inside.contains(n)) {
                outputs.push((*id, port));
            }
        }
    }
    (labelled(graph, &inputs), labelled(graph, &outputs))
}

/// A port's own name when no other outer port on the same side has it, else `node.port`.
fn labelled(graph: &Graph, ports: &[(NodeId, &'static PortSpec)]) -> Vec<CardPort> {
    ports
        .iter()
        .map(|(node, spec)| {
            let shared = ports.iter().filter(|(_, s)| s.name == spec.name).count() > 1;
            let label = if shared {
                Cow::Owned(format!("{}.{}", graph.display_name(*node), spec.name))
            } else {
                Cow::Borrowed(spec.name)
            };
            (*node, *spec, label)
        })
        .collect()
}

/// The card of a group at its own position.
pub fn group_layout(graph: &Graph, group: &Group) -> CardLayout {
    let (inputs, outputs) = outer_ports(graph, group);
    let mut card = card_with_ports(group.pos, &inputs, &outputs);
    card.group = Some(group.id);
    card
}

/// One line for a group card: its nodes in order, a layer with its width (`dense 16`).
pub fn group_summary(graph: &Graph, group: &Group) -> String {
    group
        .nodes
        .iter()
        .filter_map(|id| graph.node(*id))
        .map(|n| {
            let units = n.params.get("units").map(|u| format!(" {u}"));
            format!("{}{}", n.kind, units.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A name for a new group of these nodes: `mlp` for layers only, else `group`.
pub fn group_name_for(graph: &Graph, nodes: &BTreeSet<NodeId>) -> &'static str {
    let layers_only = nodes.iter().all(|id| {
        graph
            .node(*id)
            .and_then(spec_of)
            .is_some_and(|s| s.category == Category::Layers)
    });
    if layers_only { "mlp" } else { "group" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Edge;

    fn moons_like() -> (Graph, Vec<NodeId>) {
        let mut g = Graph::new("t");
        let kinds = [
            ("batch", "batch"),
            ("dense", "dense1"),
            ("tanh", "tanh1"),
            ("dense", "dense2"),
            ("loss", "loss"),
        ];
        let ids: Vec<NodeId> = kinds
            .iter()
            .enumerate()
            .map(|(i, (kind, name))| g.add_node(kind, name, [i as f32 * 240.0, 0.0]))
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
    fn a_group_shows_the_ports_wired_across_its_edge_and_hides_its_nodes() {
        let (mut g, ids) = moons_like();
        let inner: BTreeSet<NodeId> = ids[1..4].iter().copied().collect();
        assert_eq!(group_name_for(&g, &inner), "mlp");
        let group = g.group_nodes(&inner, "mlp", [240.0, 0.0]).unwrap();
        let layouts = Layouts::of(&g, None);
        let ids_shown: Vec<CardId> = layouts.cards.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids_shown,
            [
                CardId::Node(ids[0]),
                CardId::Node(ids[4]),
                CardId::Group(group)
            ]
        );
        let card = layouts.of_card(CardId::Group(group)).unwrap();
        let ports: Vec<(String, bool)> = card
            .ports
            .iter()
            .map(|p| {
                (
                    format!("{}.{}", g.display_name(p.node), p.spec.name),
                    p.output,
                )
            })
            .collect();
        assert_eq!(
            ports,
            [
                ("dense1.in".to_owned(), false),
                ("dense2.out".to_owned(), true)
            ]
        );
        // The wire batch → dense1 lands on the group card's input; inner wires have no anchor.
        let into = layouts.anchor(&PortRef::new(ids[1], "in"), false).unwrap();
        assert_eq!(into.x, card.rect.min.x);
        assert!(layouts.anchor(&PortRef::new(ids[1], "out"), true).is_none());
        assert_eq!(
            group_summary(&g, g.group(group).unwrap()),
            "dense · tanh · dense"
        );
        // Inside the group: its three nodes only.
        assert_eq!(Layouts::of(&g, Some(group)).cards.len(), 3);
    }

    #[test]
    fn unwired_ports_of_grouped_nodes_stay_reachable_and_shared_names_are_qualified() {
        let mut g = Graph::new("t");
        let a = g.add_node("dense", "a", [0.0, 0.0]);
        let b = g.add_node("dense", "b", [0.0, 100.0]);
        let group = g
            .group_nodes(&BTreeSet::from([a, b]), "pair", [0.0, 0.0])
            .unwrap();
        let (inputs, outputs) = outer_ports(&g, g.group(group).unwrap());
        let labels: Vec<&str> = inputs
            .iter()
            .chain(&outputs)
            .map(|p| p.2.as_ref())
            .collect();
        assert_eq!(labels, ["a.in", "b.in", "a.out", "b.out"]);
    }
}
