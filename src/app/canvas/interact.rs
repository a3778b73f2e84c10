//! Pointer and wheel input on the canvas: hit tests, the running gesture (pan, move, connect,
//! box select, comment resize), zoom around the pointer and the right-click menu. Every
//! document change leaves as a `Command`; only view state and selection change here.

use super::layout::{PORT_HIT_RADIUS, snap};
use super::style::{ERROR_RED, OK_GREEN, port_color};
use super::{CanvasContext, CanvasEvents, CanvasState, CardId, Layouts, comments, paint, wiring};
use crate::app::command::{Command, Selection};
use crate::catalog::PortType;
use crate::graph::{Edge, Graph, GroupId, NodeId, PortRef};
use egui::{Modifiers, PointerButton, Pos2, Rect, Response, Stroke, Ui, Vec2};

/// A port under the pointer.
#[derive(Clone, Debug, PartialEq)]
pub struct PortHit {
    pub port: PortRef,
    pub output: bool,
    pub ty: PortType,
    /// Anchor in canvas units.
    pub pos: Pos2,
}

/// What is under a screen point, topmost first: ports, cards, wires, comment handles, comments.
#[derive(Clone, Debug, PartialEq)]
pub enum Hit {
    Port(PortHit),
    Node(NodeId),
    Group(GroupId),
    Wire(Edge),
    CommentResize(usize),
    Comment(usize),
    Empty,
}

/// The pointer gesture in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Gesture {
    #[default]
    None,
    Pan,
    Move {
        nodes: Vec<(NodeId, Pos2)>,
        comments: Vec<(usize, Pos2)>,
        groups: Vec<(GroupId, Pos2)>,
        press: Pos2,
        last_delta: Vec2,
        id: u64,
    },
    Connect {
        from: PortHit,
    },
    BoxSelect {
        start: Pos2,
        additive: bool,
    },
    ResizeComment {
        index: usize,
        origin_size: Vec2,
        press: Pos2,
        id: u64,
    },
}

/// What is at `screen` (canvas drawn with `view`).
pub fn hit_test(graph: &Graph, layouts: &Layouts, view: &super::CanvasView, screen: Pos2) -> Hit {
    let p = view.to_canvas(screen);
    let port_radius = PORT_HIT_RADIUS.max(8.0 / view.zoom);
    for (id, card) in layouts.cards.iter().rev() {
        let grown = card.rect.expand(port_radius);
        if !grown.contains(p) {
            continue;
        }
        if let Some(anchor) = card
            .ports
            .iter()
            .filter(|a| a.pos.distance(p) <= port_radius)
            .min_by(|a, b| a.pos.distance(p).total_cmp(&b.pos.distance(p)))
        {
            return Hit::Port(PortHit {
                port: anchor.port(),
                output: anchor.output,
                ty: anchor.spec.ty,
                pos: anchor.pos,
            });
        }
        if card.rect.contains(p) {
            return match id {
                CardId::Node(node) => Hit::Node(*node),
                CardId::Group(group) => Hit::Group(*group),
            };
        }
    }
    let wire_tolerance = 6.0 / view.zoom;
    for edge in graph.edges.iter().rev() {
        let (Some(a), Some(b)) = (
            layouts.anchor(&edge.from, true),
            layouts.anchor(&edge.to, false),
        ) else {
            continue;
        };
        if paint::distance_to_wire(a, b, p) <= wire_tolerance {
            return Hit::Wire(edge.clone());
        }
    }
    if layouts.scope.is_some() {
        return Hit::Empty; // comments live on the top level
    }
    comments::hit_test(graph, p, view.zoom)
}

