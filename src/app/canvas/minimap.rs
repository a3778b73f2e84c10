//! The minimap: the whole graph in a corner with the visible area outlined; clicking or
//! dragging in it moves the view there. It shows only when part of the graph is out of view,
//! in the corner that covers no card; when every corner would cover one, it stays hidden.
//! View state only.

use super::{CanvasView, Layouts};
use egui::{Rect, Sense, Stroke, StrokeKind, Ui, vec2};

const SIZE_PX: egui::Vec2 = vec2(180.0, 110.0);
const MARGIN_PX: f32 = 10.0;

/// Where the minimap goes, if anywhere: a corner of the canvas clear of every card (and of
/// the cards' live badges), tried bottom-right first.
pub fn minimap_place(view: &CanvasView, layouts: &Layouts) -> Option<Rect> {
    let bounds = layouts.bounds()?;
    if view.rect.width() < SIZE_PX.x * 2.5 || view.rect.height() < SIZE_PX.y * 2.5 {
        return None;
    }
    if view.visible_canvas_rect().contains_rect(bounds) {
        return None; // everything is in view: nothing to navigate to
    }
    let inner = view.rect.shrink(MARGIN_PX);
    let corners = [
        inner.max - SIZE_PX,
        egui::pos2(inner.min.x, inner.max.y - SIZE_PX.y),
        egui::pos2(inner.max.x - SIZE_PX.x, inner.min.y),
        inner.min,
    ];
    let badge = vec2(0.0, super::live::BADGE_HEIGHT + 6.0);
    let cards: Vec<Rect> = layouts
        .cards
        .iter()
        .map(|(_, c)| view.rect_to_screen(Rect::from_min_max(c.rect.min, c.rect.max + badge)))
        .collect();
    corners
        .into_iter()
        .map(|min| Rect::from_min_size(min, SIZE_PX))
        .find(|area| cards.iter().all(|c| !c.intersects(area.expand(4.0))))
}

pub fn minimap_ui(ui: &mut Ui, view: &mut CanvasView, layouts: &Layouts) -> Option<Rect> {
    let bounds = layouts.bounds()?;
    let area = minimap_place(view, layouts)?;
    let world = bounds.union(view.visible_canvas_rect()).expand(40.0);
    let scale = (area.width() / world.width()).min(area.height() / world.height());
    let offset = area.center() - world.center().to_vec2() * scale;
    let to_map = |r: Rect| {
        Rect::from_min_max(
            offset + r.min.to_vec2() * scale,
            offset + r.max.to_vec2() * scale,
        )
    };
    let response = ui.interact(
        area,
        egui::Id::unique("flowbook-minimap"),
        Sense::click_and_drag(),
    );
    let painter = ui.painter_at(area);
    let visuals = ui.visuals();
    painter.rect_filled(area, 4.0, visuals.window_fill.gamma_multiply(0.92));
    painter.rect_stroke(
        area,
        4.0,
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
        StrokeKind::Inside,
    );
    for (_, card) in &layouts.cards {
        let colour = match (card.group, card.spec) {
            (Some(_), _) => super::card_paint::GROUP_COLOUR,
            (None, Some(s)) => super::style::category_color(s.category),
            (None, None) => super::style::ERROR_RED,
        };
        painter.rect_filled(to_map(card.rect), 1.0, colour);
    }
    painter.rect_stroke(
        to_map(view.visible_canvas_rect()),
        1.0,
        Stroke::new(1.5, visuals.selection.stroke.color),
        StrokeKind::Inside,
    );
    if (response.clicked() || response.dragged())
        && let Some(p) = response.interact_pointer_pos()
    {
        let target = ((p - offset) / scale).to_pos2();
        view.centre_on(target);
    }
    Some(area)
}
