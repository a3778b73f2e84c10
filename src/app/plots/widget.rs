//! The plot widget: a toolbar (smoothing, log y, raw, export) over an egui_plot with zoom,
//! pan, hover values and a click-to-toggle legend. It draws at most ~2 points per pixel column
//! per line, and keeps smoothed/log copies in egui's temp memory so a frame only processes the
//! points appended since the last one. It never writes files itself: it returns requests.

use super::model::{BandPoint, PlotView, band_for_view};
use super::series::Series;
use super::transform::{DerivedSeries, MAX_SMOOTHING, Stage};
use egui::{Align2, Color32, FontId, Rect, Ui, pos2};
use egui_plot::{
    Bar, BarChart, ColorConflictHandling, Corner, FilledArea, GridMark, HoverPosition, Legend,
    Line, LineStyle, Plot, PlotTransform, PlotUi, VLine,
};
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Smallest plot area below the toolbar, in points.
const MIN_PLOT_HEIGHT: f32 = 80.0;

/// A plot's user settings, saved with the app's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PlotSettings {
    /// EMA weight in `0..=0.999`; 0 draws the raw values only.
    pub smoothing: f32,
    pub log_y: bool,
    /// With smoothing on, also draw the raw values, faded.
    pub show_raw: bool,
    pub show_markers: bool,
    /// Draw earlier runs behind the current one.
    pub show_overlays: bool,
}

impl Default for PlotSettings {
    /// TensorBoard's defaults: smoothing 0.6 with the raw curve faded behind.
    fn default() -> Self {
        Self {
            smoothing: 0.6,
            log_y: false,
            show_raw: true,
            show_markers: true,
            show_overlays: true,
        }
    }
}

/// What happened in the plot this frame. Export buttons only ask: the caller picks the path
/// (e.g. with a file dialog) and then calls `PlotView::export_csv` or `PngExport::request`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotResponse {
    pub export_csv: bool,
    pub save_png: bool,
    /// The whole widget, toolbar included.
    pub rect: Rect,
    /// The plot area with its axes: what "Save PNG" should capture.
    pub plot_rect: Rect,
    /// Data coordinates under the pointer (y in data units, also on a log axis).
    pub hovered: Option<[f64; 2]>,
    /// The settings were changed through the toolbar this frame.
    pub settings_changed: bool,
}

/// Shows one plot: toolbar on top, the plot filling the rest of the available space.
/// `id` must be unique among the plots on screen.
pub fn plot_ui(
    ui: &mut Ui,
    id: &str,
    view: &PlotView<'_>,
    settings: &mut PlotSettings,
) -> PlotResponse {
    ui.push_id(id, |ui| {
        let inner = ui.vertical(|ui| plot_body_ui(ui, view, settings));
        PlotResponse {
            rect: inner.response.rect,
            ..inner.inner
        }
    })
    .inner
}

fn plot_body_ui(ui: &mut Ui, view: &PlotView<'_>, settings: &mut PlotSettings) -> PlotResponse {
    let before = settings.clone();
    let (export_csv, save_png) = toolbar_ui(ui, view, settings);
    settings.smoothing = settings.smoothing.clamp(0.0, MAX_SMOOTHING as f32);

    let cache_id = ui.scope_id().with("derived_series");
    let mut cache: PlotCache = ui.data_mut(|d| std::mem::take(d.get_temp_mut_or_default(cache_id)));
    let drawn = settings.clone();
    let log_y = settings.log_y;
    let mut plot = Plot::new("plot")
        .height(ui.available_height().max(MIN_PLOT_HEIGHT))
        .legend(
            Legend::default()
                .position(Corner::RightTop)
                .color_conflict_handling(ColorConflictHandling::PickLast),
        )
        .x_axis_label(view.x_label.as_str())
        .y_axis_label(view.y_label.as_str())
        .label_formatter(move |pos| Some(hover_label(pos, log_y)));
    if log_y {
        plot = plot.y_axis_formatter(log_tick_label);
    } else {
        for y in &view.include_y {
            plot = plot.include_y(*y);
        }
    }
    // The scope's rect covers the axes too, which `Save PNG` should capture.
    let scoped =
        ui.scope(|ui| plot.show(ui, |plot_ui| add_items(plot_ui, view, &drawn, &mut cache)));
    let shown = scoped.inner;
    ui.data_mut(|d| d.insert_temp(cache_id, cache.finish_frame()));

    if settings.show_markers {
        paint_marker_labels(ui, &shown.transform, view);
    }
    let hovered = shown.response.hover_pos().map(|p| {
        let v = shown.transform.value_from_position(p);
        [v.x, if log_y { 10f64.powf(v.y) } else { v.y }]
    });
    PlotResponse {
        export_csv,
        save_png,
        rect: scoped.response.rect,
        plot_rect: scoped.response.rect,
        hovered,
        settings_changed: *settings != before,
    }
}

