//! Panes stay put: selecting nodes never moves the canvas (before and after a run), the
//! smallest window (720×480) leaves the canvas room with nothing overlapping, a resized window
//! fits the graph again, and the minimap never covers a card.

use crate::common::{example, serial};
use crate::run::{phase, step_until};
use crate::support::*;
use egui::{Rect, vec2};
use egui_kittest::kittest::{NodeT, Queryable};
use flowbook::app::run::session::RunPhase;
use flowbook::app::{Command, FlowbookApp, Selection, Settings};
use std::time::Duration;

/// An editor of `size` points (tofu allowed: notes may use any character).
fn editor_sized(width: f32, height: f32) -> AppHarness {
    let mut h = egui_kittest::Harness::builder()
        .with_size(vec2(width, height))
        .with_max_steps(64)
        .allow_missing_glyphs()
        .build_eframe(|_cc| FlowbookApp::new(Settings::default()));
    settle(&mut h);
    h
}

fn select(h: &mut AppHarness, selection: Selection) {
    h.state_mut().commands.push(Command::Select(selection));
    settle(h);
}

/// Selects nothing, then every node in turn: the canvas must not move or change size.
fn assert_selection_keeps_the_canvas(h: &mut AppHarness, what: &str) {
    select(h, Selection::default());
    let canvas = h.state().panes.canvas;
    assert!(canvas.width() > 100.0, "{what}: canvas {canvas:?}");
    let ids: Vec<_> = h.state().graph().nodes.iter().map(|n| n.id).collect();
    for id in ids {
        select(h, Selection::only_node(id));
        let name = h.state().graph().display_name(id);
        assert_eq!(
            h.state().panes.canvas,
            canvas,
            "{what}: selecting {name} moved the canvas"
        );
    }
}

#[test]
fn selecting_nodes_never_moves_the_canvas() {
    let mut h = editor_sized(1600.0, 1000.0);
    for path in crate::common::example_paths() {
        h.state_mut().open_now(&path);
        settle(&mut h);
        assert_selection_keeps_the_canvas(&mut h, &path.display().to_string());
    }
}

#[test]
fn after_a_run_the_live_numbers_never_move_the_canvas_or_crowd_the_parameters() {
    let _serial = serial();
    let mut h = editor_sized(1600.0, 1000.0);
    h.state_mut().set_document(example("moons.ron"), None);
    settle(&mut h);
    h.state_mut()
        .commands
        .push(Command::Run(flowbook::app::run::RunCommand::Start));
    step_until(&mut h, Duration::from_secs(60), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    settle(&mut h);
    assert_selection_keeps_the_canvas(&mut h, "moons after a run");
    // The trainer's parameters come first, each field on screen, above the live numbers.
    let trainer = h.state().graph().node_by_name("trainer").unwrap().id;
    select(&mut h, Selection::only_node(trainer));
    let inspector = h.state().panes.inspector;
    let lr = h.get_by_label("lr (live)").rect();
    let live = h.get_by_label_contains("Live — run").rect();
    assert!(inspector.contains_rect(lr), "lr {lr:?} in {inspector:?}");
    assert!(
        lr.max.y < live.min.y,
        "parameters first: {lr:?} vs {live:?}"
    );
}

fn overlapping(rects: &[(String, Rect)]) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    for (i, (a, ra)) in rects.iter().enumerate() {
        for (b, rb) in rects.iter().skip(i + 1) {
            if ra.shrink(1.0).intersects(rb.shrink(1.0)) {
                found.push((a.as_str(), b.as_str()));
            }
        }
    }
    found
}

/// Labelled widgets (buttons, labels, fields) whose rectangles lie inside `area`.
fn widgets_in(h: &AppHarness, area: Rect) -> Vec<(String, Rect)> {
    use egui::accesskit::Role;
    h.root()
        .children_recursive()
        .filter(|n| {
            matches!(
                n.accesskit_node().role(),
                Role::Button | Role::Label | Role::TextInput | Role::CheckBox | Role::ComboBox
            )
        })
        .filter_map(|n| {
            let label = n
                .accesskit_node()
                .label()
                .or(n.accesskit_node().value())
                .unwrap_or_default();
            let rect = n.rect();
            (area.contains_rect(rect) && rect.area() > 0.0).then_some((label, rect))
        })
        .collect()
}

