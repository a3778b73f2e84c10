//! Line charts rasterized to PNG for reports, without a window or a GPU: tiny-skia draws the
//! anti-aliased lines, ab_glyph the text with the font egui also ships (so a report looks the
//! same on any machine, with no system fonts needed).

use super::results::SeriesData;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use tiny_skia::{Paint, PathBuilder, Pixmap, PremultipliedColorU8, Rect, Stroke, Transform};

/// What to draw.
pub struct ChartSpec<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub series: &'a [SeriesData],
    pub width: u32,
    pub height: u32,
}

/// Series colours (matplotlib's tab10): distinct for the few curves of one chart.
const PALETTE: [[u8; 3]; 6] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
];
const TEXT: [u8; 3] = [40, 40, 40];
const GRID: [u8; 3] = [228, 228, 228];
const FRAME: [u8; 3] = [160, 160, 160];

const LEFT: f32 = 64.0;
const RIGHT: f32 = 16.0;
const TOP: f32 = 44.0;
const BOTTOM: f32 = 42.0;

/// Renders the chart as PNG bytes. Non-finite points are skipped; an empty chart says so.
pub fn render_chart_png(spec: &ChartSpec) -> Result<Vec<u8>, String> {
    let mut pixmap =
        Pixmap::new(spec.width.max(200), spec.height.max(120)).ok_or("chart size out of range")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let font = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|e| format!("font: {e}"))?;
    let mut canvas = Canvas {
        pixmap: &mut pixmap,
        font,
    };
    let (w, h) = (canvas.pixmap.width() as f32, canvas.pixmap.height() as f32);
    if !spec.title.is_empty() {
        canvas.text(spec.title, LEFT, 20.0, 15.0, TEXT, 0.0);
    }
    let area = Rect::from_ltrb(LEFT, TOP, w - RIGHT, h - BOTTOM).ok_or("chart too small")?;
    let points = || {
        spec.series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (Some(x_range), Some(y_range)) = (
        Range::of(points().map(|p| p.0)),
        Range::of(points().map(|p| p.1)),
    ) else {
        canvas.text("no data to draw", w / 2.0, h / 2.0, 13.0, FRAME, 0.5);
        return canvas.pixmap.encode_png().map_err(|e| e.to_string());
    };
    let y_range = y_range.padded(0.05);
    let to_px = |x: f32, y: f32| {
        (
            area.left() + x_range.fraction(x) * area.width(),
            area.bottom() - y_range.fraction(y) * area.height(),
        )
    };

    for tick in y_range.ticks(5) {
        let (_, py) = to_px(x_range.lo, tick);
        let py = py.round() + 0.5;
        canvas.line(&[(area.left(), py), (area.right(), py)], GRID, 1.0);
        let label = tick_label(tick, y_range.step(5));
        canvas.text(&label, area.left() - 6.0, py + 4.0, 11.0, TEXT, 1.0);
    }
    for tick in x_range.ticks(6) {
        let (px, _) = to_px(tick, y_range.lo);
        let px = px.round() + 0.5;
        canvas.line(&[(px, area.top()), (px, area.bottom())], GRID, 1.0);
        let label = tick_label(tick, x_range.step(6));
        canvas.text(&label, px, area.bottom() + 15.0, 11.0, TEXT, 0.5);
    }
    canvas.text(
        spec.x_label,
        (area.left() + area.right()) / 2.0,
        h - 8.0,
        12.0,
        TEXT,
        0.5,
    );
    let frame = [
        (area.left(), area.top()),
        (area.right(), area.top()),
        (area.right(), area.bottom()),
        (area.left(), area.bottom()),
        (area.left(), area.top()),
    ];
    canvas.line(&frame, FRAME, 1.0);

    let mut legend_x = w - RIGHT;
    for (i, series) in spec.series.iter().enumerate().rev() {
        let colour = PALETTE[i % PALETTE.len()];
        let text_width = canvas.text_width(&series.name, 12.0);
        legend_x -= text_width;
        canvas.text(&series.name, legend_x, 20.0, 12.0, TEXT, 0.0);
        canvas.line(
            &[(legend_x - 22.0, 16.0), (legend_x - 6.0, 16.0)],
            colour,
            2.5,
        );
        legend_x -= 34.0;
    }
    for (i, series) in spec.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let pixels: Vec<(f32, f32)> = series
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| to_px(x, y))
            .collect();
        if pixels.len() == 1 {
            let (x, y) = pixels[0];
            canvas.line(&[(x - 2.0, y), (x + 2.0, y)], colour, 4.0);
        }
        canvas.line(&pixels, colour, 1.6);
    }
    canvas.pixmap.encode_png().map_err(|e| e.to_string())
}

