//! Save As to another folder. Relative paths resolve against the graph file's folder, which is
//! about to change, so each relative path is looked at:
//! - an input (a source's file) that exists where it pointed is rewritten to name the same file
//!   from the new folder (as Blender's "remap relative" does): the data does not move;
//! - an output stays relative, so it is written beside the graph's new file (a copy of an
//!   example saved into a project writes there, not into the example's folder). The status
//!   line says which outputs moved with the graph.

use crate::catalog::{NodeKind, ParamDefault, ParamKind};
use crate::graph::{Graph, ParamValue};
use crate::paths::GraphLocation;
use std::path::Path;

/// What Save As did to the graph's paths, for the status line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relocation {
    /// Inputs rewritten to keep their file: "events.path = /data/events.csv".
    pub inputs_kept: Vec<String>,
    /// Relative outputs that now land beside the new file: "sink.path = windows.csv".
    pub outputs_follow: Vec<String>,
}

impl Relocation {
    /// "; events.path now reads … (the same file); outputs windows.csv, late.csv are written
    /// beside the new file" — empty when nothing changed.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        if !self.inputs_kept.is_empty() {
            text.push_str(&format!(
                "; inputs rewritten to read the same files: {}",
                self.inputs_kept.join(", ")
            ));
        }
        if !self.outputs_follow.is_empty() {
            text.push_str(&format!(
                "; outputs are now written beside the new file: {}",
                self.outputs_follow.join(", ")
            ));
        }
        text
    }
}

/// Rewrites `graph`'s relative input paths, which resolved against `from`, so they name the
/// same files from `to` (only inputs that exist: a path to nothing is left for the user to fix
/// beside the new file). `exists` is the file system's answer (a parameter for tests).
pub fn relocate_paths(
    graph: &mut Graph,
    from: &GraphLocation,
    to: &GraphLocation,
    exists: impl Fn(&Path) -> bool,
) -> Relocation {
    let mut done = Relocation::default();
    for node in &mut graph.nodes {
        let Some(kind) = NodeKind::from_id(&node.kind) else {
            continue;
        };
        for param in kind.spec().params {
            if !matches!(param.kind, ParamKind::Path) {
                continue;
            }
            let raw = match (node.params.get(param.name), param.default) {
                (Some(ParamValue::Text(text)), _) => text.clone(),
                (None, ParamDefault::Text(text)) => text.to_owned(),
                _ => continue,
            };
            let Some(rebased) = from.rebase(&raw, to) else {
                continue;
            };
            let who = format!("{}.{}", node.name, param.name);
            if !kind.is_source() {
                done.outputs_follow.push(format!("{who} = {}", raw.trim()));
            } else if exists(&from.resolve(&raw)) {
                done.inputs_kept.push(format!("{who} = {rebased}"));
                node.params
                    .insert(param.name.to_owned(), ParamValue::Text(rebased));
            }
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_keep_their_files_and_outputs_follow_the_graph() {
        let mut g = Graph::new("t");
        let source = g.add_node("csv_source", "events", [0.0, 0.0]);
        let missing = g.add_node("csv_source", "missing", [0.0, 0.0]);
        let sink = g.add_node("csv_sink", "out", [0.0, 0.0]);
        let map = g.add_node("map", "m", [0.0, 0.0]);
        let set = |g: &mut Graph, id, name: &str, v: &str| {
            if let Some(n) = g.node_mut(id) {
                n.params.insert(name.into(), ParamValue::Text(v.into()));
            }
        };
        set(&mut g, source, "path", "data/events.csv");
        set(&mut g, missing, "path", "nowhere.csv");
        set(&mut g, map, "expr", "x * 2");
        let from = GraphLocation::unsaved(Path::new("/repo/example-graphs"));
        let to = GraphLocation::of_file(Path::new("/repo/mine.ron"));
        let before = g.clone();
        let exists = |p: &Path| p == Path::new("/repo/example-graphs/data/events.csv");
        let done = relocate_paths(&mut g, &from, &to, exists);
        let text = |g: &Graph, id, p: &str| match g.node(id).and_then(|n| n.params.get(p)) {
            Some(ParamValue::Text(t)) => t.clone(),
            _ => String::new(),
        };
        assert_eq!(text(&g, source, "path"), "example-graphs/data/events.csv");
        assert_eq!(
            text(&g, missing, "path"),
            "nowhere.csv",
            "a path to nothing stays"
        );
        assert_eq!(
            text(&g, sink, "path"),
            "",
            "the sink keeps its default out.csv"
        );
        assert_eq!(text(&g, map, "expr"), "x * 2");
        assert_eq!(
            done,
            Relocation {
                inputs_kept: vec!["events.path = example-graphs/data/events.csv".into()],
                outputs_follow: vec!["out.path = out.csv".into()],
            }
        );
        let mut same = before.clone();
        let here = GraphLocation::of_file(Path::new("/repo/example-graphs/copy.ron"));
        assert_eq!(
            relocate_paths(&mut same, &from, &here, exists),
            Relocation::default()
        );
        assert_eq!(same, before, "saving into the same folder changes nothing");
    }
}
