//! No lost work: an edited graph is autosaved to the recovery folder once 30 s of UI time have
//! passed; a new editor on the same folder offers it back (Restore gives the edited graph as a
//! modified document, Discard deletes the file); a save or a clean quit removes the file.
//! UI time is advanced through the harness's input, so nothing sleeps.

use super::support::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use flowbook::app::recovery::{Recovery, RecoveryRecord};
use flowbook::app::{Command, Dialog, FlowbookApp, Settings};
use flowbook::catalog::NodeKind;
use flowbook::graph::{self, Graph};
use std::path::{Path, PathBuf};

/// An editor that autosaves into `dir` and offers what earlier sessions left there.
fn editor_recovering_into(dir: &Path) -> AppHarness {
    let dir = dir.to_path_buf();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(64)
        .build_eframe(move |_cc| {
            FlowbookApp::new(Settings::default()).with_recovery(Recovery::in_dir(&dir))
        });
    settle(&mut h);
    h
}

/// The recovery files in `dir`.
fn recovery_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries.flatten().map(|e| e.path()).collect()
}

/// Moves UI time to `time_s` and runs a few frames.
fn advance_to(h: &mut AppHarness, time_s: f64) {
    h.input_mut().time = Some(time_s);
    settle(h);
}

/// Opens `original` (saved at `path`), edits it and lets the autosave run; returns the edited graph.
fn edit_and_autosave(h: &mut AppHarness, original: Graph, path: &Path) -> Graph {
    graph::save(&original, path).unwrap();
    h.state_mut()
        .commands
        .push(Command::Open(path.to_path_buf()));
    settle(h);
    h.state_mut().commands.push(Command::AddNode {
        kind: NodeKind::Map,
        pos: [100.0, 200.0],
    });
    h.state_mut()
        .commands
        .push(Command::SetGraphName("edited".into()));
    settle(h);
    assert!(h.state().doc.is_modified());
    advance_to(h, 31.0);
    h.state().graph().clone()
}

#[test]
fn edits_are_autosaved_only_after_30_s() {
    let recovery_dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let path = docs.path().join("pipeline.ron");
    let mut h = editor_recovering_into(recovery_dir.path());
    graph::save(&source_and_window().0, &path).unwrap();
    h.state_mut().commands.push(Command::Open(path.clone()));
    settle(&mut h);
    h.state_mut()
        .commands
        .push(Command::SetGraphName("edited".into()));
    advance_to(&mut h, 20.0);
    assert!(
        recovery_files(recovery_dir.path()).is_empty(),
        "no autosave before 30 s"
    );
    advance_to(&mut h, 31.0);
    let files = recovery_files(recovery_dir.path());
    assert_eq!(files.len(), 1, "one recovery file: {files:?}");
    let record = RecoveryRecord::load(&files[0]).unwrap();
    assert_eq!(
        record.graph,
        *h.state().graph(),
        "it holds the edited graph"
    );
    assert_eq!(record.original.as_deref(), Some(path.as_path()));
    assert_eq!(
        h.state().recovery.own_file(),
        Some(files[0].as_path()),
        "the session's own file"
    );
}

#[test]
fn a_new_editor_offers_the_work_and_restore_gives_it_back_modified() {
    let recovery_dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let path = docs.path().join("pipeline.ron");
    let edited = {
        let mut crashed = editor_recovering_into(recovery_dir.path());
        edit_and_autosave(&mut crashed, source_and_window().0, &path)
        // Dropped without a clean exit, as in a crash.
    };
    assert_eq!(recovery_files(recovery_dir.path()).len(), 1);

    let mut h = editor_recovering_into(recovery_dir.path());
    assert!(
        matches!(h.state().dialog, Some(Dialog::Recovery(_))),
        "{:?}",
        h.state().dialog
    );
    assert!(
        h.query_by_label_contains("Restore unsaved work from")
            .is_some(),
        "the offer is on screen"
    );
    assert!(h.query_by_label_contains("(edited)?").is_some());
    h.get_by_label("Restore").click();
    settle(&mut h);
    assert_eq!(h.state().dialog, None);
    assert_eq!(*h.state().graph(), edited, "the edited graph is back");
    assert!(h.state().doc.is_modified(), "restored work is unsaved");
    assert_eq!(h.state().doc.path.as_deref(), Some(path.as_path()));
    assert!(
        h.state().window_title().starts_with("pipeline.ron * —"),
        "{}",
        h.state().window_title()
    );
    assert_eq!(
        recovery_files(recovery_dir.path()).len(),
        1,
        "the file stays until the work is saved"
    );

    h.state_mut().commands.push(Command::Save);
    settle(&mut h);
    assert_eq!(graph::load(&path).unwrap(), edited, "saved to its own file");
    assert!(
        recovery_files(recovery_dir.path()).is_empty(),
        "saving removes the recovery file"
    );
}

#[test]
fn discard_deletes_the_recovery_file() {
    let recovery_dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let path = docs.path().join("pipeline.ron");
    {
        let mut crashed = editor_recovering_into(recovery_dir.path());
        edit_and_autosave(&mut crashed, source_and_window().0, &path);
    }
    let mut h = editor_recovering_into(recovery_dir.path());
    h.get_by_label("Discard").click();
    settle(&mut h);
    assert_eq!(h.state().dialog, None);
    assert!(recovery_files(recovery_dir.path()).is_empty());
    assert!(h.state().graph().nodes.is_empty(), "nothing was opened");
    assert!(!h.state().doc.is_modified());

    let again = editor_recovering_into(recovery_dir.path());
    assert_eq!(again.state().dialog, None, "nothing is offered any more");
}

#[test]
fn saving_or_a_clean_quit_removes_the_recovery_file() {
    let recovery_dir = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let path = docs.path().join("pipeline.ron");
    let mut h = editor_recovering_into(recovery_dir.path());
    edit_and_autosave(&mut h, source_and_window().0, &path);
    assert_eq!(recovery_files(recovery_dir.path()).len(), 1);
    let copy = docs.path().join("copy.ron");
    h.state_mut().commands.push(Command::SaveAs(copy.clone()));
    settle(&mut h);
    assert!(!h.state().doc.is_modified());
    assert!(
        recovery_files(recovery_dir.path()).is_empty(),
        "Save As removes it"
    );

    h.state_mut()
        .commands
        .push(Command::SetGraphName("again".into()));
    advance_to(&mut h, 62.0);
    assert_eq!(
        recovery_files(recovery_dir.path()).len(),
        1,
        "new changes are autosaved again"
    );
    h.state_mut().on_clean_exit();
    assert!(
        recovery_files(recovery_dir.path()).is_empty(),
        "a clean quit removes it"
    );
}
