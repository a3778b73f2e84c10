//! What a running graph adds to the canvas: a status badge under each card (state, counts,
//! rates, watermark, late records, errors) and wires drawn by their rate (thickness, label)
//! and back-pressure (colour, as Flink's web UI grades it: OK, low, high), or by the gradient
//! flowing back between layer nodes while a model trains. The app fills a `LiveOverlay` from
//! telemetry each frame; the canvas only draws it.

use super::CanvasView;
use super::style::ERROR_RED;
use crate::graph::NodeId;
use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, StrokeKind, pos2, vec2};
use std::collections::HashMap;

/// A node's life as its badge shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    Running,
    Paused,
    Finished,
    Failed,
    Stopped,
}

impl LiveState {
    pub fn colour(self) -> Color32 {
        match self {
            LiveState::Running => Color32::from_rgb(0x3f, 0xb9, 0x50),
            LiveState::Paused => Color32::from_rgb(0xe3, 0xa0, 0x08),
            LiveState::Finished => Color32::from_rgb(0x4a, 0x90, 0xe2),
            LiveState::Failed => ERROR_RED,
            LiveState::Stopped => Color32::from_gray(0x8a),
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            LiveState::Running => "▶",
            LiveState::Paused => "⏳",
            LiveState::Finished => "✔",
            LiveState::Failed => "✖",
            LiveState::Stopped => "◼",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            LiveState::Running => "running",
            LiveState::Paused => "paused",
            LiveState::Finished => "finished",
            LiveState::Failed => "failed",
            LiveState::Stopped => "stopped",
        }
    }
}

/// The badge of one node.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveCard {
    pub state: LiveState,
    /// One or two short lines: counts and rates, then watermark/late or metrics.
    pub lines: Vec<String>,
    pub error: Option<String>,
}

/// How one output port's wires are drawn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveWire {
    pub rate_per_s: f64,
    /// 0 = its channels are empty, 1 = full (the consumer cannot keep up).
    pub backpressure: f32,
    /// Gradient-flow (or activation) scale 0..1 and its label, for wires between layers.
    pub flow: Option<(f32, String)>,
}

/// Everything the canvas overlays during and after a run.
#[derive(Clone, Debug, Default)]
pub struct LiveOverlay {
    pub cards: HashMap<NodeId, LiveCard>,
    /// By output port (node, port name): all wires out of a port share its rate.
    pub wires: HashMap<(NodeId, String), LiveWire>,
}

/// Height of the badge below a card, in canvas units.
pub const BADGE_HEIGHT: f32 = 36.0;

/// A rate as people read it: 950/s, 12.3 k/s, 4.1 M/s (the core's number format).
pub fn rate_text(per_s: f64) -> String {
    crate::format::rate(per_s, "/s")
}

/// A count in a badge: exact below ten thousand, then 12.3 k, 4.1 M.
pub fn count_text(n: f64) -> String {
    if n.abs() < 1e4 {
        format!("{n:.0}")
    } else {
        crate::format::si(n)
    }
}

/// Back-pressure colour: green when the channels are nearly empty, amber when they fill,
/// red when full (Flink grades OK < 10 % < LOW < 50 % < HIGH).
pub fn backpressure_colour(ratio: f32) -> Color32 {
    let ok = Color32::from_rgb(0x3f, 0xb9, 0x50);
    let low = Color32::from_rgb(0xe3, 0xa0, 0x08);
    let high = Color32::from_rgb(0xe5, 0x3e, 0x3e);
    if ratio <= 0.1 {
        ok
    } else if ratio <= 0.5 {
        lerp(ok, low, (ratio - 0.1) / 0.4)
    } else {
        lerp(low, high, ((ratio - 0.5) / 0.5).min(1.0))
    }
}

/// Gradient-flow colour: blue (vanishing) → yellow → red (large); shared with the layers table.
pub use crate::app::run::views::layers::flow_colour;

fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// Wire width for a rate: thicker on a log scale, 1 record/s ≈ base, 10 M/s ≈ base + 5.
pub fn rate_width(base: f32, per_s: f64) -> f32 {
    base + (per_s.max(0.0) + 1.0).log10() as f32 * 0.7
}

/// The stroke of a wire out of a port, given its live data.
pub fn wire_stroke(base_width: f32, default: Color32, live: Option<&LiveWire>) -> Stroke {
    match live {
        None => Stroke::new(base_width, default),
        Some(LiveWire {
            flow: Some((t, _)), ..
        }) => Stroke::new(base_width + 4.0 * t, flow_colour(*t)),
        Some(w) => Stroke::new(
            rate_width(base_width, w.rate_per_s),
            backpressure_colour(w.backpressure),
        ),
    }
}

/// The label drawn at a wire's middle: its rate, or its gradient scale.
pub fn wire_label(live: &LiveWire) -> Option<String> {
    if let Some((_, label)) = &live.flow {
        return Some(label.clone());
    }
    (live.rate_per_s >= 0.5).then(|| rate_text(live.rate_per_s))
}

pub fn paint_wire_label(painter: &Painter, at: Pos2, text: &str, zoom: f32, fill: Color32) {
    let font = FontId::proportional((11.0 * zoom).clamp(9.0, 14.0));
    let galley = painter.layout_no_wrap(text.to_owned(), font, Color32::WHITE);
    let rect = Align2::CENTER_CENTER
        .anchor_size(at, galley.size())
        .expand2(vec2(4.0, 1.5));
    painter.rect_filled(rect, 3.0, Color32::from_black_alpha(170));
    painter.rect_stroke(rect, 3.0, Stroke::new(1.0, fill), StrokeKind::Inside);
    painter.galley(rect.min + vec2(4.0, 1.5), galley, Color32::WHITE);
}

