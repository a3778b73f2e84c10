//! The canvas camera: where canvas units land on screen, zooming around a point, fitting bounds.
//! Plain arithmetic on egui vectors; it never touches the document.

use egui::{Pos2, Rect, Vec2, vec2};

/// Smallest and largest zoom factors (screen points per canvas unit).
pub const MIN_ZOOM: f32 = 0.2;
pub const MAX_ZOOM: f32 = 3.0;
/// Zoom to Fit never magnifies beyond this, so a lone node does not fill the screen.
const MAX_FIT_ZOOM: f32 = 1.25;

/// Pan and zoom of the canvas, plus the screen rectangle it was last drawn in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CanvasView {
    /// Screen offset of canvas point (0, 0) from the top-left corner of `rect`.
    pub pan: Vec2,
    /// Screen points per canvas unit.
    pub zoom: f32,
    /// Where the canvas sits on screen (updated every frame).
    pub rect: Rect,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self {
            pan: vec2(40.0, 40.0),
            zoom: 1.0,
            rect: Rect::from_min_size(Pos2::ZERO, vec2(800.0, 600.0)),
        }
    }
}

impl CanvasView {
    pub fn to_screen(&self, canvas: Pos2) -> Pos2 {
        self.rect.min + self.pan + canvas.to_vec2() * self.zoom
    }

    pub fn to_canvas(&self, screen: Pos2) -> Pos2 {
        ((screen - self.rect.min - self.pan) / self.zoom).to_pos2()
    }

    pub fn rect_to_screen(&self, canvas: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(canvas.min), self.to_screen(canvas.max))
    }

    /// The canvas area currently visible.
    pub fn visible_canvas_rect(&self) -> Rect {
        Rect::from_min_max(self.to_canvas(self.rect.min), self.to_canvas(self.rect.max))
    }

    /// Multiplies the zoom by `factor`, keeping the canvas point under `screen_point` fixed.
    pub fn zoom_around(&mut self, screen_point: Pos2, factor: f32) {
        let anchor = self.to_canvas(screen_point);
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        self.pan = screen_point - self.rect.min - anchor.to_vec2() * self.zoom;
    }

    /// Zoom 100 %, keeping the centre of the screen where it is.
    pub fn reset_zoom(&mut self) {
        let centre = self.rect.center();
        self.zoom_around(centre, 1.0 / self.zoom);
    }

    /// Shows `bounds` (canvas units) whole and centred, with `margin_px` of air around it.
    pub fn fit(&mut self, bounds: Rect, margin_px: f32) {
        if !bounds.is_finite() || bounds.width() <= 0.0 || bounds.height() <= 0.0 {
            return;
        }
        let room = (self.rect.size() - Vec2::splat(2.0 * margin_px)).max(Vec2::splat(50.0));
        let zoom = (room.x / bounds.width()).min(room.y / bounds.height());
        self.zoom = zoom.clamp(MIN_ZOOM, MAX_FIT_ZOOM);
        self.pan = self.rect.size() / 2.0 - bounds.center().to_vec2() * self.zoom;
    }

    /// Pans so that the canvas point `target` sits in the middle of the screen.
    pub fn centre_on(&mut self, target: Pos2) {
        self.pan = self.rect.size() / 2.0 - target.to_vec2() * self.zoom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::pos2;

    #[test]
    fn zooming_keeps_the_point_under_the_pointer() {
        let mut view = CanvasView::default();
        let pointer = pos2(300.0, 200.0);
        let before = view.to_canvas(pointer);
        view.zoom_around(pointer, 1.7);
        let after = view.to_canvas(pointer);
        assert!((before - after).length() < 1e-3, "{before:?} vs {after:?}");
        assert!((view.zoom - 1.7).abs() < 1e-6);
    }

    #[test]
    fn fit_shows_the_whole_bounds() {
        let mut view = CanvasView::default();
        let bounds = Rect::from_min_max(pos2(0.0, 0.0), pos2(2000.0, 300.0));
        view.fit(bounds, 20.0);
        assert!(view.rect.contains_rect(view.rect_to_screen(bounds)));
    }
}
