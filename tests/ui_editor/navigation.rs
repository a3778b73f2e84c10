//! Navigation: Ctrl+0 shows 100 % centred on the selection (or the whole graph), never on
//! empty canvas; clicking a problem selects its node and frames it at a readable zoom.

use crate::common::example;
use crate::support::*;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use flowbook::app::{Command, Selection};

fn centre_of_nodes(h: &AppHarness, ids: &[flowbook::graph::NodeId]) -> egui::Pos2 {
    let app = h.state();
    ids.iter()
        .map(|id| app.canvas.node_screen_rect(app.graph(), *id).unwrap())
        .reduce(|a, b| a.union(b))
        .unwrap()
        .center()
}

#[test]
fn ctrl_0_centres_the_selection_or_the_graph_at_100_percent() {
    let mut h = editor_with(example("moons.ron"));
    // Far away from the graph, zoomed out: Ctrl+0 must not land on empty canvas.
    h.state_mut().canvas.view.pan = egui::vec2(-5000.0, 3000.0);
    h.state_mut().canvas.view.zoom = 0.3;
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.canvas.view.zoom, 1.0);
    let all: Vec<_> = app.graph().nodes.iter().map(|n| n.id).collect();
    let centre = app.canvas.view.rect.center();
    assert!(
        centre_of_nodes(&h, &all).distance(centre) < 2.0,
        "the graph is centred"
    );

    let trainer = h.state().graph().node_by_name("trainer").unwrap().id;
    h.state_mut()
        .commands
        .push(Command::Select(Selection::only_node(trainer)));
    settle(&mut h);
    h.state_mut().canvas.view.pan = egui::vec2(4000.0, 4000.0);
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    settle(&mut h);
    let centre = h.state().canvas.view.rect.center();
    assert!(
        centre_of_nodes(&h, &[trainer]).distance(centre) < 2.0,
        "the selected trainer is centred"
    );
}

#[test]
fn clicking_a_problem_frames_its_node_at_a_readable_zoom() {
    let mut g = example("moons.ron");
    let trainer = g.node_by_name("trainer").unwrap().id;
    g.edges
        .retain(|e| e.to.node != trainer || e.to.port != "loss");
    let mut h = editor_with(g);
    h.state_mut().canvas.view.zoom = 0.25;
    settle(&mut h);
    h.get_by_label_contains("trainer (port 'loss')").click();
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.selection.single_node(), Some(trainer));
    assert!(app.canvas.view.zoom >= 0.8, "zoom {}", app.canvas.view.zoom);
    let card = app.canvas.node_screen_rect(app.graph(), trainer).unwrap();
    assert!(
        app.canvas.view.rect.contains_rect(card),
        "the whole card is on screen"
    );
    assert!(card.center().distance(app.canvas.view.rect.center()) < 2.0);
}
