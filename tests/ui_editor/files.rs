//! Files: save to a temporary folder and load back an equal graph, a malformed file shows its
//! error (line:column) while the current graph stays, the unsaved-changes guard, the title.

use super::support::*;
use egui_kittest::kittest::Queryable;
use flowbook::app::{Command, Dialog, DialogPurpose, Guarded};
use flowbook::graph::{self, Graph};
use std::path::Path;

fn example(name: &str) -> Graph {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("example-graphs")
        .join(name);
    graph::load(&path).expect("the example loads")
}

#[test]
fn save_as_to_a_temp_dir_and_open_again_gives_an_equal_graph() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.ron");
    let original = example("window-stats.ron");
    let mut h = editor_allowing_tofu();
    h.state_mut().set_document(original.clone(), None);
    settle(&mut h);
    menu(&mut h, "File", "Save As…");
    assert!(
        matches!(
            h.state().file_dialog.as_ref().map(|d| &d.purpose),
            Some(DialogPurpose::SaveAs)
        ),
        "File → Save As… opens the file dialog"
    );
    h.state_mut().file_dialog = None;
    h.state_mut().commands.push(Command::SaveAs(path.clone()));
    settle(&mut h);
    assert!(
        h.state().window_title().starts_with("copy.ron —"),
        "{}",
        h.state().window_title()
    );
    assert_eq!(
        graph::load(&path).unwrap(),
        original,
        "the saved file holds the graph"
    );

    h.state_mut().set_document(Graph::new("other"), None);
    h.state_mut().commands.push(Command::Open(path.clone()));
    settle(&mut h);
    assert_eq!(*h.state().graph(), original, "loaded back equal");
    assert_eq!(h.state().doc.path.as_deref(), Some(path.as_path()));
    assert!(!h.state().doc.is_modified());
    let canonical = std::fs::canonicalize(&path).unwrap();
    assert_eq!(
        h.state().settings.recent_files.first(),
        Some(&canonical),
        "remembered as recent"
    );
}

#[test]
fn a_malformed_file_shows_its_error_and_the_current_graph_stays() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "(\n  format_version: 1,\n  nodes: [ (id: ]\n)\n").unwrap();
    let original = example("moons.ron");
    let mut h = editor_with(original.clone());
    h.state_mut().commands.push(Command::Open(bad.clone()));
    settle(&mut h);
    let Some(Dialog::LoadError(message)) = h.state().dialog.clone() else {
        panic!("a load error dialog, got {:?}", h.state().dialog);
    };
    assert!(message.contains("bad.ron:3:"), "line:column in {message}");
    assert_eq!(
        *h.state().graph(),
        original,
        "the current graph is untouched"
    );
    assert!(
        h.query_by_label_contains("Could not open the file")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("bad.ron:3:").is_some(),
        "the error is on screen"
    );
    h.get_by_label("OK").click();
    settle(&mut h);
    assert_eq!(h.state().dialog, None);
    assert_eq!(*h.state().graph(), original);
}

#[test]
fn new_with_unsaved_changes_asks_first() {
    let (graph, _, _) = source_and_window();
    let mut h = editor_with(graph);
    h.state_mut().commands.push(Command::SelectAll);
    h.state_mut().commands.push(Command::Duplicate);
    settle(&mut h);
    assert!(h.state().doc.is_modified());
    assert!(
        h.state().window_title().starts_with("untitled * —"),
        "{}",
        h.state().window_title()
    );
    menu(&mut h, "File", "New");
    assert_eq!(h.state().dialog, Some(Dialog::Unsaved(Guarded::New)));
    h.get_by_label("Cancel").click();
    settle(&mut h);
    assert_eq!(h.state().graph().nodes.len(), 4, "Cancel keeps the graph");
    menu(&mut h, "File", "New");
    h.get_by_label("Don't save").click();
    settle(&mut h);
    assert!(h.state().graph().nodes.is_empty(), "Don't save discards");
    assert!(!h.state().doc.is_modified());
}

/// A file dropped on the window, as the windowing layer reports it.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_csv_file_adds_a_source_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("readings.csv");
    std::fs::write(&csv, "sensor,ts_ms,temp,humidity\nA,1,20.5,40\n").unwrap();
    let mut h = editor();
    let at = h.state().canvas.view.rect.center();
    h.hover_at(at);
    h.step();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(csv.clone())));
    settle(&mut h);
    let g = h.state().graph();
    assert_eq!(g.nodes.len(), 1, "{:?}", h.state().status);
    let node = &g.nodes[0];
    assert_eq!(node.kind, "csv_source");
    assert_eq!(node.name, "readings");
    let text = |p: &str| match node.params.get(p) {
        Some(graph::ParamValue::Text(s)) => s.clone(),
        other => panic!("{p}: {other:?}"),
    };
    assert_eq!(text("key_column"), "sensor");
    assert_eq!(text("time_column"), "ts_ms");
    assert_eq!(text("value_columns"), "temp,humidity");
}
