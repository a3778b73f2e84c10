//! Painting of node and group cards with semantic zoom: close up a card shows its name, kind,
//! ports and parameters; zoomed out it drops the details first and draws its name at a
//! minimum screen size, so every card the app fits on screen stays labelled. Reads the
//! document and the run overlay; changes nothing.

use super::cards::{CardId, group_summary};
use super::layout::{CardLayout, PORT_RADIUS, param_summary};
use super::live::{LiveCard, LiveOverlay, LiveState, paint_badge};
use super::paint::Scene;
use super::style::{ERROR_RED, category_color, paint_port};
use super::view::CanvasView;
use crate::graph::{Graph, NodeId};
use egui::epaint::CornerRadius;
use egui::text::{LayoutJob, TextWrapping};
use egui::{Align2, Color32, FontId, Painter, Rect, Stroke, StrokeKind, Visuals, pos2, vec2};
use std::collections::BTreeSet;

/// From this zoom up, cards show their ports' names, kind and parameters.
pub const DETAIL_ZOOM: f32 = 0.6;
/// Card names are never drawn smaller than this (screen points).
pub const MIN_TITLE_PX: f32 = 11.0;
/// A group card's title strip: one colour for every group, so groups read as groups.
pub const GROUP_COLOUR: Color32 = Color32::from_rgb(0x5a, 0x6b, 0x8c);

/// What one card shows, whichever kind of card it is.
struct CardText {
    name: String,
    kind: String,
    summary: String,
    accent: Color32,
}

fn card_text(graph: &Graph, id: CardId, card: &CardLayout) -> Option<CardText> {
    match id {
        CardId::Node(node) => {
            let node = graph.node(node)?;
            Some(CardText {
                name: node.name.clone(),
                kind: card.spec.map_or("unknown kind", |s| s.title).to_owned(),
                summary: card
                    .spec
                    .map(|s| param_summary(node, s))
                    .unwrap_or_default(),
                accent: card.spec.map_or(ERROR_RED, |s| category_color(s.category)),
            })
        }
        CardId::Group(group) => {
            let group = graph.group(group)?;
            Some(CardText {
                name: group.name.clone(),
                kind: format!("group · {} nodes", group.nodes.len()),
                summary: group_summary(graph, group),
                accent: GROUP_COLOUR,
            })
        }
    }
}

/// The nodes a card stands for.
fn card_nodes(graph: &Graph, id: CardId) -> Vec<NodeId> {
    match id {
        CardId::Node(node) => vec![node],
        CardId::Group(group) => graph
            .group(group)
            .map(|g| g.nodes.clone())
            .unwrap_or_default(),
    }
}

/// A group's badge: the most pressing state of its nodes, and the numbers of the node behind
/// its first output (a network's last layer).
fn group_badge(live: &LiveOverlay, card: &CardLayout, nodes: &[NodeId]) -> Option<LiveCard> {
    let badges: Vec<&LiveCard> = nodes.iter().filter_map(|n| live.cards.get(n)).collect();
    let rank = |s: LiveState| match s {
        LiveState::Failed => 0,
        LiveState::Running => 1,
        LiveState::Paused => 2,
        LiveState::Stopped => 3,
        LiveState::Finished => 4,
    };
    let state = badges.iter().map(|b| b.state).min_by_key(|s| rank(*s))?;
    let face = card
        .ports
        .iter()
        .find(|a| a.output)
        .and_then(|a| live.cards.get(&a.node))
        .or(badges.last().copied())?;
    Some(LiveCard {
        state,
        lines: face.lines.clone(),
        error: badges.iter().find_map(|b| b.error.clone()),
    })
}

/// The badge a card carries during and after a run.
pub fn card_badge(scene: &Scene<'_>, id: CardId, card: &CardLayout) -> Option<LiveCard> {
    let live = scene.live?;
    match id {
        CardId::Node(node) => live.cards.get(&node).cloned(),
        CardId::Group(_) => group_badge(live, card, &card_nodes(scene.graph, id)),
    }
}

pub fn cards(painter: &Painter, scene: &Scene<'_>, problems: &BTreeSet<NodeId>) {
    let visible = scene.view.rect.expand(20.0);
    for (id, card) in &scene.layouts.cards {
        let rect = scene.view.rect_to_screen(card.rect);
        if !visible.intersects(rect) {
            continue;
        }
        let Some(text) = card_text(scene.graph, *id, card) else {
            continue;
        };
        let state = CardState {
            selected: scene.selection.contains(*id),
            has_problem: card_nodes(scene.graph, *id)
                .iter()
                .any(|n| problems.contains(n)),
            group: matches!(id, CardId::Group(_)),
        };
        paint_card(painter, scene.view, &text, card, rect, state, scene.visuals);
        if let Some(badge) = card_badge(scene, *id, card) {
            paint_badge(painter, scene.view, rect, &badge, scene.visuals);
        }
    }
}

#[derive(Clone, Copy)]
struct CardState {
    selected: bool,
    has_problem: bool,
    group: bool,
}

