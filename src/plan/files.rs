//! The files a graph reads and writes, and the checks that keep a run from destroying one:
//! no output may be an input (a CSV source, the graph file itself) or another output, and no
//! output may be a folder or a special file that cannot be written. Paths are resolved first.

use super::Problem;
use crate::catalog::{NodeKind, NodeParams};
use crate::graph::Graph;
use crate::output_file::check_target;
use crate::paths::{FileUse, GraphLocation, clashes};

/// Every file the graph at `location` reads or writes, resolved, with who uses it
/// (`source.path`, `the graph file`). Works on any graph, valid or not, so the editor can check
/// an export path even while the graph has problems.
pub fn file_uses(graph: &Graph, location: &GraphLocation) -> Vec<FileUse> {
    let mut uses = Vec::new();
    if let Some(file) = location.file() {
        uses.push(FileUse::input(file, "the graph file"));
    }
    for node in &graph.nodes {
        let Some(kind) = NodeKind::from_id(&node.kind) else {
            continue;
        };
        let role = match kind {
            NodeKind::CsvSource => FileUse::input,
            NodeKind::CsvSink => FileUse::output,
            _ => continue,
        };
        let raw = NodeParams::new(node, kind.spec()).text("path");
        if raw.trim().is_empty() {
            continue;
        }
        uses.push(role(location.resolve(&raw), format!("{}.path", node.name)));
    }
    uses
}

/// Refuses an extra output of the graph at `location` (an exported plot or CSV, a report):
/// a folder or special file that cannot be written, or a file the graph reads or writes.
/// `who` names the export in the message. For the editor's exports; valid or not, any graph.
pub fn check_export_path(
    graph: &Graph,
    location: &GraphLocation,
    path: &std::path::Path,
    who: &str,
) -> Result<(), String> {
    check_target(path).map_err(|e| format!("{who}: {e}"))?;
    crate::paths::check_new_output(path, who, &file_uses(graph, location))
}

/// Problems with the graph's outputs: an output that is an input or another output (naming
/// both), or a target that cannot be written (a folder, a socket, a missing folder).
pub fn check(graph: &Graph, location: &GraphLocation) -> Vec<Problem> {
    let uses = file_uses(graph, location);
    let sink_of = |who: &str| {
        graph
            .nodes
            .iter()
            .find(|n| who.strip_suffix(".path") == Some(n.name.as_str()))
    };
    let problem = |who: &str, message: String| match sink_of(who) {
        Some(node) => Problem::node(node, message).with_param("path"),
        None => Problem::graph(format!("{who}: {message}")),
    };
    let mut problems = Vec::new();
    for u in uses
        .iter()
        .filter(|u| u.role == crate::paths::FileRole::Output)
    {
        if let Err(e) = check_target(&u.path) {
            problems.push(problem(&u.who, e.to_string()));
        }
    }
    for (index, message) in clashes(&uses) {
        if let Some(u) = uses.get(index) {
            problems.push(problem(&u.who, message));
        }
    }
    problems
}