/// Wheel zoom around the pointer, Ctrl+wheel / pinch zoom, middle-drag pan.
pub fn handle_view_input(state: &mut CanvasState, ui: &Ui, response: &Response) {
    if response.dragged_by(PointerButton::Middle) {
        state.view.pan += response.drag_delta();
    }
    if !response.contains_pointer() {
        return;
    }
    let (scroll, zoom, pointer, modifiers) = ui.input(|i| {
        (
            i.smooth_scroll_delta,
            i.zoom_delta(),
            i.pointer.hover_pos(),
            i.modifiers,
        )
    });
    let Some(pointer) = pointer else {
        return;
    };
    let mut factor = zoom;
    if modifiers.shift_only() || scroll.x != 0.0 && scroll.y == 0.0 {
        state.view.pan += scroll;
    } else if scroll.y != 0.0 {
        factor *= (scroll.y * 0.0025).exp();
    }
    if (factor - 1.0).abs() > 1e-4 {
        state.view.zoom_around(pointer, factor);
    }
}

pub(super) fn click_selects(selection: &mut Selection, hit: &Hit, modifiers: Modifiers) {
    let toggle = modifiers.shift || modifiers.command;
    match hit {
        Hit::Group(id) => {
            if toggle {
                selection.edge = None;
                if !selection.groups.remove(id) {
                    selection.groups.insert(*id);
                }
            } else {
                *selection = Selection::only_group(*id);
            }
        }
        Hit::Node(id)
        | Hit::Port(PortHit {
            port: PortRef { node: id, .. },
            ..
        }) => {
            if toggle {
                selection.edge = None;
                if !selection.nodes.remove(id) {
                    selection.nodes.insert(*id);
                }
            } else {
                *selection = Selection::only_node(*id);
            }
        }
        Hit::Comment(i) | Hit::CommentResize(i) => {
            if toggle {
                selection.edge = None;
                if !selection.comments.remove(i) {
                    selection.comments.insert(*i);
                }
            } else {
                *selection = Selection {
                    comments: [*i].into(),
                    ..Selection::default()
                };
            }
        }
        Hit::Wire(edge) => {
            *selection = Selection {
                edge: Some(edge.clone()),
                ..Selection::default()
            }
        }
        Hit::Empty => {
            if !toggle {
                *selection = Selection::default();
            }
        }
    }
}

/// Clicks, double-clicks and primary-button gestures.
pub fn handle_pointer(
    state: &mut CanvasState,
    ui: &Ui,
    response: &Response,
    cx: &mut CanvasContext<'_>,
    layouts: &Layouts,
    events: &mut CanvasEvents,
) {
    let (modifiers, pointer) = ui.input(|i| (i.modifiers, i.pointer.latest_pos()));
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        let hit = hit_test(cx.graph, layouts, &state.view, p);
        click_selects(cx.selection, &hit, modifiers);
    }
    if response.double_clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        match hit_test(cx.graph, layouts, &state.view, p) {
            Hit::Empty => events.quick_add_at = Some((p, state.view.to_canvas(p))),
            Hit::Group(group) => cx.commands.push(Command::OpenGroup(Some(group))),
            _ => {}
        }
    }
    if response.drag_started_by(PointerButton::Primary)
        && let Some(press) = ui.input(|i| i.pointer.press_origin())
    {
        let hit = hit_test(cx.graph, layouts, &state.view, press);
        state.gesture = start_gesture(state, cx, hit, press, modifiers);
    }
    let pointer_canvas = pointer.map(|p| state.view.to_canvas(p));
    if response.dragged_by(PointerButton::Primary) {
        drag_gesture(state, response, cx, pointer_canvas);
    }
    if response.drag_stopped() {
        let gesture = std::mem::take(&mut state.gesture);
        finish_gesture(gesture, state, cx, layouts, pointer, events);
    }
}

