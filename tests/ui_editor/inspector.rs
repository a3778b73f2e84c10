//! In the inspector: a typed parameter edit reaches the graph (and undoes), an invalid one is
//! shown in red with its reason and never reaches the graph; names stay unique; the problems
//! panel selects the node it names.

use super::support::*;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use flowbook::graph::ParamValue;

/// Clicks a node's card, then replaces the text of the inspector field `label` with `text`.
fn type_into(h: &mut AppHarness, label: &str, text: &str) {
    let field = h.get_by_role_and_label(Role::TextInput, label);
    field.click();
    settle(h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    settle(h);
}

#[test]
fn editing_a_parameter_in_the_inspector_changes_the_graph_and_undo_redo_it() {
    let (graph, _, window) = source_and_window();
    let mut h = editor_with(graph);
    let title = node_title_pos(&h, window);
    click_at(&mut h, title);
    assert_eq!(h.state().selection.single_node(), Some(window));
    type_into(&mut h, "size_ms", "2500");
    let size = |h: &AppHarness| {
        h.state()
            .graph()
            .node(window)
            .unwrap()
            .params
            .get("size_ms")
            .cloned()
    };
    assert_eq!(size(&h), Some(ParamValue::Int(2500)));

    menu(&mut h, "Edit", "Undo");
    assert_eq!(size(&h), None, "one undo step for the whole typing session");
    menu(&mut h, "Edit", "Redo");
    assert_eq!(size(&h), Some(ParamValue::Int(2500)));

    menu(&mut h, "Edit", "Undo");
    click_at(&mut h, title);
    h.get_by_label("kind").click();
    settle(&mut h);
    h.get_by_label("session").click();
    settle(&mut h);
    let kind_of = |h: &AppHarness| {
        h.state()
            .graph()
            .node(window)
            .unwrap()
            .params
            .get("kind")
            .cloned()
    };
    assert_eq!(
        kind_of(&h),
        Some(ParamValue::Text("session".into())),
        "enums are combo boxes"
    );
}

#[test]
fn an_invalid_value_is_shown_with_its_reason_and_never_reaches_the_graph() {
    let (graph, _, window) = source_and_window();
    let mut h = editor_with(graph);
    let at = node_title_pos(&h, window);
    click_at(&mut h, at);
    type_into(&mut h, "size_ms", "0");
    assert_eq!(
        h.state()
            .graph()
            .node(window)
            .unwrap()
            .params
            .get("size_ms"),
        None
    );
    assert!(!h.state().doc.is_modified());
    let error = h.get_by_label_contains("outside");
    assert!(
        error.value().unwrap_or_default().contains("size_ms"),
        "{:?}",
        error.value()
    );
    type_into(&mut h, "size_ms", "abc");
    assert!(h.query_by_label_contains("not an integer").is_some());
    assert_eq!(
        h.state()
            .graph()
            .node(window)
            .unwrap()
            .params
            .get("size_ms"),
        None
    );
}

#[test]
fn an_expression_is_checked_live() {
    let mut g = flowbook::graph::Graph::new("t");
    let filter = g.add_node("filter", "filter", [0.0, 0.0]);
    let mut h = editor_with(g);
    let at = node_title_pos(&h, filter);
    click_at(&mut h, at);
    type_into(&mut h, "predicate", "value > (");
    assert_eq!(
        h.state()
            .graph()
            .node(filter)
            .unwrap()
            .params
            .get("predicate"),
        None
    );
    assert!(
        h.query_by_label_contains("predicate:").is_some(),
        "the syntax error is shown"
    );
    type_into(&mut h, "predicate", "value > 3");
    assert_eq!(
        h.state()
            .graph()
            .node(filter)
            .unwrap()
            .params
            .get("predicate"),
        Some(&ParamValue::Text("value > 3".into()))
    );
}

#[test]
fn a_taken_name_is_refused_and_a_free_one_renames() {
    let (graph, _, window) = source_and_window();
    let mut h = editor_with(graph);
    let at = node_title_pos(&h, window);
    click_at(&mut h, at);
    type_into(&mut h, "name", "source");
    assert_eq!(h.state().graph().node(window).unwrap().name, "window");
    assert!(h.query_by_label_contains("already taken").is_some());
    type_into(&mut h, "name", "win");
    assert_eq!(h.state().graph().node(window).unwrap().name, "win");
}

#[test]
fn clicking_a_problem_selects_its_node_and_nodes_with_problems_are_listed() {
    let (graph, _, window) = source_and_window();
    let mut h = editor_with(graph);
    assert!(
        h.state().problems.nodes.contains(&window),
        "an unconnected window has a problem"
    );
    let problem = h.get_by_label_contains("window (port 'in')");
    problem.click();
    settle(&mut h);
    assert_eq!(h.state().selection.single_node(), Some(window));
    let centre = h.state().canvas.view.rect.center();
    let card = h
        .state()
        .canvas
        .node_screen_rect(h.state().graph(), window)
        .unwrap();
    assert!(card.center().distance(centre) < 2.0, "the node is centred");
}

#[test]
fn a_comment_card_shows_markdown_and_its_text_is_edited_in_the_inspector() {
    let mut h = editor();
    menu(&mut h, "Edit", "Add Comment");
    assert_eq!(h.state().graph().comments.len(), 1);
    assert_eq!(h.state().selection.single_comment(), Some(0));
    assert!(
        h.query_by_label_contains("Write").is_some(),
        "the card renders its markdown"
    );
    let field = h.get_by_role_and_label(
        Role::MultilineTextInput,
        "Markdown: **bold**, *italic*, lists, `code`, # headings",
    );
    field.click();
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.event(egui::Event::Text("# Windows\nfire at the watermark".into()));
    settle(&mut h);
    let text = h.state().graph().comments[0].text.clone();
    assert_eq!(text, "# Windows\nfire at the watermark");
    assert!(h.query_by_label_contains("fire at the watermark").is_some());
    menu(&mut h, "Edit", "Undo");
    assert!(
        h.state().graph().comments[0].text.starts_with("**Note**"),
        "typing is one undo step"
    );
}
