//! Node groups as a person uses them: select the moons network's layers, Ctrl+G makes one
//! card with the network's outer ports; double-click opens it, Esc closes it; saved, reloaded,
//! run, it learns; Ctrl+Shift+G ungroups and undo brings the group back. Files written before
//! groups existed load unchanged.

use crate::common::{example, serial};
use crate::run::{phase, step_until};
use crate::support::*;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use flowbook::app::canvas::CardId;
use flowbook::app::run::session::RunPhase;
use flowbook::app::{Command, Selection};
use flowbook::graph::{GroupId, NodeId};
use std::collections::BTreeSet;
use std::time::Duration;

const LAYERS: [&str; 5] = ["dense1", "tanh1", "dense2", "tanh2", "dense3"];

fn ids(h: &AppHarness, names: &[&str]) -> BTreeSet<NodeId> {
    let g = h.state().graph();
    names
        .iter()
        .map(|n| g.node_by_name(n).unwrap().id)
        .collect()
}

/// Two clicks within egui's double-click delay (a harness step is 0.25 s of simulated time,
/// so both arrive in one frame).
fn double_click_at(h: &mut AppHarness, at: egui::Pos2) {
    let button = |pressed| egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    };
    h.hover_at(at);
    h.step();
    // Straight into the next frame's input: queued events would get a frame each.
    for pressed in [true, false, true, false] {
        h.input_mut().events.push(button(pressed));
    }
    h.step();
    h.step();
}

/// The moons graph as it shipped before groups: its layers on the canvas, one card each.
fn ungrouped_moons() -> flowbook::graph::Graph {
    let mut g = example("moons.ron");
    g.groups.clear();
    g
}

#[test]
fn grouping_the_moons_layers_saves_reloads_runs_and_learns() {
    let _serial = serial();
    let mut h = editor_with(ungrouped_moons());
    let layers = ids(&h, &LAYERS);
    h.state_mut().commands.push(Command::Select(Selection {
        nodes: layers.clone(),
        ..Selection::default()
    }));
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    settle(&mut h);

    let app = h.state();
    assert_eq!(app.graph().groups.len(), 1, "{:?}", app.status);
    let group = app.graph().groups[0].clone();
    assert_eq!(group.name, "mlp");
    assert_eq!(group.nodes.iter().copied().collect::<BTreeSet<_>>(), layers);
    assert_eq!(app.selection, Selection::only_group(group.id));
    // One card on the top level, with the network's outer ports; the layers are inside.
    let layouts = app.canvas.layouts(app.graph());
    assert!(layouts.of_card(CardId::Group(group.id)).is_some());
    for id in &layers {
        assert!(layouts.of_card(CardId::Node(*id)).is_none());
    }
    let card = layouts.of_card(CardId::Group(group.id)).unwrap();
    let outer: Vec<(&str, bool)> = card
        .ports
        .iter()
        .map(|p| (p.label.as_ref(), p.output))
        .collect();
    assert_eq!(outer, [("in", false), ("out", true)]);
    let batch = app.graph().node_by_name("batch").unwrap().id;
    let into_group = app
        .graph()
        .edges
        .iter()
        .find(|e| e.from.node == batch && layers.contains(&e.to.node))
        .unwrap();
    assert!(
        layouts.anchor(&into_group.to, false).is_some(),
        "batch's wire lands on the group card"
    );
    assert!(
        h.query_by_label_contains("Outer ports").is_some(),
        "the inspector shows the group"
    );

    // Double-click opens the group: its five layers; Escape comes back.
    let title = group_title_pos(&h, group.id);
    double_click_at(&mut h, title);
    settle(&mut h);
    assert_eq!(h.state().canvas.scope, Some(group.id));
    let inside = h.state().canvas.layouts(h.state().graph());
    assert_eq!(inside.cards.len(), 5);
    let centre = h.state().canvas.view.rect.center();
    h.hover_at(centre);
    h.key_press(Key::Escape);
    settle(&mut h);
    assert_eq!(h.state().canvas.scope, None);

    // Saved with the group, reloaded with it, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moons-grouped.ron");
    h.state_mut().commands.push(Command::SaveAs(path.clone()));
    settle(&mut h);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("groups: ["), "{text}");
    let saved = h.state().graph().clone();
    h.state_mut().open_now(&path);
    settle(&mut h);
    assert_eq!(h.state().graph(), &saved);
    let again = dir.path().join("again.ron");
    flowbook::graph::save(h.state().graph(), &again).unwrap();
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text);

    // It runs and learns: the planner sees the flat graph.
    h.get_by_label("▶ Run").click();
    step_until(&mut h, Duration::from_secs(60), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    settle(&mut h);
    let app = h.state();
    let trainer = app.graph().node_by_name("trainer").unwrap().id;
    let metrics = &app.run.session.as_ref().unwrap().metrics[&trainer];
    let loss = metrics.field("loss").unwrap().points();
    assert!(loss.last().unwrap()[1] < loss[0][1] / 3.0, "the loss fell");
    let accuracy = metrics
        .field("test_accuracy")
        .unwrap()
        .points()
        .last()
        .unwrap()[1];
    assert!(accuracy > 0.95, "test accuracy {accuracy}");

    // Ungroup: the layers come back; undo groups them again.
    let group = h.state().graph().groups[0].id;
    h.state_mut()
        .commands
        .push(Command::Select(Selection::only_group(group)));
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::G);
    settle(&mut h);
    assert!(h.state().graph().groups.is_empty());
    assert_eq!(h.state().selection.nodes, layers);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    settle(&mut h);
    assert_eq!(
        h.state().graph().groups.len(),
        1,
        "undo brings the group back"
    );
}

