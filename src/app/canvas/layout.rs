//! Card geometry in canvas units: a node's rectangle, its port anchors and its one-line
//! parameter summary. Pure functions of the node and its catalogue spec, shared by painting,
//! hit tests and the UI tests; nothing here is stored.

use crate::app::param_check::default_value;
use crate::catalog::{NodeKind, NodeParams, NodeSpec, PortSpec};
use crate::graph::{Graph, GroupId, Node, NodeId, PortRef};
use egui::{Pos2, Rect, pos2, vec2};
use std::borrow::Cow;

pub const NODE_WIDTH: f32 = 190.0;
pub const TITLE_HEIGHT: f32 = 26.0;
pub const ROW_HEIGHT: f32 = 20.0;
pub const SUMMARY_HEIGHT: f32 = 20.0;
const BOTTOM_PAD: f32 = 4.0;
/// Port radius in canvas units; hits are generous (twice this) so ports are easy to grab.
pub const PORT_RADIUS: f32 = 5.5;
pub const PORT_HIT_RADIUS: f32 = 11.0;
/// Grid spacing for drawing and for snapping.
pub const GRID_STEP: f32 = 20.0;

/// One port's place on a card. On a group card the port belongs to a node inside the group.
#[derive(Clone, Debug)]
pub struct PortAnchor {
    pub spec: &'static PortSpec,
    pub output: bool,
    pub pos: Pos2,
    /// The node that owns the port.
    pub node: NodeId,
    /// The name the card shows: the port's own, or on a group card `node.port` when two
    /// outer ports share a name.
    pub label: Cow<'static, str>,
}

impl PortAnchor {
    /// The real port (of the node that owns it).
    pub fn port(&self) -> PortRef {
        PortRef::new(self.node, self.spec.name)
    }
}

/// Where everything of one card is, in canvas units.
#[derive(Clone, Debug)]
pub struct CardLayout {
    pub rect: Rect,
    pub spec: Option<&'static NodeSpec>,
    pub ports: Vec<PortAnchor>,
    /// The group this card stands for, when it is a group card.
    pub group: Option<GroupId>,
}

impl CardLayout {
    pub fn title_rect(&self) -> Rect {
        Rect::from_min_size(self.rect.min, vec2(self.rect.width(), TITLE_HEIGHT))
    }

    pub fn summary_rect(&self) -> Rect {
        Rect::from_min_max(
            pos2(
                self.rect.min.x,
                self.rect.max.y - SUMMARY_HEIGHT - BOTTOM_PAD,
            ),
            self.rect.max,
        )
    }
}

/// The catalogue spec of a node, if its kind is known.
pub fn spec_of(node: &Node) -> Option<&'static NodeSpec> {
    NodeKind::from_id(&node.kind).map(NodeKind::spec)
}

/// The full layout of a node's card.
pub fn card_layout(node: &Node) -> CardLayout {
    let spec = spec_of(node);
    let (inputs, outputs): (&[PortSpec], &[PortSpec]) = match spec {
        Some(s) => (s.inputs, s.outputs),
        None => (&[], &[]),
    };
    let own = |p: &'static PortSpec| (node.id, p, Cow::Borrowed(p.name));
    let inputs: Vec<_> = inputs.iter().map(own).collect();
    let outputs: Vec<_> = outputs.iter().map(own).collect();
    let mut card = card_with_ports(node.pos, &inputs, &outputs);
    card.spec = spec;
    card
}

/// A port a card shows: its owner, its spec and its label.
pub type CardPort = (NodeId, &'static PortSpec, Cow<'static, str>);

/// A card at `pos` with these input and output ports, one row each.
pub fn card_with_ports(pos: [f32; 2], inputs: &[CardPort], outputs: &[CardPort]) -> CardLayout {
    let rows = inputs.len().max(outputs.len()).max(1) as f32;
    let height = TITLE_HEIGHT + rows * ROW_HEIGHT + SUMMARY_HEIGHT + BOTTOM_PAD;
    let min = pos2(pos[0], pos[1]);
    let rect = Rect::from_min_size(min, vec2(NODE_WIDTH, height));
    let row_y = |i: usize| min.y + TITLE_HEIGHT + ROW_HEIGHT * (i as f32 + 0.5);
    let anchor = |output: bool, x: f32| {
        move |(i, (node, spec, label)): (usize, &CardPort)| PortAnchor {
            spec,
            output,
            pos: pos2(x, row_y(i)),
            node: *node,
            label: label.clone(),
        }
    };
    let mut ports = Vec::with_capacity(inputs.len() + outputs.len());
    ports.extend(inputs.iter().enumerate().map(anchor(false, rect.min.x)));
    ports.extend(outputs.iter().enumerate().map(anchor(true, rect.max.x)));
    CardLayout {
        rect,
        spec: None,
        ports,
        group: None,
    }
}

/// One line for the card: the parameters the user set, else the first defaults.
pub fn param_summary(node: &Node, spec: &'static NodeSpec) -> String {
    let params = NodeParams::new(node, spec);
    let set: Vec<String> = spec
        .params
        .iter()
        .filter(|p| {
            node.params
                .get(p.name)
                .is_some_and(|v| *v != default_value(p))
        })
        .map(|p| format!("{}={}", p.name, short_value(&params.value(p.name))))
        .collect();
    if !set.is_empty() {
        return set.join("  ");
    }
    spec.params
        .iter()
        .take(3)
        .map(|p| format!("{}={}", p.name, short_value(&params.value(p.name))))
        .collect::<Vec<_>>()
        .join("  ")
}

/// A value as the card shows it: text without quotes, numbers as written.
pub fn short_value(value: &crate::graph::ParamValue) -> String {
    match value {
        crate::graph::ParamValue::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Rounds a canvas position to the grid.
pub fn snap(pos: Pos2) -> Pos2 {
    pos2(
        (pos.x / GRID_STEP).round() * GRID_STEP,
        (pos.y / GRID_STEP).round() * GRID_STEP,
    )
}

/// The canvas area covered by all nodes and comments, if any.
pub fn graph_bounds(graph: &Graph) -> Option<Rect> {
    let cards = graph.nodes.iter().map(|n| card_layout(n).rect);
    let notes = graph
        .comments
        .iter()
        .map(|c| Rect::from_min_size(pos2(c.pos[0], c.pos[1]), vec2(c.size[0], c.size[1])));
    cards.chain(notes).reduce(|a, b| a.union(b))
}
