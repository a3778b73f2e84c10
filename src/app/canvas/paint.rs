//! Painting of the grid, the wires and the node cards, in screen space from the view. Cards
//! outside the visible area are skipped and text is dropped when too small to read, so a
//! 200-node graph stays cheap. Reads the document; changes nothing.

use super::layout::{CardLayout, GRID_STEP, PORT_RADIUS, ROW_HEIGHT, param_summary};
use super::live::{LiveOverlay, paint_badge, paint_wire_label, wire_label, wire_stroke};
use super::style::{ERROR_RED, category_color, paint_port, port_color};
use super::{CanvasView, Layouts};
use crate::app::command::Selection;
use crate::graph::{Edge, Graph, Node, NodeId};
use egui::epaint::{CornerRadius, CubicBezierShape};
use egui::text::{LayoutJob, TextWrapping};
use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, StrokeKind, Visuals, pos2, vec2};
use std::collections::BTreeSet;

/// Below this zoom, cards are drawn without text.
const TEXT_MIN_ZOOM: f32 = 0.45;

pub fn grid(painter: &Painter, view: &CanvasView, visuals: &Visuals) {
    let rect = view.rect;
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);
    let mut step = GRID_STEP * view.zoom;
    while step < 10.0 {
        step *= 5.0;
    }
    let minor = visuals.weak_text_color().gamma_multiply(0.12);
    let major = visuals.weak_text_color().gamma_multiply(0.25);
    let origin = rect.min + view.pan;
    let first = |o: f32, lo: f32| o + ((lo - o) / step).floor() * step;
    let index = |v: f32, o: f32| ((v - o) / step).round() as i64;
    let mut x = first(origin.x, rect.min.x);
    while x <= rect.max.x {
        let colour = if index(x, origin.x) % 5 == 0 {
            major
        } else {
            minor
        };
        painter.line_segment(
            [pos2(x, rect.min.y), pos2(x, rect.max.y)],
            Stroke::new(1.0, colour),
        );
        x += step;
    }
    let mut y = first(origin.y, rect.min.y);
    while y <= rect.max.y {
        let colour = if index(y, origin.y) % 5 == 0 {
            major
        } else {
            minor
        };
        painter.line_segment(
            [pos2(rect.min.x, y), pos2(rect.max.x, y)],
            Stroke::new(1.0, colour),
        );
        y += step;
    }
}

fn control_points(a: Pos2, b: Pos2, zoom: f32) -> [Pos2; 4] {
    let dx = ((b.x - a.x).abs() * 0.5).max(40.0 * zoom);
    [a, a + vec2(dx, 0.0), b - vec2(dx, 0.0), b]
}

/// A wire from output anchor `a` to input anchor `b` (screen points).
pub fn wire_curve(painter: &Painter, a: Pos2, b: Pos2, stroke: Stroke, zoom: f32) {
    painter.add(CubicBezierShape::from_points_stroke(
        control_points(a, b, zoom),
        false,
        Color32::TRANSPARENT,
        stroke,
    ));
}

/// Distance from `p` to the wire between anchors `a` and `b` (all in canvas units).
pub fn distance_to_wire(a: Pos2, b: Pos2, p: Pos2) -> f32 {
    let bounds = Rect::from_two_pos(a, b).expand2(vec2(45.0, 10.0));
    if !bounds.contains(p) {
        return f32::INFINITY;
    }
    let curve = CubicBezierShape::from_points_stroke(
        control_points(a, b, 1.0),
        false,
        Color32::TRANSPARENT,
        Stroke::NONE,
    );
    let points: Vec<Pos2> = (0..=24).map(|i| curve.sample(i as f32 / 24.0)).collect();
    points
        .windows(2)
        .filter_map(|w| match w {
            [s, e] => Some(distance_to_segment(p, *s, *e)),
            _ => None,
        })
        .fold(f32::INFINITY, f32::min)
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = if ab.length_sq() > 0.0 {
        ((p - a).dot(ab) / ab.length_sq()).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.distance(a + ab * t)
}

/// What every painting pass of a frame reads.
pub struct Scene<'a> {
    pub view: &'a CanvasView,
    pub graph: &'a Graph,
    pub layouts: &'a Layouts,
    pub selection: &'a Selection,
    pub visuals: &'a Visuals,
    pub live: Option<&'a LiveOverlay>,
}