/// A value range on one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Range {
    lo: f32,
    hi: f32,
}

impl Range {
    fn of(values: impl Iterator<Item = f32>) -> Option<Self> {
        let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if lo > hi || !(hi - lo).is_finite() {
            return None;
        }
        // Equal, or too close to tell apart in f32: centre the values in a visible range.
        if hi - lo <= hi.abs().max(lo.abs()) * 1e-6 || hi - lo < 1e-30 {
            let half = if lo.abs() > 1e-20 {
                lo.abs() * 0.1
            } else {
                1.0
            };
            return Some(Self {
                lo: lo - half,
                hi: hi + half,
            });
        }
        Some(Self { lo, hi })
    }

    fn padded(self, fraction: f32) -> Self {
        let pad = (self.hi - self.lo) * fraction;
        Self {
            lo: self.lo - pad,
            hi: self.hi + pad,
        }
    }

    fn fraction(self, v: f32) -> f32 {
        (v - self.lo) / (self.hi - self.lo)
    }

    /// A 1, 2 or 5 × 10ⁿ step giving about `target` ticks.
    /// 0 when the range is too degenerate for ticks.
    fn step(self, target: usize) -> f32 {
        let raw = (self.hi - self.lo) / target as f32;
        if !(raw.is_finite() && raw > 0.0) {
            return 0.0;
        }
        let magnitude = 10f32.powf(raw.log10().floor());
        let nice = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .find(|m| m * magnitude >= raw)
            .unwrap_or(10.0);
        let step = nice * magnitude;
        if step.is_finite() && step > 0.0 {
            step
        } else {
            0.0
        }
    }

    fn ticks(self, target: usize) -> Vec<f32> {
        let step = self.step(target);
        if step == 0.0 {
            return Vec::new();
        }
        let first = (self.lo / step).ceil();
        let last = (self.hi / step).floor();
        if !(first.is_finite() && last.is_finite()) || last - first > 4.0 * target as f32 {
            return Vec::new();
        }
        (first as i64..=last as i64)
            .map(|i| i as f32 * step)
            .collect()
    }
}

/// A tick value with as many decimals as its step needs (`0.25`, `1500`, `2.5e6`).
fn tick_label(value: f32, step: f32) -> String {
    let value = if value.abs() < step * 1e-3 {
        0.0
    } else {
        value
    };
    if value.abs() >= 1e6 {
        return format!("{value:.1e}");
    }
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{value:.decimals$}")
}

struct Canvas<'a> {
    pixmap: &'a mut Pixmap,
    font: FontRef<'static>,
}