/// Title, smoothing slider, toggles and export buttons; returns (export CSV, save PNG) clicks.
fn toolbar_ui(ui: &mut Ui, view: &PlotView<'_>, settings: &mut PlotSettings) -> (bool, bool) {
    ui.horizontal_wrapped(|ui| {
        if !view.title.is_empty() {
            ui.strong(view.title.as_str());
            ui.separator();
        }
        ui.add(
            egui::Slider::new(&mut settings.smoothing, 0.0..=MAX_SMOOTHING as f32)
                .text("Smoothing")
                .fixed_decimals(3),
        )
        .on_hover_text("Exponential moving average weight, as in TensorBoard");
        ui.checkbox(&mut settings.log_y, "Log y")
            .on_hover_text("Log-scale y axis; zero and negative values are not drawn");
        ui.add_enabled(
            settings.smoothing > 0.0,
            egui::Checkbox::new(&mut settings.show_raw, "Show raw"),
        );
        if !view.markers.is_empty() {
            ui.checkbox(&mut settings.show_markers, "Markers");
        }
        if !view.overlays.is_empty() {
            ui.checkbox(&mut settings.show_overlays, "Earlier runs");
        }
        let csv = ui.button("Export CSV").clicked();
        let png = ui.button("Save PNG").clicked();
        (csv, png)
    })
    .inner
}

/// Which line a cache entry belongs to: the current run (`None`) or an overlay, and the index.
type CacheKey = (Option<usize>, usize);

/// Smoothed and log copies of one source series.
#[derive(Clone, Default)]
struct LineCache {
    smoothed: DerivedSeries,
    log_raw: DerivedSeries,
    log_smoothed: DerivedSeries,
}

/// Derived series of one plot, kept between frames; entries not drawn in a frame are dropped.
#[derive(Clone, Default)]
struct PlotCache {
    previous: HashMap<CacheKey, LineCache>,
    current: HashMap<CacheKey, LineCache>,
}

impl PlotCache {
    fn line(&mut self, key: CacheKey) -> &mut LineCache {
        let previous = &mut self.previous;
        self.current
            .entry(key)
            .or_insert_with(|| previous.remove(&key).unwrap_or_default())
    }

    fn finish_frame(self) -> Self {
        Self {
            previous: self.current,
            current: HashMap::new(),
        }
    }
}

/// The raw and smoothed versions of a series as drawn (log10 applied when asked).
fn drawn_series<'s>(
    cache: &'s mut LineCache,
    source: &'s Series,
    settings: &PlotSettings,
) -> (&'s Series, Option<&'s Series>) {
    let LineCache {
        smoothed,
        log_raw,
        log_smoothed,
    } = cache;
    let smoothed = (settings.smoothing > 0.0)
        .then(|| smoothed.update(source, Stage::Ema(f64::from(settings.smoothing))));
    if settings.log_y {
        let raw = log_raw.update(source, Stage::Log10);
        (raw, smoothed.map(|s| log_smoothed.update(s, Stage::Log10)))
    } else {
        (source, smoothed)
    }
}

/// The x range to draw: the last frame's view, or everything while the plot auto-fits.
struct ViewWindow {
    x: Option<(f64, f64)>,
    columns: usize,
}