/// The status badge under a card (`card` is the card's screen rectangle). Its lines are never
/// cut: the badge grows wider than the card when a line needs it.
pub fn paint_badge(
    painter: &Painter,
    view: &CanvasView,
    card: Rect,
    live: &LiveCard,
    visuals: &egui::Visuals,
) {
    let zoom = view.zoom;
    if zoom < BADGE_TEXT_MIN_ZOOM {
        paint_compact_badge(painter, zoom, card, live, visuals);
        return;
    }
    let pad = 8.0 * zoom;
    let colour = live.state.colour();
    let text_colour = visuals.text_color();
    let first = format!(
        "{} {}{}",
        live.state.icon(),
        live.state.word(),
        live.lines
            .first()
            .map(|l| format!(" · {l}"))
            .unwrap_or_default()
    );
    let mut lines = vec![(first, colour)];
    match &live.error {
        Some(error) => lines.push((error.clone(), ERROR_RED)),
        None => lines.extend(live.lines.iter().skip(1).map(|l| (l.clone(), text_colour))),
    }
    lines.truncate(2);
    let font = FontId::proportional(11.0 * zoom);
    let galleys: Vec<_> = lines
        .iter()
        .map(|(text, c)| painter.layout_no_wrap(text.clone(), font.clone(), *c))
        .collect();
    let widest = galleys.iter().map(|g| g.size().x).fold(0.0, f32::max);
    let width = card.width().max(widest + 2.0 * pad);
    let rect = Rect::from_min_size(
        pos2(card.min.x, card.max.y + 4.0 * zoom),
        vec2(width, BADGE_HEIGHT * zoom),
    );
    let fill = if visuals.dark_mode {
        Color32::from_rgb(0x22, 0x25, 0x2b)
    } else {
        Color32::from_rgb(0xf1, 0xf3, 0xf6)
    };
    let radius = (5.0 * zoom) as u8;
    painter.rect_filled(rect, radius, fill);
    painter.rect_stroke(
        rect,
        radius,
        Stroke::new(1.2, colour.gamma_multiply(0.8)),
        StrokeKind::Inside,
    );
    painter.rect_filled(
        Rect::from_min_size(rect.min, vec2(4.0 * zoom, rect.height())),
        radius,
        colour,
    );
    let row = rect.height() / 2.0;
    for (i, (galley, (_, c))) in galleys.into_iter().zip(&lines).enumerate() {
        let y = rect.min.y + row * (i as f32 + 0.5) - galley.size().y / 2.0;
        painter.galley(pos2(rect.min.x + pad, y), galley, *c);
    }
}

/// Below this zoom a badge is compact: one line, the state's icon and word, at a readable size.
pub const BADGE_TEXT_MIN_ZOOM: f32 = 0.45;

/// Below this zoom even the compact badge's word would crowd the cards: a dot of the state's
/// colour at the card's corner (the tooltip and the inspector have the numbers).
pub const BADGE_WORD_MIN_ZOOM: f32 = 0.2;

/// The smallest font a compact badge uses, in points: smaller is not read, only seen.
const COMPACT_FONT: f32 = 10.0;

/// A badge at low zoom: "✔ finished" (or "⚠ failed" in red) in a small pill under the card,
/// at a readable size, never an empty box; below `BADGE_WORD_MIN_ZOOM`, a coloured dot.
fn paint_compact_badge(
    painter: &Painter,
    zoom: f32,
    card: Rect,
    live: &LiveCard,
    visuals: &egui::Visuals,
) {
    let colour = if live.error.is_some() {
        ERROR_RED
    } else {
        live.state.colour()
    };
    if zoom < BADGE_WORD_MIN_ZOOM {
        let r = 3.5;
        painter.circle_filled(pos2(card.min.x + r + 1.0, card.max.y + r + 2.0), r, colour);
        return;
    }
    let text = format!("{} {}", live.state.icon(), live.state.word());
    let galley = painter.layout_no_wrap(text, FontId::proportional(COMPACT_FONT), colour);
    let pad = vec2(4.0, 1.5);
    let rect = Rect::from_min_size(
        pos2(card.min.x, card.max.y + 2.0),
        galley.size() + 2.0 * pad,
    );
    let fill = if visuals.dark_mode {
        Color32::from_rgb(0x22, 0x25, 0x2b)
    } else {
        Color32::from_rgb(0xf1, 0xf3, 0xf6)
    };
    painter.rect_filled(rect, 3.0, fill);
    painter.rect_stroke(rect, 3.0, Stroke::new(1.0, colour), StrokeKind::Inside);
    painter.galley(rect.min + pad, galley, colour);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_like_people_write_them() {
        assert_eq!(rate_text(950.0), "950/s");
        assert_eq!(rate_text(12_345.0), "12.3 k/s");
        assert_eq!(rate_text(4_100_000.0), "4.1 M/s");
    }

    #[test]
    fn back_pressure_goes_from_green_to_red() {
        let ok = backpressure_colour(0.0);
        let high = backpressure_colour(1.0);
        assert!(ok.g() > ok.r());
        assert!(high.r() > high.g());
        assert!(rate_width(2.0, 1e7) > rate_width(2.0, 10.0));
    }
}