pub fn wires(painter: &Painter, scene: &Scene<'_>, hovered: Option<&Edge>) {
    let Scene {
        view,
        graph,
        layouts,
        selection,
        visuals,
        live,
    } = *scene;
    let visible = view.rect.expand(50.0);
    let mut labels = Vec::new();
    for edge in &graph.edges {
        let (Some(a), Some(b)) = (
            layouts.anchor(&edge.from, true),
            layouts.anchor(&edge.to, false),
        ) else {
            continue;
        };
        let (a, b) = (view.to_screen(a), view.to_screen(b));
        let span = Rect::from_two_pos(a, b).expand(60.0 * view.zoom);
        if !visible.intersects(span) {
            continue;
        }
        let ty = graph
            .node(edge.from.node)
            .and_then(super::layout::spec_of)
            .and_then(|s| s.output(&edge.from.port))
            .map(|p| p.ty);
        let colour = ty.map(port_color).unwrap_or(visuals.text_color());
        let selected = selection.edge.as_ref() == Some(edge);
        let width = if selected {
            4.0
        } else if hovered == Some(edge) {
            3.2
        } else {
            2.2
        } * view.zoom.clamp(0.5, 1.5);
        let live_wire = live.and_then(|l| l.wires.get(&(edge.from.node, edge.from.port.clone())));
        let stroke = wire_stroke(width, colour, live_wire);
        if selected {
            wire_curve(
                painter,
                a,
                b,
                Stroke::new(stroke.width + 3.0, visuals.selection.bg_fill),
                view.zoom,
            );
        }
        wire_curve(painter, a, b, stroke, view.zoom);
        if let Some(w) = live_wire
            && view.zoom >= TEXT_MIN_ZOOM
            && let Some(text) = wire_label(w)
        {
            labels.push((a.lerp(b, 0.5), text, stroke.color));
        }
    }
    // Labels over all wires, so no wire hides another's label.
    for (at, text, colour) in labels {
        paint_wire_label(painter, at, &text, view.zoom, colour);
    }
}

pub fn cards(painter: &Painter, scene: &Scene<'_>, problems: &BTreeSet<NodeId>) {
    let Scene {
        view,
        graph,
        layouts,
        selection,
        visuals,
        live,
    } = *scene;
    let visible = view.rect.expand(20.0);
    for (node, (_, card)) in graph.nodes.iter().zip(&layouts.cards) {
        let rect = view.rect_to_screen(card.rect);
        if !visible.intersects(rect) {
            continue;
        }
        let state = CardState {
            selected: selection.nodes.contains(&node.id),
            has_problem: problems.contains(&node.id),
        };
        paint_card(painter, view, node, card, rect, state, visuals);
        if let Some(badge) = live.and_then(|l| l.cards.get(&node.id)) {
            paint_badge(painter, view, rect, badge, visuals);
        }
    }
}

#[derive(Clone, Copy)]
struct CardState {
    selected: bool,
    has_problem: bool,
}