fn paint_card(
    painter: &Painter,
    view: &CanvasView,
    text: &CardText,
    card: &CardLayout,
    rect: Rect,
    state: CardState,
    visuals: &Visuals,
) {
    let zoom = view.zoom;
    let radius = (6.0 * zoom) as u8;
    let fill = card_fill(visuals);
    let shadow = Color32::from_black_alpha(if visuals.dark_mode { 90 } else { 30 });
    if state.group {
        // A second card peeking out behind: this card holds several nodes.
        let behind = rect.translate(vec2(5.0, -5.0) * zoom.max(0.5));
        painter.rect_filled(behind, radius, fill.gamma_multiply(0.8));
        painter.rect_stroke(
            behind,
            radius,
            Stroke::new(1.0, text.accent),
            StrokeKind::Outside,
        );
    }
    painter.rect_filled(
        rect.translate(vec2(2.0, 3.0) * zoom.min(1.0)),
        radius,
        shadow,
    );
    painter.rect_filled(rect, radius, fill);
    let title = view.rect_to_screen(card.title_rect());
    painter.rect_filled(
        title,
        CornerRadius {
            nw: radius,
            ne: radius,
            sw: 0,
            se: 0,
        },
        text.accent,
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
    if zoom < DETAIL_ZOOM {
        overview_title(painter, &text.name, rect, title, fill);
        return;
    }
    detail_text(painter, view, text, card, rect, title, visuals);
}

fn card_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x2b, 0x2e, 0x35)
    } else {
        Color32::from_rgb(0xfb, 0xfb, 0xfc)
    }
}

/// Zoomed out: only the name, never smaller than `MIN_TITLE_PX`, on the title strip when it
/// fits there, else on a plate over the card (wider than the card if it must be).
fn overview_title(painter: &Painter, name: &str, rect: Rect, title: Rect, fill: Color32) {
    let size = (13.5 * rect.width() / super::layout::NODE_WIDTH).max(MIN_TITLE_PX);
    let galley =
        painter.layout_no_wrap(name.to_owned(), FontId::proportional(size), Color32::WHITE);
    let fits_strip =
        galley.size().y <= title.height() + 1.0 && galley.size().x <= title.width() - 6.0;
    if fits_strip {
        let pos = Align2::CENTER_CENTER
            .anchor_size(title.center(), galley.size())
            .min;
        painter.galley(pos, galley, Color32::WHITE);
        return;
    }
    let plate = Align2::CENTER_CENTER
        .anchor_size(rect.center(), galley.size())
        .expand2(vec2(4.0, 1.0));
    painter.rect_filled(plate, 3.0, fill.gamma_multiply(0.92));
    let colour = if fill.r() < 128 {
        Color32::WHITE
    } else {
        Color32::BLACK
    };
    painter.galley(plate.min + vec2(4.0, 1.0), galley, colour);
}

/// Close up: the name and kind on the title strip, port names, the parameter summary.
fn detail_text(
    painter: &Painter,
    view: &CanvasView,
    text: &CardText,
    card: &CardLayout,
    rect: Rect,
    title: Rect,
    visuals: &Visuals,
) {
    let zoom = view.zoom;
    let pad = 8.0 * zoom;
    let title_font = FontId::proportional((13.5 * zoom).max(MIN_TITLE_PX));
    let name = one_line(
        painter,
        &text.name,
        title_font,
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
            &text.kind,
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
    let colour = visuals.text_color();
    let half = (rect.width() / 2.0 - 2.0 * pad).max(10.0);
    for anchor in &card.ports {
        let at = view.to_screen(anchor.pos);
        let (x, align) = if anchor.output {
            (at.x - pad - 2.0 * zoom, Align2::RIGHT_CENTER)
        } else {
            (at.x + pad + 2.0 * zoom, Align2::LEFT_CENTER)
        };
        let label = one_line(painter, &anchor.label, port_font.clone(), colour, half);
        let pos = align.anchor_size(pos2(x, at.y), label.size()).min;
        painter.galley(pos, label, colour);
    }
    if text.summary.is_empty() {
        return;
    }
    let summary = view.rect_to_screen(card.summary_rect());
    let galley = one_line(
        painter,
        &text.summary,
        FontId::proportional(11.0 * zoom),
        visuals.weak_text_color(),
        summary.width() - 2.0 * pad,
    );
    let y = summary.center().y - galley.size().y / 2.0;
    painter.galley(pos2(summary.min.x + pad, y), galley, colour);
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

/// Text on one line, cut with an ellipsis at `max_width` (the full text shows on hover).
pub fn one_line(
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

/// The hover text of a card: everything its face may have cut short.
pub fn card_tooltip(scene: &Scene<'_>, id: CardId) -> Option<String> {
    let card = scene.layouts.of_card(id)?;
    let text = card_text(scene.graph, id, card)?;
    let mut lines = vec![format!("{} — {}", text.name, text.kind)];
    if !text.summary.is_empty() {
        lines.push(text.summary);
    }
    if let Some(badge) = card_badge(scene, id, card) {
        lines.push(format!("{} {}", badge.state.icon(), badge.state.word()));
        lines.extend(badge.lines);
        lines.extend(badge.error);
    }
    if matches!(id, CardId::Group(_)) {
        lines.push("Double-click to open; right-click to ungroup.".to_owned());
    }
    Some(lines.join("\n"))
}
