//! Card geometry in canvas units: a node's rectangle, its port anchors and its one-line
//! parameter summary. Pure functions of the node and its catalogue spec, shared by painting,
//! hit tests and the UI tests; nothing here is stored.

use crate::app::param_check::default_value;
use crate::catalog::{NodeKind, NodeParams, NodeSpec, PortSpec};
use crate::graph::{Graph, Node, PortRef};
use egui::{Pos2, Rect, pos2, vec2};

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

/// One port's place on a card.
#[derive(Clone, Copy, Debug)]
pub struct PortAnchor {
    pub spec: &'static PortSpec,
    pub output: bool,
    pub pos: Pos2,
}

/// Where everything of one card is, in canvas units.
#[derive(Clone, Debug)]
pub struct CardLayout {
    pub rect: Rect,
    pub spec: Option<&'static NodeSpec>,
    pub ports: Vec<PortAnchor>,
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
    let rows = inputs.len().max(outputs.len()).max(1) as f32;
    let height = TITLE_HEIGHT + rows * ROW_HEIGHT + SUMMARY_HEIGHT + BOTTOM_PAD;
    let min = pos2(node.pos[0], node.pos[1]);
    let rect = Rect::from_min_size(min, vec2(NODE_WIDTH, height));
    let row_y = |i: usize| min.y + TITLE_HEIGHT + ROW_HEIGHT * (i as f32 + 0.5);
    let mut ports = Vec::with_capacity(inputs.len() + outputs.len());
    ports.extend(inputs.iter().enumerate().map(|(i, p)| PortAnchor {
        spec: p,
        output: false,
        pos: pos2(rect.min.x, row_y(i)),
    }));
    ports.extend(outputs.iter().enumerate().map(|(i, p)| PortAnchor {
        spec: p,
        output: true,
        pos: pos2(rect.max.x, row_y(i)),
    }));
    CardLayout { rect, spec, ports }
}

/// Where a wire attaches to `port` (canvas units): the port's anchor, or the middle of the
/// card's edge when the port is unknown (a file naming a port the catalogue lacks).
pub fn port_anchor(graph: &Graph, port: &PortRef, output: bool) -> Option<Pos2> {
    let node = graph.node(port.node)?;
    let layout = card_layout(node);
    let found = layout
        .ports
        .iter()
        .find(|a| a.output == output && a.spec.name == port.port)
        .map(|a| a.pos);
    Some(found.unwrap_or_else(|| {
        let x = if output {
            layout.rect.max.x
        } else {
            layout.rect.min.x
        };
        pos2(x, layout.rect.center().y)
    }))
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