fn group_title_pos(h: &AppHarness, group: GroupId) -> egui::Pos2 {
    let app = h.state();
    let rect = app
        .canvas
        .card_screen_rect(app.graph(), CardId::Group(group))
        .unwrap();
    egui::pos2(rect.center().x, rect.min.y + 6.0)
}

#[test]
fn a_problem_inside_a_group_marks_its_card_and_clicking_it_opens_the_group_there() {
    let mut g = example("moons.ron");
    assert!(
        !g.groups.is_empty(),
        "moons ships with its network as a group"
    );
    let dense2 = g.node_by_name("dense2").unwrap().id;
    g.node_mut(dense2)
        .unwrap()
        .params
        .insert("units".into(), flowbook::graph::ParamValue::Int(0));
    let mut h = editor_with(g);
    assert!(h.state().problems.nodes.contains(&dense2));
    assert_eq!(h.state().canvas.scope, None);
    h.get_by_label_contains("dense2.units").click();
    settle(&mut h);
    let app = h.state();
    let group = app.graph().group_of(dense2).unwrap().id;
    assert_eq!(app.canvas.scope, Some(group), "the group opened");
    assert_eq!(app.selection.single_node(), Some(dense2));
    let card = app.canvas.node_screen_rect(app.graph(), dense2).unwrap();
    assert!(app.canvas.view.rect.contains_rect(card));
}

#[test]
fn a_node_added_inside_an_open_group_joins_it() {
    let mut h = editor_with(example("moons.ron"));
    let group = h.state().graph().groups[0].id;
    h.state_mut().commands.push(Command::OpenGroup(Some(group)));
    settle(&mut h);
    let before = h.state().graph().group(group).unwrap().nodes.len();
    h.state_mut().commands.push(Command::AddNode {
        kind: flowbook::catalog::NodeKind::Layer(flowbook::catalog::LayerType::Relu),
        pos: [0.0, 300.0],
    });
    settle(&mut h);
    let app = h.state();
    let added = app.selection.single_node().unwrap();
    assert_eq!(app.graph().group(group).unwrap().nodes.len(), before + 1);
    assert_eq!(app.graph().group_of(added).map(|g| g.id), Some(group));
    assert!(
        app.canvas.node_screen_rect(app.graph(), added).is_some(),
        "on screen"
    );
}

/// Every example as it was written before groups existed still loads and validates.
#[test]
fn graph_files_from_before_groups_load_and_validate() {
    let legacy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs");
    let mut loaded = 0;
    for entry in std::fs::read_dir(legacy).unwrap() {
        let path = entry.unwrap().path();
        let graph = flowbook::graph::load(&path).unwrap();
        assert!(graph.groups.is_empty());
        // Their data paths are relative to the examples' folder, where they were written.
        let location = flowbook::paths::GraphLocation::unsaved(&examples);
        let problems = flowbook::plan::validate_in(&graph, &location);
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        loaded += 1;
    }
    assert!(loaded >= 9);
}