fn start_gesture(
    state: &mut CanvasState,
    cx: &mut CanvasContext<'_>,
    hit: Hit,
    press: Pos2,
    modifiers: Modifiers,
) -> Gesture {
    let press_canvas = state.view.to_canvas(press);
    let graph = cx.graph;
    match hit {
        Hit::Port(from) => Gesture::Connect { from },
        Hit::Node(_) | Hit::Group(_) | Hit::Comment(_) => {
            let already = match &hit {
                Hit::Node(id) => cx.selection.nodes.contains(id),
                Hit::Group(id) => cx.selection.groups.contains(id),
                Hit::Comment(i) => cx.selection.comments.contains(i),
                _ => false,
            };
            if !already {
                click_selects(cx.selection, &hit, modifiers);
            }
            Gesture::Move {
                nodes: cx
                    .selection
                    .nodes
                    .iter()
                    .filter_map(|id| graph.node(*id).map(|n| (*id, Pos2::from(n.pos))))
                    .collect(),
                comments: cx
                    .selection
                    .comments
                    .iter()
                    .filter_map(|i| graph.comments.get(*i).map(|c| (*i, Pos2::from(c.pos))))
                    .collect(),
                groups: cx
                    .selection
                    .groups
                    .iter()
                    .filter_map(|g| graph.group(*g).map(|g| (g.id, Pos2::from(g.pos))))
                    .collect(),
                press: press_canvas,
                last_delta: Vec2::ZERO,
                id: state.new_gesture_id(),
            }
        }
        Hit::CommentResize(index) => Gesture::ResizeComment {
            index,
            origin_size: graph
                .comments
                .get(index)
                .map(|c| Vec2::from(c.size))
                .unwrap_or(Vec2::splat(100.0)),
            press: press_canvas,
            id: state.new_gesture_id(),
        },
        Hit::Wire(_) | Hit::Empty => {
            if modifiers.shift || modifiers.command {
                Gesture::BoxSelect {
                    start: press_canvas,
                    additive: true,
                }
            } else {
                Gesture::Pan
            }
        }
    }
}

fn drag_gesture(
    state: &mut CanvasState,
    response: &Response,
    cx: &mut CanvasContext<'_>,
    pointer_canvas: Option<Pos2>,
) {
    match &mut state.gesture {
        Gesture::Pan => state.view.pan += response.drag_delta(),
        Gesture::Move {
            nodes,
            comments,
            groups,
            press,
            last_delta,
            id,
        } => {
            let Some(p) = pointer_canvas else { return };
            let delta = p - *press;
            if delta == *last_delta {
                return;
            }
            *last_delta = delta;
            let snap_on = cx.snap_to_grid;
            let place = |origin: Pos2| {
                let moved = origin + delta;
                let moved = if snap_on { snap(moved) } else { moved };
                [moved.x, moved.y]
            };
            cx.commands.push(Command::MoveItems {
                nodes: nodes.iter().map(|(n, o)| (*n, place(*o))).collect(),
                comments: comments.iter().map(|(c, o)| (*c, place(*o))).collect(),
                groups: groups.iter().map(|(g, o)| (*g, place(*o))).collect(),
                gesture: *id,
            });
        }
        Gesture::ResizeComment {
            index,
            origin_size,
            press,
            id,
        } => {
            let Some(p) = pointer_canvas else { return };
            let size = (*origin_size + (p - *press)).max(egui::vec2(80.0, 40.0));
            cx.commands.push(Command::ResizeComment {
                index: *index,
                size: [size.x, size.y],
                gesture: *id,
            });
        }
        Gesture::None | Gesture::Connect { .. } | Gesture::BoxSelect { .. } => {}
    }
}

/// The wire a drag from `from` to the port `to` would add (output first), or why not.
pub fn proposed_wire(
    graph: &Graph,
    from: &PortHit,
    to: &PortHit,
) -> Result<(PortRef, PortRef), String> {
    if from.output == to.output {
        let side = if from.output { "outputs" } else { "inputs" };
        return Err(format!("two {side} cannot be wired together"));
    }
    let (out, inp) = if from.output { (from, to) } else { (to, from) };
    wiring::check_wire(graph, &out.port, &inp.port)?;
    Ok((out.port.clone(), inp.port.clone()))
}

