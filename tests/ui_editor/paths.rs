//! Where a graph's files are, whatever the working directory: an opened graph reads and writes
//! beside its file, a gallery copy beside its example, a new graph in the documents folder (and
//! says so), and Save As to another folder keeps its inputs and writes its outputs beside the
//! new file.
//!
//! The runs happen in a child process (this test binary, re-run with `CHILD_ENV` set) started
//! in an empty working directory: changing the working directory inside a multi-threaded test
//! binary would race the other tests.

use crate::common::{example, serial};
use crate::run::{phase, step_until};
use crate::support::*;
use egui_kittest::kittest::Queryable;
use flowbook::app::Command;
use flowbook::app::run::session::RunPhase;
use flowbook::graph::ParamValue;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Set in the child: the scratch folder holding `project/`, `examples/` and `work/`.
const CHILD_ENV: &str = "FLOWBOOK_PATHS_CHILD";

/// window-stats at full speed, with its data, into `folder`.
fn copy_window_stats(folder: &Path) {
    std::fs::create_dir_all(folder.join("data")).unwrap();
    let graph = full_speed(example("window-stats.ron"));
    flowbook::graph::save(&graph, &folder.join("window-stats.ron")).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs/data/events_a.csv");
    std::fs::copy(data, folder.join("data/events_a.csv")).unwrap();
}

fn non_empty(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

#[test]
fn examples_run_from_another_working_directory_and_from_the_gallery_copy() {
    let _serial = serial();
    let scratch = tempfile::tempdir().unwrap();
    let (project, examples, work) = (
        scratch.path().join("project"),
        scratch.path().join("examples"),
        scratch.path().join("work"),
    );
    copy_window_stats(&project);
    copy_window_stats(&examples);
    std::fs::create_dir_all(&work).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "paths::in_an_empty_working_directory",
            "--nocapture",
        ])
        .env(CHILD_ENV, scratch.path())
        .env("FLOWBOOK_EXAMPLES", &examples)
        .current_dir(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        non_empty(&project.join("windows.csv")),
        "outputs beside the opened graph"
    );
    assert!(
        non_empty(&examples.join("windows.csv")),
        "outputs beside the example"
    );
    let strays: Vec<PathBuf> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        strays.is_empty(),
        "nothing lands in the working directory: {strays:?}"
    );
}

/// Runs the open graph to Finished; the run must not fail.
fn run_to_finished(h: &mut AppHarness) {
    let number = |h: &AppHarness| h.state().run.session.as_ref().map(|s| s.number);
    let before = number(h);
    h.get_by_label("▶ Run").click();
    step_until(h, Duration::from_secs(60), |h| {
        number(h) != before
            && matches!(phase(h), Some(RunPhase::Finished | RunPhase::Failed { .. }))
    });
    assert_eq!(
        phase(h),
        Some(RunPhase::Finished),
        "{}",
        h.state().status.text
    );
}

/// The child's half (does nothing in a normal test run).
#[test]
fn in_an_empty_working_directory() {
    let Some(scratch) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let examples = scratch.join("examples");
    let mut h = editor_allowing_tofu();

    // Opened by its path: reads data/ and writes windows.csv beside the file.
    h.state_mut()
        .open_now(&scratch.join("project/window-stats.ron"));
    settle(&mut h);
    assert!(
        h.state().problems.problems.is_empty(),
        "{:?}",
        h.state().problems.problems
    );
    run_to_finished(&mut h);

    // A gallery copy: untitled, its paths beside the example, and the title says so.
    h.state_mut().commands.push(Command::ShowGallery);
    settle(&mut h);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Window statistics per key")
        .click();
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.doc.path, None, "a copy, not the example itself");
    assert_eq!(app.doc.location().folder(), examples.as_path());
    assert!(
        app.window_title()
            .contains("paths relative to the example's folder"),
        "{}",
        app.window_title()
    );
    assert!(
        app.problems.problems.is_empty(),
        "{:?}",
        app.problems.problems
    );
    run_to_finished(&mut h);

    // Save As into another folder: the input still names the example's data; the outputs
    // (relative) now land beside the saved file, and the status line says so.
    let saved = scratch.join("saved/mine.ron");
    std::fs::create_dir_all(saved.parent().unwrap()).unwrap();
    h.state_mut().commands.push(Command::SaveAs(saved.clone()));
    settle(&mut h);
    assert!(!h.state().status.is_error, "{}", h.state().status.text);
    let source = h.state().graph().node_by_name("source").unwrap();
    assert_eq!(
        source.params.get("path"),
        Some(&ParamValue::Text(
            examples.join("data/events_a.csv").display().to_string()
        ))
    );
    let status = h.state().status.text.clone();
    assert!(
        status.contains("outputs are now written beside the new file: sink.path = windows.csv"),
        "{status}"
    );
    assert!(h.state().window_title().starts_with("mine.ron —"));
    run_to_finished(&mut h);
    assert!(non_empty(&scratch.join("saved/windows.csv")));

    // A new graph: relative paths in the documents (or home) folder, never the working one.
    h.state_mut().commands.push(Command::New);
    settle(&mut h);
    let app = h.state();
    let folder = app.doc.location().folder().to_path_buf();
    assert_ne!(folder, std::env::current_dir().unwrap());
    assert!(
        app.window_title().contains("paths relative to "),
        "{}",
        app.window_title()
    );
}