impl ViewWindow {
    fn of(plot_ui: &PlotUi<'_>) -> Self {
        let bounds = plot_ui.plot_bounds();
        let follow_data = plot_ui.auto_bounds().x || !bounds.is_valid_x();
        let width_px = plot_ui.transform().frame().width() * plot_ui.ctx().pixels_per_point();
        Self {
            x: (!follow_data).then(|| (bounds.min()[0], bounds.max()[0])),
            columns: width_px.round().max(1.0) as usize,
        }
    }

    fn points(&self, series: &Series) -> Vec<[f64; 2]> {
        match self.x.or_else(|| series.x_range()) {
            Some((lo, hi)) => series.downsample_for_view(lo, hi, self.columns),
            None => Vec::new(),
        }
    }

    fn band(&self, points: &[BandPoint]) -> Vec<BandPoint> {
        let all = || Some((points.first()?.x, points.last()?.x));
        match self.x.or_else(all) {
            Some((lo, hi)) => band_for_view(points, lo, hi, self.columns),
            None => Vec::new(),
        }
    }
}

/// Tableau's ten colours, which stay distinguishable on light and dark backgrounds.
const PALETTE: [Color32; 10] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
];

fn palette(i: usize) -> Color32 {
    PALETTE
        .get(i % PALETTE.len())
        .copied()
        .unwrap_or(Color32::GRAY)
}

fn add_items(
    plot_ui: &mut PlotUi<'_>,
    view: &PlotView<'_>,
    settings: &PlotSettings,
    cache: &mut PlotCache,
) {
    let window = ViewWindow::of(plot_ui);
    if settings.show_overlays {
        for (k, overlay) in view.overlays.iter().enumerate() {
            for (i, source) in overlay.series.iter().enumerate() {
                let (raw, smoothed) = drawn_series(cache.line((Some(k), i)), source, settings);
                let name = format!("{} · {}", overlay.label, source.name());
                plot_ui.line(
                    Line::new(name, window.points(smoothed.unwrap_or(raw)))
                        .color(palette(i).gamma_multiply(0.35))
                        .width(1.0),
                );
            }
        }
    }
    for (i, source) in view.series.iter().enumerate() {
        let color = palette(i);
        let (raw, smoothed) = drawn_series(cache.line((None, i)), source, settings);
        match smoothed {
            Some(smoothed) => {
                if settings.show_raw {
                    plot_ui.line(
                        Line::new(source.name(), window.points(raw))
                            .color(color.gamma_multiply(0.3))
                            .width(1.0),
                    );
                }
                plot_ui.line(Line::new(source.name(), window.points(smoothed)).color(color));
            }
            None => plot_ui.line(Line::new(source.name(), window.points(raw)).color(color)),
        }
    }
    let first_free_colour = view.series.len();
    for (j, band) in view.bands.iter().enumerate() {
        add_band(
            plot_ui,
            &band.name,
            &window.band(&band.points),
            settings.log_y,
            palette(first_free_colour + j),
        );
    }
    for (j, bars) in view.bars.iter().enumerate() {
        let chart: Vec<Bar> = bars
            .bars
            .iter()
            .filter_map(|[x, count]| {
                let height = if settings.log_y {
                    log10(*count)?
                } else {
                    *count
                };
                (x.is_finite() && height.is_finite())
                    .then(|| Bar::new(*x, height).width(bars.width))
            })
            .collect();
        let color = palette(first_free_colour + view.bands.len() + j);
        plot_ui.bar_chart(BarChart::new(bars.name.as_str(), chart).color(color));
    }
    if settings.show_markers {
        for marker in view.markers.iter().filter(|m| m.x.is_finite()) {
            plot_ui.vline(
                VLine::new("", marker.x)
                    .color(Color32::from_gray(140))
                    .style(LineStyle::dashed_dense())
                    .allow_hover(false),
            );
        }
    }
}

fn log10(y: f64) -> Option<f64> {
    (y > 0.0 && y.is_finite()).then(|| y.log10())
}

