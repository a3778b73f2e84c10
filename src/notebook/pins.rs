//! Which cells show a node best: used by "Pin to notebook" and by reports of graphs that have
//! no cells of their own.

use crate::catalog::NodeKind;
use crate::graph::{Cell, Graph, NodeId};

/// The cells a "Pin to notebook" on `node` adds: what that kind of node shows best.
pub fn pin_cells(graph: &Graph, node: NodeId) -> Vec<Cell> {
    let kind = graph.node(node).and_then(|n| NodeKind::from_id(&n.kind));
    match kind {
        Some(NodeKind::Trainer) => vec![
            Cell::Plot {
                node,
                plot: "loss".into(),
            },
            Cell::Plot {
                node,
                plot: "accuracy".into(),
            },
        ],
        // Window statistics are sampled where windows fire; an aggregate's own rows show as
        // its data.
        Some(NodeKind::Window) => vec![Cell::WindowStats { node }],
        Some(kind) => match kind.spec().outputs.first() {
            Some(port) => vec![Cell::Preview {
                node,
                port: port.name.into(),
            }],
            // A sink has no output: show what flows into it.
            None => graph
                .inputs_of(node)
                .map(|edge| Cell::Preview {
                    node: edge.from.node,
                    port: edge.from.port.clone(),
                })
                .take(1)
                .collect(),
        },
        None => Vec::new(),
    }
}

/// The metric fields a pinned trainer plot draws, by plot name ("loss", "accuracy", "lr",
/// "hit_rate" for a ranking trainer against its popularity baseline).
pub fn plot_fields(plot: &str) -> &'static [&'static str] {
    match plot {
        "accuracy" => &["accuracy", "test_accuracy", "progressive_accuracy"],
        "lr" => &["lr"],
        "hit_rate" => &["hit_rate", "popular_hit_rate"],
        _ => &["loss", "test_loss", "progressive_loss"],
    }
}

/// A notebook for a graph without cells: its notes, every trainer's plots, every window's
/// table, and the run summary — so a report of any graph says something.
pub fn default_cells(graph: &Graph) -> Vec<Cell> {
    let mut cells = Vec::new();
    if !graph.notes.trim().is_empty() {
        cells.push(Cell::Markdown {
            text: graph.notes.clone(),
        });
    }
    for node in &graph.nodes {
        if let Some(NodeKind::Trainer | NodeKind::Window) = NodeKind::from_id(&node.kind) {
            cells.extend(pin_cells(graph, node.id));
        }
    }
    cells.push(Cell::RunSummary);
    cells
}

/// A cell's heading: what it shows, by the node's current name.
pub fn cell_title(cell: &Cell, graph: &Graph) -> String {
    let name = |n: &NodeId| graph.display_name(*n);
    match cell {
        Cell::Markdown { .. } => "Text".into(),
        Cell::Plot { node, plot } => format!("{} — {plot}", name(node)),
        Cell::Preview { node, port } => format!("{}.{port} — data", name(node)),
        Cell::WindowStats { node } => format!("{} — windows", name(node)),
        Cell::RunSummary => "Run summary".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, PortRef};

    #[test]
    fn each_kind_of_node_pins_what_it_shows_best() {
        let mut g = Graph::new("pins");
        let source = g.add_node("sequence_source", "source", [0.0, 0.0]);
        let window = g.add_node("window", "window", [0.0, 0.0]);
        let trainer = g.add_node("trainer", "trainer", [0.0, 0.0]);
        let sink = g.add_node("csv_sink", "sink", [0.0, 0.0]);
        let lonely_sink = g.add_node("null_sink", "null", [0.0, 0.0]);
        g.edges.push(Edge {
            from: PortRef::new(window, "out"),
            to: PortRef::new(sink, "in"),
        });
        assert_eq!(
            pin_cells(&g, source),
            vec![Cell::Preview {
                node: source,
                port: "out".into()
            }]
        );
        assert_eq!(
            pin_cells(&g, window),
            vec![Cell::WindowStats { node: window }]
        );
        assert_eq!(pin_cells(&g, trainer).len(), 2);
        assert_eq!(
            pin_cells(&g, sink),
            vec![Cell::Preview {
                node: window,
                port: "out".into()
            }],
            "a sink pins the data flowing into it"
        );
        assert!(pin_cells(&g, lonely_sink).is_empty());
        let defaults = default_cells(&g);
        assert_eq!(defaults.last(), Some(&Cell::RunSummary));
        assert!(defaults.contains(&Cell::WindowStats { node: window }));
    }
}