fn finish_gesture(
    gesture: Gesture,
    state: &mut CanvasState,
    cx: &mut CanvasContext<'_>,
    layouts: &Layouts,
    pointer: Option<Pos2>,
    events: &mut CanvasEvents,
) {
    match gesture {
        Gesture::Connect { from } => {
            let Some(p) = pointer else { return };
            let Hit::Port(to) = hit_test(cx.graph, layouts, &state.view, p) else {
                return;
            };
            match proposed_wire(cx.graph, &from, &to) {
                Ok((from, to)) => cx.commands.push(Command::Connect { from, to }),
                Err(reason) => events.refusal = Some(reason),
            }
        }
        Gesture::BoxSelect { start, additive } => {
            let Some(p) = pointer else { return };
            let area = Rect::from_two_pos(start, state.view.to_canvas(p));
            if !additive {
                *cx.selection = Selection::default();
            }
            cx.selection.edge = None;
            for (id, card) in &layouts.cards {
                if area.intersects(card.rect) {
                    match id {
                        CardId::Node(node) => cx.selection.nodes.insert(*node),
                        CardId::Group(group) => cx.selection.groups.insert(*group),
                    };
                }
            }
            let comments = cx.graph.comments.iter().enumerate();
            for (i, c) in comments.filter(|_| layouts.scope.is_none()) {
                if area.contains_rect(Rect::from_min_size(c.pos.into(), c.size.into())) {
                    cx.selection.comments.insert(i);
                }
            }
        }
        Gesture::None | Gesture::Pan | Gesture::Move { .. } | Gesture::ResizeComment { .. } => {}
    }
}

/// Draws what the running gesture shows: the wire being drawn with its target's verdict,
/// the selection box, and the name and type of a hovered port.
pub fn paint_gesture(
    state: &CanvasState,
    ui: &Ui,
    painter: &egui::Painter,
    graph: &Graph,
    hover: Option<&Hit>,
) {
    let view = &state.view;
    let pointer = ui.input(|i| i.pointer.latest_pos());
    match (&state.gesture, pointer) {
        (Gesture::Connect { from }, Some(p)) => {
            let start = view.to_screen(from.pos);
            let (a, b) = if from.output { (start, p) } else { (p, start) };
            paint::wire_curve(
                painter,
                a,
                b,
                Stroke::new(2.5 * view.zoom.max(0.6), port_color(from.ty)),
                view.zoom,
            );
            if let Some(Hit::Port(to)) = hover
                && to.port != from.port
            {
                let target = view.to_screen(to.pos);
                let radius = 10.0 * view.zoom.max(0.6);
                match proposed_wire(graph, from, to) {
                    Ok(_) => {
                        painter.circle_stroke(target, radius, Stroke::new(2.5, OK_GREEN));
                    }
                    Err(reason) => {
                        painter.circle_stroke(target, radius, Stroke::new(2.5, ERROR_RED));
                        paint::hint(
                            painter,
                            p + egui::vec2(14.0, 10.0),
                            &reason,
                            ERROR_RED,
                            ui.visuals(),
                        );
                    }
                }
            }
        }
        (Gesture::BoxSelect { start, .. }, Some(p)) => {
            let rect = Rect::from_two_pos(view.to_screen(*start), p);
            let colour = ui.visuals().selection.bg_fill;
            painter.rect_filled(rect, 2.0, colour.gamma_multiply(0.15));
            painter.rect_stroke(
                rect,
                2.0,
                Stroke::new(1.0, colour),
                egui::StrokeKind::Inside,
            );
        }
        (Gesture::None, Some(p)) => {
            if let Some(Hit::Port(port)) = hover {
                let text = port_hint(graph, port);
                paint::hint(
                    painter,
                    p + egui::vec2(14.0, 10.0),
                    &text,
                    ui.visuals().text_color(),
                    ui.visuals(),
                );
            }
        }
        _ => {}
    }
}

fn port_hint(graph: &Graph, port: &PortHit) -> String {
    let spec = graph
        .node(port.port.node)
        .and_then(super::layout::spec_of)
        .and_then(|s| {
            if port.output {
                s.output(&port.port.port)
            } else {
                s.input(&port.port.port)
            }
        });
    let doc = spec.map(|s| s.doc).unwrap_or("");
    let side = if port.output { "output" } else { "input" };
    format!("{} ({} {side}): {doc}", port.port.port, port.ty)
}
