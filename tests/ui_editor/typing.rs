//! Typing, key by key as a keyboard sends it, into every text field of the editor while the
//! problems panel comes and goes: every character arrives, the field keeps the keyboard, and
//! no key reaches the canvas (no node deleted, no zoom, no quick-add box). A live parameter
//! typed during a run changes the running graph once, on Enter.

use crate::common::{example, serial};
use crate::run::{phase, step_until};
use crate::support::*;
use egui::accesskit::Role;
use egui::{Event, Key, Modifiers};
use egui_kittest::kittest::Queryable;
use flowbook::app::Command;
use flowbook::app::run::session::RunPhase;
use flowbook::graph::{Edge, ParamValue, PortRef};
use std::time::Duration;

/// One key as a keyboard sends it: key down, the text it types, key up.
fn press_char(h: &AppHarness, c: char) {
    let key = Key::from_name(&c.to_string());
    if let Some(key) = key {
        h.event(Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: Modifiers::NONE,
        });
    }
    h.event(Event::Text(c.to_string()));
    if let Some(key) = key {
        h.event(Event::Key {
            key,
            physical_key: None,
            pressed: false,
            repeat: false,
            modifiers: Modifiers::NONE,
        });
    }
}

/// Types `text` one key per frame; `between` runs after each key (it may change the graph).
fn type_keys(h: &mut AppHarness, text: &str, mut between: impl FnMut(&mut AppHarness, usize)) {
    for (i, c) in text.chars().enumerate() {
        press_char(h, c);
        h.step();
        between(h, i);
        h.step();
    }
}

/// The moons source → split wire: removing it makes a problem, putting it back clears it.
fn source_wire(h: &AppHarness) -> Edge {
    let g = h.state().graph();
    let source = g.node_by_name("source").unwrap().id;
    let split = g.node_by_name("split").unwrap().id;
    Edge {
        from: PortRef::new(source, "out"),
        to: PortRef::new(split, "in"),
    }
}

/// After every key, the problems panel appears (odd keys) or disappears (even keys).
fn toggle_problem(h: &mut AppHarness, i: usize) {
    let wire = source_wire(h);
    let command = if i.is_multiple_of(2) {
        Command::Disconnect(wire.clone())
    } else {
        Command::Connect {
            from: wire.from.clone(),
            to: wire.to.clone(),
        }
    };
    h.state_mut().commands.push(command);
}

fn focused_text(h: &AppHarness, role: Role, label: &str) -> String {
    h.get_by_role_and_label(role, label)
        .value()
        .unwrap_or_default()
}

fn moons_editor() -> AppHarness {
    let mut h = editor_allowing_tofu();
    h.state_mut().set_document(example("moons.ron"), None);
    settle(&mut h);
    h
}

fn select_node(h: &mut AppHarness, name: &str) {
    let id = h.state().graph().node_by_name(name).unwrap().id;
    h.state_mut()
        .commands
        .push(Command::Select(flowbook::app::Selection::only_node(id)));
    settle(h);
}

