//! Shared helpers for the editor's UI tests.
//! Drives the real `eframe::App` in an egui_kittest harness with pointer events, the way a
//! user would: press, move in steps, release.

use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use flowbook::app::{FlowbookApp, Settings};
use flowbook::graph::{Graph, NodeId, PortRef};

pub type AppHarness = Harness<'static, FlowbookApp>;

/// A harness around a fresh editor (default settings: dark theme, snap on) of a laptop size.
pub fn editor() -> AppHarness {
    editor_from(Harness::builder())
}

/// Like `editor`, but draws missing glyphs as boxes instead of failing: egui_file's dialog
/// uses emoji icons that egui's bundled fonts lack (the real app takes them from system fonts).
pub fn editor_allowing_tofu() -> AppHarness {
    editor_from(Harness::builder().allow_missing_glyphs())
}

fn editor_from(builder: egui_kittest::HarnessBuilder<FlowbookApp>) -> AppHarness {
    let mut h = builder
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(64)
        .build_eframe(|_cc| FlowbookApp::new(Settings::default()));
    settle(&mut h);
    h
}

/// `graph` at full speed: tests that are not about pacing need not wait for its default pace.
pub fn full_speed(mut graph: Graph) -> Graph {
    graph.pace = flowbook::graph::Pace::Max;
    graph
}

/// An editor showing `graph`.
pub fn editor_with(graph: Graph) -> AppHarness {
    let mut h = editor();
    h.state_mut().set_document(graph, None);
    settle(&mut h);
    h
}

pub fn settle(h: &mut AppHarness) {
    for _ in 0..4 {
        h.step();
    }
}

/// A press at `from`, a move to `to` in steps, a release at `to` (pointer stays there).
pub fn drag(h: &mut AppHarness, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    for i in 1..=6 {
        let t = i as f32 / 6.0;
        h.hover_at(from + (to - from) * t);
        h.step();
    }
    release(h, to);
}

pub fn release(h: &mut AppHarness, at: Pos2) {
    h.event(Event::PointerButton {
        pos: at,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.step();
}

/// A click (press and release without moving) at a screen point.
pub fn click_at(h: &mut AppHarness, at: Pos2) {
    h.hover_at(at);
    h.step();
    h.drag_at(at);
    h.step();
    release(h, at);
}

pub fn port_pos(h: &AppHarness, node: NodeId, port: &str, output: bool) -> Pos2 {
    let app = h.state();
    app.canvas
        .port_screen_pos(app.graph(), &PortRef::new(node, port), output)
        .expect("the port is on the canvas")
}

pub fn node_title_pos(h: &AppHarness, node: NodeId) -> Pos2 {
    let app = h.state();
    let rect = app
        .canvas
        .node_screen_rect(app.graph(), node)
        .expect("the node is on the canvas");
    egui::pos2(rect.center().x, rect.min.y + 10.0)
}

/// Opens a top-level menu and clicks one of its items, by label.
pub fn menu(h: &mut AppHarness, top: &str, entry: &str) {
    use egui_kittest::kittest::{NodeT, Queryable};
    h.get_by_label(top).click();
    settle(h);
    let found = h.query_all_by_label_contains(entry).count();
    if found == 0 {
        let labels: Vec<String> = h
            .root()
            .children_recursive()
            .filter_map(|n| n.accesskit_node().label().or(n.accesskit_node().value()))
            .collect();
        panic!("no menu entry {entry:?}; labels on screen: {labels:?}");
    }
    // The open menu is the topmost layer: its item comes last in the tree (an inspector
    // button may carry the same word).
    if let Some(item) = h.get_all_by_label_contains(entry).last() {
        item.click();
    }
    settle(h);
}

/// Two nodes placed apart on the canvas, unconnected: a source and a window.
pub fn source_and_window() -> (Graph, NodeId, NodeId) {
    let mut g = Graph::new("t");
    let source = g.add_node("sequence_source", "source", [0.0, 0.0]);
    let window = g.add_node("window", "window", [320.0, 0.0]);
    (g, source, window)
}

/// A temporary copy of `example-graphs/` (graphs and their data): runs of these copies write
/// their outputs there, never into the source tree.
pub fn examples_copy() -> tempfile::TempDir {
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else if path.extension().is_some_and(|e| e == "ron" || e == "csv") {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs");
    copy_dir(&examples, dir.path());
    dir
}