#[test]
fn the_smallest_window_leaves_the_canvas_room_and_nothing_overlaps() {
    let _serial = serial();
    let mut h = editor_sized(720.0, 480.0);
    h.state_mut().set_document(example("moons.ron"), None);
    settle(&mut h);
    assert!(
        h.state().settings.show_notebook,
        "moons opens with its notebook"
    );
    h.state_mut()
        .commands
        .push(Command::Run(flowbook::app::run::RunCommand::Start));
    step_until(&mut h, Duration::from_secs(60), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    // A problem too: the source's wire removed.
    let wire = h.state().graph().edges[0].clone();
    h.state_mut().commands.push(Command::Disconnect(wire));
    let trainer = h.state().graph().node_by_name("trainer").unwrap().id;
    select(&mut h, Selection::only_node(trainer));
    settle(&mut h);
    let panes = h.state().panes;
    let mut rects = vec![
        ("palette".to_owned(), panes.palette),
        ("inspector".to_owned(), panes.inspector),
        ("canvas".to_owned(), panes.canvas),
    ];
    rects.extend(panes.notebook.map(|r| ("notebook".to_owned(), r)));
    rects.extend(panes.problems.map(|r| ("problems".to_owned(), r)));
    rects.extend(panes.plots.map(|r| ("plots".to_owned(), r)));
    assert!(panes.problems.is_some() && panes.plots.is_some());
    assert_eq!(overlapping(&rects), Vec::<(&str, &str)>::new(), "{rects:?}");
    let screen = Rect::from_min_size(egui::Pos2::ZERO, vec2(720.0, 480.0));
    for (name, rect) in &rects {
        assert!(screen.contains_rect(*rect), "{name} {rect:?} is on screen");
    }
    assert!(
        panes.canvas.width() >= 300.0 && panes.canvas.height() >= 80.0,
        "the canvas keeps room: {:?}",
        panes.canvas
    );
    // The menu, the run toolbar and the status bar: no two widgets on top of each other.
    let top = Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(720.0, panes.canvas.min.y));
    let bottom_y = [panes.canvas, panes.plots.unwrap(), panes.problems.unwrap()]
        .iter()
        .map(|r| r.max.y)
        .fold(0.0, f32::max);
    let bottom = Rect::from_min_max(egui::pos2(0.0, bottom_y), egui::pos2(720.0, 480.0));
    let message = h.state().status.text.clone();
    let status_words = ["zoom ", "snap ", "problem", " nodes · ", message.as_str()];
    for (area, what) in [(top, "menu and toolbar"), (bottom, "status bar")] {
        let mut widgets = widgets_in(&h, area);
        if what == "status bar" {
            // A plot scrolled below the plots pane reports its legend there, clipped away.
            widgets.retain(|(label, _)| status_words.iter().any(|w| label.contains(w)));
        }
        assert!(widgets.len() >= 3, "{what}: {widgets:?}");
        assert_eq!(
            overlapping(&widgets),
            Vec::<(&str, &str)>::new(),
            "{what}: {widgets:?}"
        );
    }
}

#[test]
fn a_resized_window_fits_the_graph_again_until_the_user_moves_the_view() {
    let mut h = editor_sized(1600.0, 1000.0);
    h.state_mut()
        .set_document(example("window-stats.ron"), None);
    settle(&mut h);
    let small_zoom = h.state().canvas.view.zoom;
    h.set_size(vec2(3840.0, 2160.0));
    settle(&mut h);
    let app = h.state();
    assert!(
        app.canvas.view.zoom > small_zoom,
        "4K: fitted again, larger"
    );
    let bounds = flowbook::app::canvas::layout::graph_bounds(app.graph()).unwrap();
    let on_screen = app.canvas.view.rect_to_screen(bounds);
    assert!(app.canvas.view.rect.contains_rect(on_screen));
    // Once the user zooms, a resize leaves the view alone.
    h.state_mut().commands.push(Command::ResetZoom);
    settle(&mut h);
    let chosen = h.state().canvas.view;
    h.set_size(vec2(1600.0, 1000.0));
    settle(&mut h);
    assert_eq!(h.state().canvas.view.zoom, chosen.zoom);
}

#[test]
fn the_minimap_never_covers_a_card() {
    let _serial = serial();
    // Copies, so the runs' outputs land in a temporary folder.
    let copies = examples_copy();
    let mut h = editor_sized(1600.0, 1000.0);
    for path in crate::common::example_paths() {
        let path = copies.path().join(path.file_name().unwrap());
        h.state_mut().open_now(&path);
        settle(&mut h);
        // Zoomed in (the minimap then has something to show) and with the plots open.
        h.state_mut().commands.push(Command::ResetZoom);
        settle(&mut h);
        for plots in [false, true] {
            if plots {
                h.state_mut()
                    .commands
                    .push(Command::Run(flowbook::app::run::RunCommand::Start));
                settle(&mut h);
            }
            let app = h.state();
            if let Some(map) = app.canvas.minimap_rect {
                for node in &app.graph().nodes {
                    let card = app.canvas.node_screen_rect(app.graph(), node.id).unwrap();
                    assert!(
                        !card.intersects(map),
                        "{}: the minimap covers {}",
                        path.display(),
                        node.name
                    );
                }
            }
        }
        h.state_mut()
            .commands
            .push(Command::Run(flowbook::app::run::RunCommand::Stop));
        settle(&mut h);
    }
}
