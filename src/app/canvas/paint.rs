//! Painting of the grid and the wires, in screen space from the view (cards are
//! `card_paint`'s). Wires outside the visible area are skipped, so a 200-node graph stays
//! cheap; inside an open group, wires to the outside end in a labelled stub. Reads the
//! document; changes nothing.

use super::layout::GRID_STEP;
use super::live::{LiveOverlay, paint_wire_label, wire_label, wire_stroke};
use super::style::port_color;
use super::wire_path::{distance_to_path, label_point, wire_points};
use super::{CanvasView, Layouts};
use crate::app::command::Selection;
use crate::graph::{Edge, Graph};
use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, StrokeKind, Visuals, pos2, vec2};

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

/// A wire from output anchor `a` to input anchor `b` (screen points).
pub fn wire_curve(painter: &Painter, a: Pos2, b: Pos2, stroke: Stroke, zoom: f32) {
    painter.add(egui::Shape::line(wire_points(a, b, zoom), stroke));
}

/// Distance from `p` to the wire between anchors `a` and `b` (all in canvas units).
pub fn distance_to_wire(a: Pos2, b: Pos2, p: Pos2) -> f32 {
    let bounds = Rect::from_two_pos(a, b).expand2(vec2(45.0, 130.0));
    if !bounds.contains(p) {
        return f32::INFINITY;
    }
    distance_to_path(&wire_points(a, b, 1.0), p)
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

/// A wire label waiting to be painted over the cards: where, what, in which colour.
pub type WireLabel = (Pos2, String, Color32);

/// Paints the wires; returns their labels, to be painted after the cards so no card hides one.
pub fn wires(painter: &Painter, scene: &Scene<'_>, hovered: Option<&Edge>) -> Vec<WireLabel> {
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
        let (a, b) = match (
            layouts.anchor(&edge.from, true),
            layouts.anchor(&edge.to, false),
        ) {
            (Some(a), Some(b)) => (a, b),
            (a, b) if layouts.scope.is_some() => {
                outside_stub(painter, scene, edge, a, b);
                continue;
            }
            _ => continue,
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
            let at = label_point(&wire_points(a, b, view.zoom)).unwrap_or(a);
            labels.push((at, text, stroke.color));
        }
    }
    labels
}

/// Wire labels over everything else, so neither a wire nor a card hides one.
pub fn wire_labels(painter: &Painter, labels: Vec<WireLabel>, zoom: f32) {
    for (at, text, colour) in labels {
        paint_wire_label(painter, at, &text, zoom, colour);
    }
}

/// Inside an open group: a wire from or to a node outside ends in a short stub that names it.
fn outside_stub(
    painter: &Painter,
    scene: &Scene<'_>,
    edge: &Edge,
    from: Option<Pos2>,
    to: Option<Pos2>,
) {
    let view = scene.view;
    let (port, other, text) = match (from, to) {
        (Some(a), None) => (
            a,
            vec2(60.0, 0.0),
            format!(
                "to {}.{}",
                scene.graph.display_name(edge.to.node),
                edge.to.port
            ),
        ),
        (None, Some(b)) => (
            b,
            vec2(-60.0, 0.0),
            format!(
                "from {}.{}",
                scene.graph.display_name(edge.from.node),
                edge.from.port
            ),
        ),
        _ => return,
    };
    let start = view.to_screen(port);
    let end = start + other * view.zoom;
    let colour = scene.visuals.weak_text_color();
    painter.line_segment(
        [start, end],
        Stroke::new(2.0 * view.zoom.clamp(0.5, 1.5), colour),
    );
    let align = if other.x < 0.0 {
        Align2::RIGHT_CENTER
    } else {
        Align2::LEFT_CENTER
    };
    let font = FontId::proportional((11.0 * view.zoom).max(10.0));
    painter.text(
        end + vec2(other.x.signum() * 4.0, 0.0),
        align,
        text,
        font,
        colour,
    );
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

/// A small bubble of text at `pos` (screen), for port names and refusal reasons.
pub fn hint(painter: &Painter, pos: Pos2, text: &str, colour: Color32, visuals: &Visuals) {
    let galley = painter.layout(text.to_owned(), FontId::proportional(13.0), colour, 360.0);
    let rect = Rect::from_min_size(pos, galley.size()).expand(5.0);
    painter.rect_filled(rect, 4.0, visuals.window_fill);
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, colour), StrokeKind::Inside);
    painter.galley(pos, galley, colour);
}