fn paint_card(
    painter: &Painter,
    view: &CanvasView,
    node: &Node,
    card: &CardLayout,
    rect: Rect,
    state: CardState,
    visuals: &Visuals,
) {
    let zoom = view.zoom;
    let radius = (6.0 * zoom) as u8;
    let fill = if visuals.dark_mode {
        Color32::from_rgb(0x2b, 0x2e, 0x35)
    } else {
        Color32::from_rgb(0xfb, 0xfb, 0xfc)
    };
    let shadow = Color32::from_black_alpha(if visuals.dark_mode { 90 } else { 30 });
    painter.rect_filled(
        rect.translate(vec2(2.0, 3.0) * zoom.min(1.0)),
        radius,
        shadow,
    );
    painter.rect_filled(rect, radius, fill);
    let title = view.rect_to_screen(card.title_rect());
    let accent = card
        .spec
        .map(|s| category_color(s.category))
        .unwrap_or(ERROR_RED);
    painter.rect_filled(
        title,
        CornerRadius {
            nw: radius,
            ne: radius,
            sw: 0,
            se: 0,
        },
        accent,
    );
    let outline = if state.has_problem {
        Stroke::new(2.5, ERROR_RED)
    } else if state.selected {
        Stroke::new(2.5, visuals.selection.stroke.color)
    } else {
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color)
    };
    painter.rect_stroke(rect, radius, outline, StrokeKind::Outside);
    if state.has_problem && state.selected {
        painter.rect_stroke(
            rect.expand(3.0),
            radius,
            Stroke::new(1.5, visuals.selection.stroke.color),
            StrokeKind::Outside,
        );
    }
    let port_outline = Stroke::new(1.2 * zoom.min(1.0), fill);
    for anchor in &card.ports {
        paint_port(
            painter,
            view.to_screen(anchor.pos),
            PORT_RADIUS * zoom,
            anchor.spec.ty,
            port_outline,
        );
    }
    if zoom < TEXT_MIN_ZOOM {
        return;
    }
    let pad = 8.0 * zoom;
    let title_font = FontId::proportional(13.5 * zoom);
    let kind_title = card.spec.map(|s| s.title).unwrap_or("unknown kind");
    let name = one_line(
        painter,
        &node.name,
        title_font.clone(),
        Color32::WHITE,
        title.width() * 0.62,
    );
    let name_width = name.size().x;
    painter.galley(
        pos2(title.min.x + pad, title.center().y - name.size().y / 2.0),
        name,
        Color32::WHITE,
    );
    let room = title.width() - name_width - 3.0 * pad;
    if room > 20.0 * zoom {
        let kind = one_line(
            painter,
            kind_title,
            FontId::proportional(11.0 * zoom),
            Color32::from_white_alpha(200),
            room,
        );
        painter.galley(
            pos2(
                title.max.x - pad - kind.size().x,
                title.center().y - kind.size().y / 2.0,
            ),
            kind,
            Color32::WHITE,
        );
    }
    let port_font = FontId::proportional(11.5 * zoom);
    let text = visuals.text_color();
    let half = (rect.width() / 2.0 - 2.0 * pad).max(10.0);
    for anchor in &card.ports {
        let at = view.to_screen(anchor.pos);
        let (x, align) = if anchor.output {
            (at.x - pad - 2.0 * zoom, Align2::RIGHT_CENTER)
        } else {
            (at.x + pad + 2.0 * zoom, Align2::LEFT_CENTER)
        };
        let label = one_line(painter, anchor.spec.name, port_font.clone(), text, half);
        let pos = align.anchor_size(pos2(x, at.y), label.size()).min;
        painter.galley(pos, label, text);
    }
    if let Some(spec) = card.spec {
        let summary = view.rect_to_screen(card.summary_rect());
        let line = param_summary(node, spec);
        let galley = one_line(
            painter,
            &line,
            FontId::proportional(11.0 * zoom),
            visuals.weak_text_color(),
            summary.width() - 2.0 * pad,
        );
        let y = summary.center().y - galley.size().y / 2.0;
        painter.galley(pos2(summary.min.x + pad, y), galley, text);
        let separator_y = summary.min.y + 1.0;
        painter.line_segment(
            [
                pos2(rect.min.x + pad, separator_y),
                pos2(rect.max.x - pad, separator_y),
            ],
            Stroke::new(
                1.0,
                visuals
                    .widgets
                    .noninteractive
                    .bg_stroke
                    .color
                    .gamma_multiply(0.6),
            ),
        );
    }
    let _ = ROW_HEIGHT;
}

/// What to do on an empty canvas.
pub fn empty_hint(painter: &Painter, rect: Rect, visuals: &Visuals) {
    let text = "Drag a node from the palette and drop it here\n\
                or double-click (or press Space) to search the catalogue.\n\
                File -> Examples opens ready-made graphs.";
    let galley = painter.layout(
        text.to_owned(),
        FontId::proportional(16.0),
        visuals.weak_text_color(),
        600.0,
    );
    let pos = rect.center() - galley.size() / 2.0;
    painter.galley(pos, galley, visuals.weak_text_color());
}

/// Text on one line, cut with an ellipsis at `max_width`.
fn one_line(
    painter: &Painter,
    text: &str,
    font: FontId,
    colour: Color32,
    max_width: f32,
) -> std::sync::Arc<egui::Galley> {
    let mut job = LayoutJob::simple_singleline(text.to_owned(), font, colour);
    job.wrap = TextWrapping {
        max_width: max_width.max(1.0),
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    painter.layout_job(job)
}

/// A small bubble of text at `pos` (screen), for port names and refusal reasons.
pub fn hint(painter: &Painter, pos: Pos2, text: &str, colour: Color32, visuals: &Visuals) {
    let galley = painter.layout(text.to_owned(), FontId::proportional(13.0), colour, 360.0);
    let rect = Rect::from_min_size(pos, galley.size()).expand(5.0);
    painter.rect_filled(rect, 4.0, visuals.window_fill);
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, colour), StrokeKind::Inside);
    painter.galley(pos, galley, colour);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_wire_are_near_it_and_far_points_are_not() {
        let (a, b) = (pos2(0.0, 0.0), pos2(200.0, 100.0));
        assert!(distance_to_wire(a, b, pos2(100.0, 50.0)) < 2.0);
        assert!(distance_to_wire(a, b, pos2(100.0, 0.0)) > 10.0);
        assert_eq!(distance_to_wire(a, b, pos2(900.0, 900.0)), f32::INFINITY);
    }
}
