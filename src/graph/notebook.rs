//! The notebook beside the graph: an ordered list of cells saved in the graph file. Text cells
//! hold markdown; output cells name what they show (a trainer's metric plot, a wire's data, a
//! window node's statistics, the run summary) by node id, so renaming a node keeps its cells.
//! Results themselves are not stored here: they come from a run.

use super::{Graph, NodeId};
use serde::{Deserialize, Serialize};

/// One notebook cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Markdown text: the story around the pipeline.
    Markdown { text: String },
    /// A plot of a node's output over the run (a trainer's loss, accuracy or learning rate, a
    /// window node's statistics, throughput), named by the plot's kind.
    Plot { node: NodeId, plot: String },
    /// The last records that left an output port.
    Preview { node: NodeId, port: String },
    /// A window or aggregate node's latest window statistics, as a table.
    WindowStats { node: NodeId },
    /// Records, time and final metrics of the run.
    RunSummary,
}

impl Cell {
    /// The node an output cell shows, if any.
    pub fn node(&self) -> Option<NodeId> {
        match self {
            Cell::Plot { node, .. } | Cell::Preview { node, .. } | Cell::WindowStats { node } => {
                Some(*node)
            }
            Cell::Markdown { .. } | Cell::RunSummary => None,
        }
    }
}

impl Graph {
    /// Moves cell `from` to position `to` (both clamped to the list); false if nothing moved.
    pub fn move_cell(&mut self, from: usize, to: usize) -> bool {
        if from >= self.notebook.len() {
            return false;
        }
        let to = to.min(self.notebook.len() - 1);
        if from == to {
            return false;
        }
        let cell = self.notebook.remove(from);
        self.notebook.insert(to, cell);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{from_ron_str, to_ron_string};

    fn notebook() -> Graph {
        let mut g = Graph::new("nb");
        let trainer = g.add_node("trainer", "trainer", [0.0, 0.0]);
        g.notebook = vec![
            Cell::Markdown {
                text: "# Moons\n\nRaise `lr` to 0.5 and watch the loss.".into(),
            },
            Cell::Plot {
                node: trainer,
                plot: "loss".into(),
            },
            Cell::RunSummary,
        ];
        g
    }

    #[test]
    fn cells_round_trip_through_the_file_format() {
        let g = notebook();
        let text = to_ron_string(&g).unwrap();
        assert!(text.contains("notebook:"), "{text}");
        let back = from_ron_str(&text, "nb.ron").unwrap();
        assert_eq!(back, g);
        assert_eq!(to_ron_string(&back).unwrap(), text, "byte-identical");
    }

    #[test]
    fn a_graph_without_cells_writes_no_notebook_field() {
        let g = Graph::new("plain");
        assert!(!to_ron_string(&g).unwrap().contains("notebook"));
    }

    #[test]
    fn removing_a_node_removes_its_cells_and_keeps_the_text() {
        let mut g = notebook();
        let trainer = g.node_by_name("trainer").map(|n| n.id).unwrap();
        g.remove_node(trainer);
        assert_eq!(g.notebook.len(), 2);
        assert!(g.notebook.iter().all(|c| c.node().is_none()));
    }

    #[test]
    fn cells_move_within_bounds() {
        let mut g = notebook();
        assert!(g.move_cell(0, 5));
        assert_eq!(
            g.notebook.last(),
            Some(&Cell::Markdown {
                text: "# Moons\n\nRaise `lr` to 0.5 and watch the loss.".into()
            })
        );
        assert!(!g.move_cell(7, 0));
        assert!(!g.move_cell(1, 1));
        assert_eq!(g.notebook.len(), 3);
    }
}
