//! Plain language: a graph file that does not parse says where and what was expected in
//! words (with the line and a caret), and the window inspector shows only the fields of the
//! chosen window kind.

use crate::common::example;
use crate::support::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use flowbook::app::{Command, Dialog};

#[test]
fn a_file_that_is_not_a_graph_says_what_was_expected_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.ron");
    std::fs::write(&bad, "// my notes\np0(format_version: 1)\n").unwrap();
    let mut h = editor_with(example("moons.ron"));
    h.state_mut().commands.push(Command::Open(bad.clone()));
    settle(&mut h);
    let Some(Dialog::LoadError(message)) = h.state().dialog.clone() else {
        panic!("a load error dialog, got {:?}", h.state().dialog);
    };
    assert!(
        message.starts_with(&format!(
            "{}:2:1: expected a Flowbook graph: `(` and the graph's fields",
            bad.display()
        )),
        "{message}"
    );
    assert!(message.contains("found `p0`"), "{message}");
    assert!(
        !message.contains("Expected struct"),
        "parser language: {message}"
    );
    assert!(
        h.query_by_label_contains("expected a Flowbook graph")
            .is_some(),
        "the sentence is on screen"
    );
    assert!(
        h.query_by_label_contains("2 | p0(format_version: 1)")
            .is_some(),
        "the line is shown under it"
    );
}

#[test]
fn the_window_inspector_shows_only_the_fields_of_its_kind() {
    let mut h = editor_with(example("window-stats.ron"));
    let window = h.state().graph().node_by_name("window").unwrap().id;
    h.state_mut()
        .commands
        .push(Command::Select(flowbook::app::Selection::only_node(window)));
    settle(&mut h);
    let shown =
        |h: &AppHarness, field: &str| h.query_by_role_and_label(Role::TextInput, field).is_some();
    for (kind, visible, hidden) in [
        (
            "tumbling",
            &["size_ms", "offset_ms", "allowed_lateness_ms", "state_limit"][..],
            &["slide_ms", "gap_ms", "count", "count_slide"][..],
        ),
        (
            "sliding",
            &["size_ms", "slide_ms", "offset_ms"][..],
            &["gap_ms", "count", "count_slide"][..],
        ),
        (
            "session",
            &["gap_ms", "allowed_lateness_ms"][..],
            &["size_ms", "slide_ms", "offset_ms", "count"][..],
        ),
        (
            "count_sliding",
            &["count", "count_slide", "state_limit"][..],
            &["size_ms", "gap_ms", "allowed_lateness_ms"][..],
        ),
    ] {
        h.state_mut().commands.push(Command::SetParam {
            node: window,
            param: "kind".into(),
            value: flowbook::graph::ParamValue::Text(kind.into()),
            merge: false,
        });
        settle(&mut h);
        for field in visible {
            assert!(shown(&h, field), "{kind}: {field} is shown");
        }
        for field in hidden {
            assert!(!shown(&h, field), "{kind}: {field} is hidden");
        }
    }
}

#[test]
fn the_examples_dialog_shows_every_example_at_the_default_size_and_says_when_some_are_below() {
    for (width, height, all_shown) in [(1600.0, 1000.0, true), (720.0, 480.0, false)] {
        let mut h = egui_kittest::Harness::builder()
            .with_size(egui::vec2(width, height))
            .with_max_steps(64)
            .allow_missing_glyphs()
            .build_eframe(|_cc| flowbook::app::FlowbookApp::new(Default::default()));
        h.state_mut().commands.push(Command::ShowGallery);
        settle(&mut h);
        let titles: Vec<String> = h
            .state()
            .gallery
            .as_ref()
            .unwrap()
            .examples
            .iter()
            .map(|e| e.title.clone())
            .collect();
        assert!(titles.len() >= 13, "{titles:?}");
        let on_screen = titles
            .iter()
            .filter(|title| {
                let card = h.get_by_role_and_label(Role::Button, title).rect();
                card.min.y >= 0.0 && card.max.y <= height
            })
            .count();
        let hint = h.query_by_label_contains("scroll down for more").is_some();
        if all_shown {
            assert_eq!(
                on_screen,
                titles.len(),
                "{width}x{height}: every card shows"
            );
            assert!(!hint, "nothing to scroll for");
        } else {
            assert!(on_screen < titles.len(), "{width}x{height}: some below");
            assert!(hint, "{width}x{height}: the dialog says there are more");
        }
    }
}