fn add_band(
    plot_ui: &mut PlotUi<'_>,
    name: &str,
    points: &[BandPoint],
    log_y: bool,
    color: Color32,
) {
    let fit = |v: f64| if log_y { log10(v) } else { Some(v) };
    let (mut xs, mut mins, mut means, mut maxs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in points {
        if let (Some(lo), Some(mean), Some(hi)) = (fit(p.min), fit(p.mean), fit(p.max)) {
            xs.push(p.x);
            mins.push(lo);
            means.push([p.x, mean]);
            maxs.push(hi);
        }
    }
    plot_ui.add(FilledArea::new(name, &xs, &mins, &maxs).fill_color(color.gamma_multiply(0.25)));
    plot_ui.line(Line::new(name, means).color(color));
}

/// Marker labels beside their lines at the top of the plot, painted over the plot area.
fn paint_marker_labels(ui: &Ui, transform: &PlotTransform, view: &PlotView<'_>) {
    let frame = *transform.frame();
    let painter = ui.painter_at(frame);
    let color = ui.visuals().weak_text_color();
    for marker in view.markers.iter().filter(|m| m.x.is_finite()) {
        let x = transform.position_from_point_x(marker.x);
        if frame.x_range().contains(x) {
            painter.text(
                pos2(x + 3.0, frame.top() + 2.0),
                Align2::LEFT_TOP,
                &marker.label,
                FontId::proportional(11.0),
                color,
            );
        }
    }
}

/// A short number for labels: plain for everyday magnitudes, scientific otherwise.
pub fn format_value(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-3..1e6).contains(&a) {
        let text = format!("{v:.4}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// The hover text: series name (when near a point) and x, y in data units.
pub fn hover_label(pos: &HoverPosition<'_>, log_y: bool) -> String {
    let (name, p) = match pos {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (*plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    };
    let y = if log_y { 10f64.powf(p.y) } else { p.y };
    let values = format!("x = {}\ny = {}", format_value(p.x), format_value(y));
    if name.is_empty() {
        values
    } else {
        format!("{name}\n{values}")
    }
}

/// Tick labels of a log10 axis: `10^k` at whole powers, the value itself between them.
pub fn log_tick_label(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    let k = mark.value;
    if (k - k.round()).abs() < 1e-9 {
        format!("10^{}", k.round() as i64)
    } else {
        format_value(10f64.powf(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_plot::PlotPoint;

    fn mark(value: f64) -> GridMark {
        GridMark {
            value,
            step_size: 1.0,
        }
    }

    #[test]
    fn log_ticks_read_as_powers_of_ten() {
        assert_eq!(log_tick_label(mark(3.0), &(0.0..=1.0)), "10^3");
        assert_eq!(log_tick_label(mark(-2.0), &(0.0..=1.0)), "10^-2");
        assert_eq!(log_tick_label(mark(0.0), &(0.0..=1.0)), "10^0");
        assert_eq!(log_tick_label(mark(2f64.log10()), &(0.0..=1.0)), "2");
    }

    #[test]
    fn hover_shows_data_units_on_a_log_axis() {
        let near = HoverPosition::NearDataPoint {
            plot_name: "loss",
            position: PlotPoint::new(12.0, -1.0),
            index: 3,
        };
        assert_eq!(hover_label(&near, true), "loss\nx = 12\ny = 0.1");
        assert_eq!(hover_label(&near, false), "loss\nx = 12\ny = -1");
        let elsewhere = HoverPosition::Elsewhere {
            position: PlotPoint::new(0.5, 2e7),
        };
        assert_eq!(hover_label(&elsewhere, false), "x = 0.5\ny = 2.000e7");
    }

    #[test]
    fn settings_default_like_tensorboard_and_survive_missing_fields() {
        let s = PlotSettings::default();
        assert_eq!((s.smoothing, s.show_raw, s.log_y), (0.6, true, false));
        let parsed: PlotSettings = ron::from_str("(log_y: true)").unwrap();
        assert!(parsed.log_y && parsed.smoothing == 0.6);
    }
}
