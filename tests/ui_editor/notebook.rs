//! The notebook pane: dragging a cell to a new place, outputs kept beside the file when it is
//! saved and shown again on reopening, and File → Export report.

use crate::common::{example, serial};
use crate::support::{AppHarness, drag, editor, settle};
use egui_kittest::kittest::Queryable;
use flowbook::app::Command;
use flowbook::app::run::session::RunPhase;
use flowbook::graph::Cell;
use std::time::{Duration, Instant};

fn cell_kinds(h: &AppHarness) -> Vec<&'static str> {
    h.state()
        .graph()
        .notebook
        .iter()
        .map(|c| match c {
            Cell::Markdown { .. } => "text",
            Cell::Plot { plot, .. } if plot == "loss" => "loss",
            Cell::Plot { .. } => "plot",
            Cell::Preview { .. } => "preview",
            Cell::WindowStats { .. } => "windows",
            Cell::RunSummary => "summary",
        })
        .collect()
}

fn moons_with_pane() -> AppHarness {
    let mut h = editor();
    h.state_mut().set_document(example("moons.ron"), None);
    h.state_mut().settings.show_notebook = true;
    settle(&mut h);
    h
}

#[test]
fn dragging_a_cell_by_its_title_moves_it_and_undo_puts_it_back() {
    let mut h = moons_with_pane();
    assert_eq!(cell_kinds(&h), ["text", "loss", "plot", "summary"]);
    let summary = h.get_by_label("☰ Run summary").rect();
    let text = h.get_by_label("☰ Text").rect();
    // Drop on the upper half of the first cell: the summary goes first.
    drag(
        &mut h,
        summary.center(),
        egui::pos2(text.center().x, text.top() + 4.0),
    );
    settle(&mut h);
    assert_eq!(cell_kinds(&h), ["summary", "text", "loss", "plot"]);
    h.state_mut().commands.push(Command::Undo);
    settle(&mut h);
    assert_eq!(cell_kinds(&h), ["text", "loss", "plot", "summary"]);
    // Drop on the lower half of the last cell (its body line): the text goes last.
    let text = h.get_by_label("☰ Text").rect();
    let summary_body = h
        .query_all_by_label_contains("Fills when the graph runs")
        .last()
        .unwrap()
        .rect();
    drag(&mut h, text.center(), summary_body.center());
    settle(&mut h);
    assert_eq!(cell_kinds(&h), ["loss", "plot", "summary", "text"]);
}

#[test]
fn an_open_text_editor_closes_when_cells_move_instead_of_jumping_to_another_cell() {
    let mut h = moons_with_pane();
    h.state_mut()
        .commands
        .push(Command::AddCell(Cell::Markdown {
            text: "Second text".into(),
        }));
    settle(&mut h);
    // Edit the first text cell, then move the second text cell into its place.
    h.query_all_by_label("Edit").nth(1).unwrap().click();
    settle(&mut h);
    assert_eq!(h.query_all_by_label("Done").count(), 1);
    h.state_mut()
        .commands
        .push(Command::MoveCell { from: 4, to: 0 });
    settle(&mut h);
    assert_eq!(h.query_all_by_label("Done").count(), 0, "the editor closed");
    let Cell::Markdown { text } = &h.state().graph().notebook[0] else {
        panic!("the moved text cell is first");
    };
    assert_eq!(text, "Second text", "and keeps its own text");
}