impl Canvas<'_> {
    fn line(&mut self, points: &[(f32, f32)], colour: [u8; 3], width: f32) {
        let mut path = PathBuilder::new();
        let Some(&(x0, y0)) = points.first() else {
            return;
        };
        path.move_to(x0, y0);
        for &(x, y) in &points[1..] {
            path.line_to(x, y);
        }
        let Some(path) = path.finish() else {
            return;
        };
        let mut paint = Paint::default();
        paint.set_color_rgba8(colour[0], colour[1], colour[2], 255);
        paint.anti_alias = true;
        let stroke = Stroke {
            width,
            line_join: tiny_skia::LineJoin::Round,
            ..Stroke::default()
        };
        self.pixmap
            .stroke_path(&path, &paint, &stroke, Transform::identity(), None);
    }

    fn text_width(&self, text: &str, size: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(size));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Draws `text` with its baseline at `y`; `align` 0 = starts at x, 0.5 = centred, 1 = ends.
    fn text(&mut self, text: &str, x: f32, y: f32, size: f32, colour: [u8; 3], align: f32) {
        let scale = PxScale::from(size);
        let scaled = self.font.as_scaled(scale);
        let mut caret = x - align * self.text_width(text, size);
        let mut previous = None;
        let (width, height) = (self.pixmap.width() as i32, self.pixmap.height() as i32);
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                caret += scaled.kern(p, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(scale, point(caret, y));
            caret += scaled.h_advance(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let pixels = self.pixmap.pixels_mut();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i32 + gx as i32;
                let py = bounds.min.y as i32 + gy as i32;
                if px < 0 || py < 0 || px >= width || py >= height {
                    return;
                }
                let at = (py * width + px) as usize;
                let old = pixels[at];
                let mix = |o: u8, c: u8| {
                    (f32::from(o) * (1.0 - coverage) + f32::from(c) * coverage).round() as u8
                };
                if let Some(new) = PremultipliedColorU8::from_rgba(
                    mix(old.red(), colour[0]),
                    mix(old.green(), colour[1]),
                    mix(old.blue(), colour[2]),
                    255,
                ) {
                    pixels[at] = new;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        let r = Range { lo: 0.03, hi: 2.4 };
        assert_eq!(r.step(5), 0.5);
        assert_eq!(r.ticks(5), vec![0.5, 1.0, 1.5, 2.0]);
        assert_eq!(tick_label(1.5, 0.5), "1.5");
        assert_eq!(tick_label(1500.0, 500.0), "1500");
        assert_eq!(tick_label(0.025, 0.005), "0.025");
        assert_eq!(
            Range::of([3.0f32].into_iter()),
            Some(Range { lo: 2.7, hi: 3.3 })
        );
    }

    #[test]
    fn degenerate_and_extreme_values_draw_without_panicking() {
        let cases: [&[(f32, f32)]; 5] = [
            &[(0.0, 0.0), (1.0, 1.4e-45)],
            &[(0.0, 3e38), (1.0, -3e38)],
            &[(0.0, f32::NAN), (1.0, f32::INFINITY)],
            &[(5.0, 1e-9), (5.0, 1e-9)],
            &[],
        ];
        for points in cases {
            let series = [SeriesData {
                name: "x".into(),
                points: points.to_vec(),
            }];
            let png = render_chart_png(&ChartSpec {
                title: "t",
                x_label: "step",
                series: &series,
                width: 300,
                height: 160,
            });
            assert!(png.is_ok(), "{points:?}");
        }
    }

    #[test]
    fn a_chart_is_a_png_with_the_curve_in_its_colour() {
        let series = [SeriesData::thinned(
            "loss",
            &(0..100)
                .map(|i| [f64::from(i), (-f64::from(i) / 20.0).exp()])
                .collect::<Vec<_>>(),
        )];
        let png = render_chart_png(&ChartSpec {
            title: "trainer: loss",
            x_label: "step",
            series: &series,
            width: 480,
            height: 240,
        })
        .unwrap();
        let pixmap = Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (480, 240));
        let blue = pixmap
            .pixels()
            .iter()
            .filter(|p| (p.red(), p.green(), p.blue()) == (31, 119, 180))
            .count();
        assert!(blue > 300, "the curve is drawn: {blue} pixels");
        let grey_ink = |p: &&PremultipliedColorU8| {
            let (lo, hi) = (
                p.red().min(p.green()).min(p.blue()),
                p.red().max(p.green()).max(p.blue()),
            );
            hi < 170 && hi - lo < 25
        };
        let dark_text = pixmap.pixels().iter().filter(grey_ink).count();
        assert!(dark_text > 200, "labels are drawn: {dark_text} pixels");
    }
}