/// Clicks a field and selects its whole text, so typing replaces it.
fn focus_field(h: &mut AppHarness, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click();
    settle(h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    settle(h);
}

#[test]
fn typing_a_batch_s_features_keeps_every_key_while_problems_appear_and_disappear() {
    let mut h = moons_editor();
    select_node(&mut h, "batch");
    let nodes = h.state().graph().nodes.len();
    let batch = h.state().graph().node_by_name("batch").unwrap().id;
    focus_field(&mut h, Role::TextInput, "features");
    let mut problem_counts = Vec::new();
    type_keys(&mut h, "x1,x2", |h, _| {
        problem_counts.push(h.state().problems.problems.len())
    });
    assert!(
        problem_counts.iter().any(|n| *n > 0) && problem_counts.last() == Some(&0),
        "the typing itself made a problem come and go: {problem_counts:?}"
    );
    assert_eq!(focused_text(&h, Role::TextInput, "features"), "x1,x2");
    let features = |h: &AppHarness| {
        h.state()
            .graph()
            .node(batch)
            .unwrap()
            .params
            .get("features")
            .cloned()
    };
    assert_eq!(features(&h), Some(ParamValue::Text("x1,x2".into())));
    // Backspace edits the field; the selected node stays.
    h.key_press(Key::Backspace);
    settle(&mut h);
    assert_eq!(focused_text(&h, Role::TextInput, "features"), "x1,x");
    assert_eq!(h.state().graph().nodes.len(), nodes, "no node was deleted");
    assert_eq!(h.state().selection.single_node(), Some(batch));
}

/// How a test finds a text field on screen.
#[derive(Clone, Copy)]
enum Field {
    Labelled(Role, &'static str),
    /// The palette's search box (found by its hint while empty).
    PaletteSearch,
    /// The only multiline field on screen.
    OnlyMultiline,
}

fn field_text(h: &AppHarness, field: Field) -> String {
    let node = match field {
        Field::Labelled(role, label) => h.get_by_role_and_label(role, label),
        Field::PaletteSearch => return h.state().palette.search.clone(),
        Field::OnlyMultiline => h.get_by_role(Role::MultilineTextInput),
    };
    node.value().unwrap_or_default()
}

fn click_field(h: &mut AppHarness, field: Field) {
    match field {
        Field::Labelled(role, label) => h.get_by_role_and_label(role, label).click(),
        Field::PaletteSearch => h
            .get_by(|n| n.placeholder() == Some("Search nodes"))
            .click(),
        Field::OnlyMultiline => h.get_by_role(Role::MultilineTextInput).click(),
    }
    settle(h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    settle(h);
}

/// Every kind of text field: the word arrives whole while a problem comes and goes after each
/// key, and its keys never act on the canvas (`f` would zoom, space would open the quick-add
/// box, Backspace would delete the selection).
#[test]
fn every_text_field_keeps_the_keyboard_while_panels_come_and_go() {
    const WORD: &str = "fix a b";
    type Setup = fn(&mut AppHarness);
    let select_dense: Setup = |h| select_node(h, "dense1");
    let select_nothing: Setup = |h| {
        h.state_mut()
            .commands
            .push(Command::Select(Default::default()));
        settle(h);
    };
    let edit_graph_notes: Setup = |h| {
        h.state_mut()
            .commands
            .push(Command::Select(Default::default()));
        settle(h);
        h.get_by_label("Edit notes").click();
        settle(h);
    };
    let edit_first_cell: Setup = |h| {
        h.state_mut()
            .commands
            .push(Command::Select(Default::default()));
        settle(h);
        // The menu bar has an "Edit" too; the cell's button comes last.
        h.get_all_by_label("Edit").last().unwrap().click();
        settle(h);
    };
    let notes = Field::Labelled(Role::MultilineTextInput, "markdown, saved in the file");
    let cases: [(&str, Setup, Field); 6] = [
        ("palette search", select_dense, Field::PaletteSearch),
        (
            "node name",
            select_dense,
            Field::Labelled(Role::TextInput, "name"),
        ),
        ("node notes", select_dense, notes),
        (
            "graph name",
            select_nothing,
            Field::Labelled(Role::TextInput, "Name"),
        ),
        ("graph notes", edit_graph_notes, notes),
        ("notebook cell", edit_first_cell, Field::OnlyMultiline),
    ];
    for (what, setup, field) in cases {
        let mut h = moons_editor();
        setup(&mut h);
        let nodes = h.state().graph().nodes.len();
        let selection = h.state().selection.clone();
        let zoom = h.state().canvas.view.zoom;
        click_field(&mut h, field);
        type_keys(&mut h, WORD, toggle_problem);
        h.key_press(Key::Backspace);
        settle(&mut h);
        let expected = &WORD[..WORD.len() - 1];
        assert_eq!(field_text(&h, field), expected, "{what}: every key arrived");
        let app = h.state();
        assert_eq!(app.graph().nodes.len(), nodes, "{what}: no node deleted");
        assert_eq!(app.selection, selection, "{what}: selection kept");
        assert_eq!(app.canvas.view.zoom, zoom, "{what}: 'f' did not zoom");
        assert!(app.quick_add.is_none(), "{what}: space typed a space");
    }
}

#[test]
fn a_live_learning_rate_typed_during_a_run_is_applied_once_on_enter() {
    let _serial = serial();
    let mut g = example("moons.ron");
    g.set_param("trainer", "epochs", ParamValue::Int(100_000))
        .unwrap();
    let mut h = editor_allowing_tofu();
    h.state_mut().set_document(g, None);
    settle(&mut h);
    let trainer = h.state().graph().node_by_name("trainer").unwrap().id;
    h.get_by_label("▶ Run").click();
    step_until(&mut h, Duration::from_secs(30), |h| {
        h.state()
            .run
            .session
            .as_ref()
            .and_then(|s| s.metrics.get(&trainer))
            .and_then(|m| m.field("loss"))
            .is_some_and(|s| s.len() > 20)
    });
    select_node(&mut h, "trainer");
    focus_field(&mut h, Role::TextInput, "lr (live)");
    type_keys(&mut h, "0.05", |_, _| {});
    let session = |h: &AppHarness| h.state().run.session.as_ref().unwrap().markers.len();
    assert_eq!(session(&h), 0, "nothing is applied while typing");
    assert_eq!(
        h.state().graph().node(trainer).unwrap().params.get("lr"),
        Some(&ParamValue::Float(0.01)),
        "the document keeps the old value until Enter"
    );
    h.key_press(Key::Enter);
    let lr_now = |h: &AppHarness| {
        h.state()
            .run
            .session
            .as_ref()
            .and_then(|s| s.metrics.get(&trainer))
            .and_then(|m| m.field("lr"))
            .and_then(|lr| lr.points().last().copied())
            .map(|p| p[1])
    };
    step_until(&mut h, Duration::from_secs(10), |h| {
        lr_now(h).is_some_and(|lr| (lr - 0.05).abs() < 1e-6)
    });
    let app = h.state();
    let run = app.run.session.as_ref().unwrap();
    assert_eq!(run.markers.len(), 1, "one marker for one change");
    assert_eq!(run.markers[0].label, "lr = 0.05");
    let learning_rates: Vec<f64> = run.metrics[&trainer]
        .field("lr")
        .unwrap()
        .points()
        .iter()
        .map(|p| p[1])
        .collect();
    assert!(
        learning_rates
            .iter()
            .all(|lr| (lr - 0.01).abs() < 1e-6 || (lr - 0.05).abs() < 1e-6),
        "the trainer only ever saw the old and the committed rate"
    );
    assert_eq!(
        app.graph().node(trainer).unwrap().params.get("lr"),
        Some(&ParamValue::Float(0.05))
    );
    h.get_by_label("◼ Stop").click();
    step_until(&mut h, Duration::from_secs(5), |h| {
        phase(h) == Some(RunPhase::Stopped)
    });
}
