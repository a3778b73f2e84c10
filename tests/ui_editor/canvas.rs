//! On the canvas: drag from the palette, connect ports (and be refused), select and delete a
//! wire, move a node, copy and paste, each with undo and redo.

use super::support::*;
use egui::{Event, Key, Modifiers};
use egui_kittest::kittest::Queryable;
use flowbook::graph::{Edge, PortRef};

#[test]
fn dragging_a_palette_item_onto_the_canvas_adds_a_node_there_and_undo_redo_it() {
    let mut h = editor();
    let from = h.get_by_label("Window").rect().center();
    let to = h.state().canvas.view.rect.center();
    drag(&mut h, from, to);
    let app = h.state();
    assert_eq!(app.graph().nodes.len(), 1, "status: {:?}", app.status);
    let node = &app.graph().nodes[0];
    assert_eq!(node.kind, "window");
    assert_eq!(node.name, "window");
    let card = app.canvas.node_screen_rect(app.graph(), node.id).unwrap();
    assert!(
        card.expand(20.0).contains(to),
        "the card lands under the drop point: {card:?} vs {to:?}"
    );
    assert_eq!(
        app.selection.single_node(),
        Some(node.id),
        "the new node is selected"
    );
    assert!(
        app.window_title().starts_with("untitled *"),
        "{}",
        app.window_title()
    );

    menu(&mut h, "Edit", "Undo");
    assert!(h.state().graph().nodes.is_empty());
    menu(&mut h, "Edit", "Redo");
    assert_eq!(h.state().graph().nodes.len(), 1);
}

#[test]
fn dragging_from_an_output_to_a_compatible_input_connects_them_and_undo_redo_it() {
    let (graph, source, window) = source_and_window();
    let mut h = editor_with(graph);
    let from = port_pos(&h, source, "out", true);
    let to = port_pos(&h, window, "in", false);
    drag(&mut h, from, to);
    let expected = Edge {
        from: PortRef::new(source, "out"),
        to: PortRef::new(window, "in"),
    };
    assert_eq!(
        h.state().graph().edges,
        vec![expected.clone()],
        "{:?}",
        h.state().status
    );
    assert_eq!(h.state().last_refusal, None);

    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    settle(&mut h);
    assert!(h.state().graph().edges.is_empty(), "Ctrl+Z undoes the wire");
    h.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
    settle(&mut h);
    assert_eq!(h.state().graph().edges, vec![expected]);
}

#[test]
fn an_incompatible_wire_is_refused_with_the_reason() {
    let mut g = flowbook::graph::Graph::new("t");
    let source = g.add_node("sequence_source", "source", [0.0, 0.0]);
    let dense = g.add_node("dense", "dense", [320.0, 0.0]);
    let mut h = editor_with(g);
    let from = port_pos(&h, source, "out", true);
    let to = port_pos(&h, dense, "in", false);
    drag(&mut h, from, to);
    let app = h.state();
    assert!(app.graph().edges.is_empty(), "the wire is refused");
    assert_eq!(
        app.last_refusal.as_deref(),
        Some("Records cannot feed a Tensor input")
    );
    assert!(app.status.is_error);
    assert!(
        app.status
            .text
            .contains("Records cannot feed a Tensor input"),
        "{:?}",
        app.status
    );
    assert!(!app.doc.can_undo(), "a refused wire leaves no undo step");
}

#[test]
fn a_wire_can_be_clicked_selected_and_deleted_with_the_delete_key() {
    let (mut graph, source, window) = source_and_window();
    graph
        .connect(
            Edge {
                from: PortRef::new(source, "out"),
                to: PortRef::new(window, "in"),
            },
            true,
        )
        .unwrap();
    let mut h = editor_with(graph);
    let a = port_pos(&h, source, "out", true);
    let b = port_pos(&h, window, "in", false);
    click_at(&mut h, a + (b - a) / 2.0);
    assert!(
        h.state().selection.edge.is_some(),
        "clicking a wire selects it"
    );
    h.key_press(Key::Delete);
    settle(&mut h);
    assert!(h.state().graph().edges.is_empty());
    menu(&mut h, "Edit", "Undo");
    assert_eq!(h.state().graph().edges.len(), 1);
}

#[test]
fn dragging_a_node_moves_it_in_one_undo_step() {
    let (graph, source, _) = source_and_window();
    let mut h = editor_with(graph);
    let before = h.state().graph().node(source).unwrap().pos;
    let from = node_title_pos(&h, source);
    drag(&mut h, from, from + egui::vec2(0.0, 150.0));
    let after = h.state().graph().node(source).unwrap().pos;
    assert!(after[1] > before[1] + 60.0, "{before:?} → {after:?}");
    assert_eq!(after[1] % 20.0, 0.0, "snapped to the grid");
    menu(&mut h, "Edit", "Undo");
    assert_eq!(
        h.state().graph().node(source).unwrap().pos,
        before,
        "one step undoes the whole drag"
    );
}

#[test]
fn copy_and_paste_two_connected_nodes_keeps_their_wire_and_renames_them() {
    let (mut graph, source, window) = source_and_window();
    graph
        .connect(
            Edge {
                from: PortRef::new(source, "out"),
                to: PortRef::new(window, "in"),
            },
            true,
        )
        .unwrap();
    let mut h = editor_with(graph);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    settle(&mut h);
    assert_eq!(h.state().selection.nodes.len(), 2);
    h.event(Event::Copy);
    settle(&mut h);
    let text = h
        .state()
        .clipboard
        .clone()
        .expect("copied to the clipboard");
    assert!(
        text.contains("sequence_source") && text.contains("edges"),
        "RON text: {text}"
    );

    h.event(Event::Paste(text));
    settle(&mut h);
    let g = h.state().graph();
    assert_eq!(g.nodes.len(), 4);
    assert_eq!(g.edges.len(), 2, "the internal wire is pasted too");
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["source", "window", "source2", "window2"]);
    let pasted = &h.state().selection.nodes;
    assert_eq!(pasted.len(), 2, "the pasted nodes are selected");
    let new_wire = g
        .edges
        .iter()
        .find(|e| pasted.contains(&e.from.node))
        .expect("a wire between the copies");
    assert!(pasted.contains(&new_wire.to.node));

    menu(&mut h, "Edit", "Undo");
    assert_eq!(h.state().graph().nodes.len(), 2);
    menu(&mut h, "Edit", "Redo");
    assert_eq!(h.state().graph().nodes.len(), 4);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    menu(&mut h, "Edit", "Duplicate");
    assert_eq!(h.state().graph().nodes.len(), 8);
    assert_eq!(h.state().graph().edges.len(), 4);
}

#[test]
fn space_opens_quick_add_at_the_pointer_and_enter_adds_the_first_match() {
    let mut h = editor();
    let at = h.state().canvas.view.rect.center();
    h.hover_at(at);
    h.step();
    h.key_press(Key::Space);
    settle(&mut h);
    assert!(
        h.state().quick_add.is_some(),
        "Space opens the quick-add box"
    );
    h.event(Event::Text("dense".into()));
    settle(&mut h);
    h.key_press(Key::Enter);
    settle(&mut h);
    let g = h.state().graph();
    assert_eq!(
        g.nodes.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
        ["dense"]
    );
    assert!(h.state().quick_add.is_none(), "the box closes after adding");
}