fn run_to_the_end(h: &mut AppHarness) {
    h.get_by_label("▶ Run").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while crate::run::phase(h) != Some(RunPhase::Finished) {
        assert!(Instant::now() < deadline, "the run did not finish");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    settle(h);
}

#[test]
fn outputs_are_saved_beside_the_graph_shown_on_reopening_and_exported_as_a_report() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moons.ron");
    flowbook::graph::save(&example("moons.ron"), &path).unwrap();
    let mut h = editor();
    h.state_mut().open_now(&path);
    settle(&mut h);
    assert!(
        h.state().settings.show_notebook,
        "a file with cells opens its pane"
    );
    assert_eq!(
        h.query_all_by_label_contains("Fills when the graph runs")
            .count(),
        3,
        "loss, accuracy and summary wait for a run"
    );
    run_to_the_end(&mut h);
    h.state_mut().commands.push(Command::Save);
    settle(&mut h);

    let stored = flowbook::notebook::load_results(&path)
        .unwrap()
        .expect("results beside the graph");
    assert_eq!(stored.run.as_ref().unwrap().outcome, "finished");
    let trainer = h.state().graph().node_by_name("trainer").unwrap().id;
    let loss = stored.output(&Cell::Plot {
        node: trainer,
        plot: "loss".into(),
    });
    let Some(flowbook::notebook::CellOutput::Plot { series, .. }) = loss else {
        panic!("no stored loss plot: {loss:?}");
    };
    let points = &series[0].points;
    assert!(points.len() > 50, "{} points", points.len());
    assert!(
        points.last().unwrap().1 < points[0].1 / 3.0,
        "the stored loss fell"
    );

    // A new editor opens the file: the cells show the stored outputs without a run.
    let mut again = editor();
    again.state_mut().open_now(&path);
    settle(&mut again);
    assert!(again.state().run.session.is_none());
    assert_eq!(
        again
            .query_all_by_label_contains("Fills when the graph runs")
            .count(),
        0,
        "stored outputs fill the cells"
    );
    assert!(
        again
            .query_all_by_label_contains("Outputs of the run saved with the file (finished")
            .count()
            == 1
    );
    assert!(
        again.query_all_by_label("trainer").count() >= 1,
        "summary table row"
    );
    assert!(
        again.query_all_by_label("finished").count() >= 3,
        "the summary table's state column"
    );

    // File → Export report writes them as one page.
    let report = dir.path().join("moons.html");
    again
        .state_mut()
        .commands
        .push(Command::ExportReport(report.clone()));
    settle(&mut again);
    let page = std::fs::read_to_string(&report).unwrap();
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), 2);
    assert!(page.contains("<h2>Two moons</h2>"));
    assert!(!page.contains("No output in the last run."));
    assert!(again.state().status.text.contains("Report written"));

    // A damaged results file costs the outputs, not the graph.
    std::fs::write(
        flowbook::notebook::results_path(&path),
        "(version: 1, outputs: [",
    )
    .unwrap();
    let mut third = editor();
    third.state_mut().open_now(&path);
    settle(&mut third);
    assert_eq!(third.state().graph().notebook.len(), 4);
    assert!(third.state().status.is_error);
    assert!(third.state().status.text.contains("moons.ron.results"));
    // Saving with nothing to keep removes the stale file rather than leaving it to be shown.
    third.state_mut().commands.push(Command::Save);
    settle(&mut third);
    assert!(!flowbook::notebook::results_path(&path).exists());

    // Deleting a node drops its stored outputs: a new node reusing its id starts empty.
    let stored_cells = |h: &AppHarness| {
        h.state()
            .notebook
            .stored
            .as_ref()
            .map_or(0, |r| r.outputs.len())
    };
    let before = stored_cells(&again);
    again.state_mut().selection.nodes.insert(trainer);
    again.state_mut().commands.push(Command::DeleteSelection);
    settle(&mut again);
    assert!(again.state().graph().node(trainer).is_none());
    assert_eq!(
        stored_cells(&again),
        before - 2,
        "loss and accuracy outputs gone"
    );
}

#[test]
fn the_welcome_gallery_lists_every_example_and_one_click_opens_a_copy() {
    // Example descriptions use arrows that egui's bundled test font lacks (the app has system
    // fonts for them).
    let mut h = crate::support::editor_allowing_tofu();
    h.state_mut().welcome_on_first_launch();
    settle(&mut h);
    assert!(h.query_all_by_label("Welcome to Flowbook").count() >= 1);
    let examples = crate::common::example_paths();
    assert_eq!(
        h.state().gallery.as_ref().unwrap().examples.len(),
        examples.len()
    );
    for path in &examples {
        let graph = flowbook::graph::load(path).unwrap();
        assert!(
            h.query_all_by_label(&graph.name).count() >= 1,
            "a card for {}",
            graph.name
        );
    }
    let moons = example("moons.ron");
    // With a dozen examples the moons card may sit below the fold: scroll to it as a person would.
    h.get_by_role_and_label(egui::accesskit::Role::Button, &moons.name)
        .scroll_to_me();
    settle(&mut h);
    h.get_by_role_and_label(egui::accesskit::Role::Button, &moons.name)
        .click();
    settle(&mut h);
    assert!(h.state().gallery.is_none(), "the gallery closes");
    assert_eq!(h.state().graph().nodes, moons.nodes, "the example's graph");
    assert_eq!(
        h.state().doc.path,
        None,
        "a copy: saving asks for a new name"
    );
    assert!(h.state().settings.welcome_seen);
    // Only the first launch greets; File → Examples… opens the gallery any time.
    h.state_mut().welcome_on_first_launch();
    settle(&mut h);
    assert!(h.state().gallery.is_none());
    crate::support::menu(&mut h, "File", "Examples…");
    settle(&mut h);
    assert!(h.state().gallery.as_ref().is_some_and(|g| !g.welcome));
}
