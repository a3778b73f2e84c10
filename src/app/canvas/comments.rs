//! Comment cards: markdown notes placed on the canvas behind the nodes, rendered with
//! egui_commonmark and scaled with the zoom. Drawing and hit tests only; edits of their text
//! happen in the inspector and arrive as commands.

use super::CanvasView;
use super::interact::Hit;
use crate::app::command::Selection;
use crate::graph::Graph;
use egui::{Color32, Pos2, Rect, Stroke, StrokeKind, Ui, UiBuilder, pos2, vec2};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

/// Size of the resize handle in the bottom-right corner, in screen points.
const HANDLE_PX: f32 = 14.0;

fn card_rect(pos: [f32; 2], size: [f32; 2]) -> Rect {
    Rect::from_min_size(pos2(pos[0], pos[1]), vec2(size[0], size[1]))
}

/// The area all comments cover, if any.
pub fn bounds(graph: &Graph) -> Option<Rect> {
    graph
        .comments
        .iter()
        .map(|c| card_rect(c.pos, c.size))
        .reduce(|a, b| a.union(b))
}

/// The comment (or its resize handle) at canvas point `p`, topmost first; else `Hit::Empty`.
pub fn hit_test(graph: &Graph, p: Pos2, zoom: f32) -> Hit {
    for (i, c) in graph.comments.iter().enumerate().rev() {
        let rect = card_rect(c.pos, c.size);
        if !rect.contains(p) {
            continue;
        }
        let handle = HANDLE_PX / zoom;
        if p.x > rect.max.x - handle && p.y > rect.max.y - handle {
            return Hit::CommentResize(i);
        }
        return Hit::Comment(i);
    }
    Hit::Empty
}

pub fn comments_ui(
    ui: &mut Ui,
    view: &CanvasView,
    graph: &Graph,
    selection: &Selection,
    markdown: &mut CommonMarkCache,
) {
    let dark = ui.visuals().dark_mode;
    let (fill, border) = if dark {
        (
            Color32::from_rgb(0x3a, 0x37, 0x2a),
            Color32::from_rgb(0x6b, 0x63, 0x3c),
        )
    } else {
        (
            Color32::from_rgb(0xff, 0xf6, 0xc8),
            Color32::from_rgb(0xd9, 0xc7, 0x6a),
        )
    };
    let visible = view.rect;
    for (i, comment) in graph.comments.iter().enumerate() {
        let rect = view.rect_to_screen(card_rect(comment.pos, comment.size));
        if !visible.intersects(rect) {
            continue;
        }
        let painter = ui.painter_at(visible);
        let radius = (4.0 * view.zoom) as u8;
        painter.rect_filled(rect, radius, fill);
        let outline = if selection.comments.contains(&i) {
            Stroke::new(2.0, ui.visuals().selection.stroke.color)
        } else {
            Stroke::new(1.0, border)
        };
        painter.rect_stroke(rect, radius, outline, StrokeKind::Inside);
        let corner = rect.max;
        painter.line_segment(
            [corner - vec2(HANDLE_PX, 3.0), corner - vec2(3.0, HANDLE_PX)],
            Stroke::new(1.0, border),
        );
        painter.line_segment(
            [
                corner - vec2(HANDLE_PX * 0.55, 3.0),
                corner - vec2(3.0, HANDLE_PX * 0.55),
            ],
            Stroke::new(1.0, border),
        );
        if view.zoom < 0.35 {
            continue;
        }
        let inner = rect.shrink(8.0 * view.zoom);
        let mut child = ui.new_child(UiBuilder::new().max_rect(inner).id_salt(("comment", i)));
        child.set_clip_rect(inner.intersect(visible));
        let style = child.style_mut();
        style.interaction.selectable_labels = false;
        for font in style.text_styles.values_mut() {
            font.size *= view.zoom;
        }
        style.spacing.item_spacing *= view.zoom;
        if dark {
            style.visuals.override_text_color = Some(Color32::from_rgb(0xe8, 0xe2, 0xc8));
        } else {
            style.visuals.override_text_color = Some(Color32::from_rgb(0x40, 0x3a, 0x20));
        }
        CommonMarkViewer::new().show(&mut child, markdown, &comment.text);
    }
}
