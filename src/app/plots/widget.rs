//! The plot widget: a toolbar (smoothing, log y, raw, export) over an egui_plot with zoom,
//! pan, hover values and a click-to-toggle legend. It draws at most ~2 points per pixel column
//! per line, and keeps smoothed/log copies in egui's temp memory so a frame only processes the
//! points appended since the last one. It never writes files itself: it returns requests.

use super::labels::{LabelBox, place_labels};
use super::model::{BandPoint, BandSeries, PlotView, band_for_view};
use super::range::{
    KeyStyle, LegendCorner, MAX_OUTLIER_SHARE, OutlierClip, YExtent, grid_marks, key_styles,
    legend_corner, legend_rows, nice_steps, outlier_clip_with, tick_label, time_steps, y_span,
};
use super::series::Series;
use super::transform::{DerivedSeries, MAX_SMOOTHING, Stage};
use egui::{Color32, FontId, Rect, Ui, pos2};
use egui_plot::{
    Bar, BarChart, ColorConflictHandling, Corner, FilledArea, GridInput, GridMark, HoverPosition,
    Legend, Line, LineStyle, MarkerShape, Plot, PlotTransform, PlotUi, Points, VLine,
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
    /// Fit the y axis to the typical values and mark the few far outliers on its edge
    /// (offered when the plot has outliers; on by default for window statistics).
    pub clip_outliers: bool,
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
            clip_outliers: false,
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
    // The cell's width, taken before the toolbar: a toolbar wider than a narrow cell must not
    // widen the plot past the cell, where its right edge and legend would be cut off.
    let width = ui.available_width();
    let outliers = if settings.log_y {
        None
    } else {
        let share = view.outlier_share.unwrap_or(MAX_OUTLIER_SHARE);
        outlier_clip_with(&mut view.y_values(), share)
    };
    let (export_csv, save_png) = toolbar_ui(ui, view, settings, outliers);
    settings.smoothing = settings.smoothing.clamp(0.0, MAX_SMOOTHING as f32);
    let clip = outliers.filter(|_| settings.clip_outliers && !settings.log_y);
    let extent = view.y_extent();
    let nothing = extent.is_none() && view.overlays.is_empty();
    let message = view.message.clone().or_else(|| {
        nothing.then(|| "No data yet: it appears here as the run produces it.".to_owned())
    });
    if let Some(text) = message {
        let size = egui::vec2(width, ui.available_height().max(MIN_PLOT_HEIGHT));
        let shown = ui.allocate_ui(size, |ui| {
            ui.centered_and_justified(|ui| ui.label(egui::RichText::new(text).weak()));
        });
        return PlotResponse {
            export_csv,
            save_png,
            rect: shown.response.rect,
            plot_rect: shown.response.rect,
            hovered: None,
            settings_changed: *settings != before,
        };
    }

    let cache_id = ui.scope_id().with("derived_series");
    let mut cache: PlotCache = ui.data_mut(|d| std::mem::take(d.get_temp_mut_or_default(cache_id)));
    let drawn = settings.clone();
    let log_y = settings.log_y;
    let height = ui.available_height().max(MIN_PLOT_HEIGHT);
    let axes = Axes {
        x_origin_ms: view.x_event_origin_ms,
        y_origin_ms: view.y_event_origin_ms.filter(|_| !log_y),
    };
    // The legend takes at most two thirds of the plot's height; the rest of the lines draw unnamed.
    let legend_capacity = legend_rows((height - 40.0) * 0.65);
    let corner = legend_position(view, clip, extent, [width, height], legend_capacity);
    let mut plot = Plot::new("plot")
        .width(width)
        .height(height)
        .legend(
            Legend::default()
                .position(corner)
                .follow_insertion_order(true)
                .color_conflict_handling(ColorConflictHandling::PickLast),
        )
        .x_axis_label(axes.x_label(&view.x_label))
        .y_axis_label(axes.y_label(&view.y_label))
        .x_grid_spacer(move |input| axes.x_marks(input))
        .x_axis_formatter(move |mark, _| axes.x_tick(mark))
        .label_formatter(move |pos| Some(axes.hover(pos, log_y)));
    if log_y {
        plot = plot.y_axis_formatter(log_tick_label);
    } else {
        plot = plot
            .y_grid_spacer(move |input| axes.y_marks(input))
            .y_axis_formatter(move |mark, _| axes.y_tick(mark));
        match (clip, extent) {
            (Some(clip), Some(extent)) => {
                // The axis covers the typical values only: fixed y bounds that follow the
                // data while the x axis does (see `add_items`).
                let kept = YExtent::merge(
                    YExtent::of(view.include_y.iter().copied()),
                    Some(YExtent {
                        min: clip.low,
                        max: clip.high,
                        samples: extent.samples,
                    }),
                );
                let (low, high) = kept.map_or((clip.low, clip.high), y_span);
                let margin = ((high - low) * 0.05).max(f64::MIN_POSITIVE);
                plot = plot
                    .auto_bounds(egui::Vec2b::new(true, false))
                    .include_y(low - margin)
                    .include_y(high + margin);
            }
            (None, Some(extent)) => {
                let (low, high) = y_span(extent);
                plot = plot.include_y(low).include_y(high);
            }
            _ => {}
        }
    }
    // The scope's rect covers the axes too, which `Save PNG` should capture.
    let scoped = ui.scope(|ui| {
        plot.show(ui, |plot_ui| {
            if let Some(clip) = clip {
                // Fixed y bounds follow the data while the user has not zoomed or panned.
                if plot_ui.auto_bounds().x {
                    plot_ui.set_auto_bounds(egui::Vec2b::new(true, true));
                }
                add_outlier_marks(plot_ui, view, &clip);
            }
            add_items(plot_ui, view, &drawn, &mut cache, legend_capacity)
        })
    });
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

/// How the axes read: numbers with 1-2-5 ticks, or event time as UTC clock times.
#[derive(Clone, Copy, Debug)]
struct Axes {
    x_origin_ms: Option<i64>,
    y_origin_ms: Option<i64>,
}

/// Most grid marks a step may have before it is left out (too dense to see).
const MAX_MARKS: usize = 200;

impl Axes {
    fn marks(input: GridInput, origin_ms: Option<i64>) -> Vec<GridMark> {
        let (lo, hi) = input.bounds;
        let (steps, offset) = match origin_ms {
            Some(origin) => (time_steps(input.base_step_size), origin as f64 / 1e3),
            None => (nice_steps(input.base_step_size), 0.0),
        };
        grid_marks(lo, hi, steps, offset, MAX_MARKS)
            .into_iter()
            .map(|(value, step_size)| GridMark { value, step_size })
            .collect()
    }

    fn x_marks(&self, input: GridInput) -> Vec<GridMark> {
        Self::marks(input, self.x_origin_ms)
    }

    fn y_marks(&self, input: GridInput) -> Vec<GridMark> {
        Self::marks(input, self.y_origin_ms)
    }

    fn tick(mark: GridMark, origin_ms: Option<i64>) -> String {
        match origin_ms {
            Some(origin) => crate::format::event_clock(
                event_ms(origin, mark.value),
                (mark.step_size * 1e3).round() as i64,
            ),
            None => tick_label(mark.value, mark.step_size),
        }
    }

    fn x_tick(&self, mark: GridMark) -> String {
        Self::tick(mark, self.x_origin_ms)
    }

    fn y_tick(&self, mark: GridMark) -> String {
        Self::tick(mark, self.y_origin_ms)
    }

    /// An event-time axis names its date once, in its label.
    fn label(label: &str, origin_ms: Option<i64>) -> String {
        match origin_ms {
            Some(origin) => {
                let date = crate::format::event_date(origin);
                if label.is_empty() {
                    format!("event time (UTC, {date})")
                } else {
                    format!("{label} (UTC, {date})")
                }
            }
            None => label.to_owned(),
        }
    }

    fn x_label(&self, label: &str) -> String {
        Self::label(label, self.x_origin_ms)
    }

    fn y_label(&self, label: &str) -> String {
        Self::label(label, self.y_origin_ms)
    }

    fn hover(&self, pos: &HoverPosition<'_>, log_y: bool) -> String {
        let (name, p) = hover_parts(pos);
        let x = match self.x_origin_ms {
            Some(origin) => crate::format::event_time(event_ms(origin, p.x)),
            None => format!("x = {}", format_value(p.x)),
        };
        let y = if log_y { 10f64.powf(p.y) } else { p.y };
        let y = match self.y_origin_ms {
            Some(origin) => crate::format::event_time(event_ms(origin, y)),
            None => format!("y = {}", format_value(y)),
        };
        if name.is_empty() {
            format!("{x}\n{y}")
        } else {
            format!("{name}\n{x}\n{y}")
        }
    }
}

/// The epoch millisecond of `seconds` after `origin_ms`.
fn event_ms(origin_ms: i64, seconds: f64) -> i64 {
    let offset = (seconds * 1e3).round();
    if offset.is_finite() {
        origin_ms.saturating_add(offset as i64)
    } else {
        origin_ms
    }
}

/// Title, smoothing slider, toggles and export buttons; returns (export CSV, save PNG) clicks.
fn toolbar_ui(
    ui: &mut Ui,
    view: &PlotView<'_>,
    settings: &mut PlotSettings,
    outliers: Option<OutlierClip>,
) -> (bool, bool) {
    ui.horizontal_wrapped(|ui| {
        if !view.title.is_empty() {
            ui.strong(view.title.as_str());
            ui.separator();
        }
        // A narrow grid cell keeps its toolbar short, so the plot keeps its height.
        if ui.available_width() < 480.0 {
            ui.spacing_mut().slider_width = 60.0;
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
        if let Some(clip) = outliers {
            let count = clip.above + clip.below;
            ui.checkbox(
                &mut settings.clip_outliers,
                format!("Clip {count} outlier{}", if count == 1 { "" } else { "s" }),
            )
            .on_hover_text(format!(
                "Fit the y axis to the typical values ({} … {}) and mark the values beyond it \
                 on the plot's edge (▲ above, ▼ below)",
                format_value(clip.low),
                format_value(clip.high)
            ));
        }
        let csv = ui.small_button("Export CSV").clicked();
        let png = ui.small_button("Save PNG").clicked();
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

/// Names items for the legend until `capacity` distinct names are used; the rest draw
/// unnamed (no legend entry), so the legend always fits its plot.
struct LegendNames {
    capacity: usize,
    used: Vec<String>,
}

impl LegendNames {
    fn name(&mut self, wanted: &str) -> String {
        if self.used.iter().any(|u| u == wanted) {
            return wanted.to_owned();
        }
        if self.used.len() < self.capacity {
            self.used.push(wanted.to_owned());
            return wanted.to_owned();
        }
        String::new()
    }
}

/// The x range the current run covers (earlier runs are clipped to it while the plot
/// follows the data, so a longer earlier run never stretches the axis).
fn current_x_range(view: &PlotView<'_>) -> Option<(f64, f64)> {
    let ranges = view
        .series
        .iter()
        .filter_map(|s| s.x_range())
        .chain(
            view.bands
                .iter()
                .chain(&view.band_lines)
                .filter_map(|b| Some((b.points.first()?.x, b.points.last()?.x))),
        )
        .chain(view.bars.iter().filter_map(|b| {
            let xs = b.bars.iter().map(|p| p[0]).filter(|x| x.is_finite());
            let lo = xs.clone().reduce(f64::min)?;
            Some((lo - b.width / 2.0, xs.reduce(f64::max)? + b.width / 2.0))
        }));
    ranges.reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

fn add_items(
    plot_ui: &mut PlotUi<'_>,
    view: &PlotView<'_>,
    settings: &PlotSettings,
    cache: &mut PlotCache,
    legend_capacity: usize,
) {
    let window = ViewWindow::of(plot_ui);
    let mut legend = LegendNames {
        capacity: legend_capacity.max(1),
        used: Vec::new(),
    };
    for (i, source) in view.series.iter().enumerate() {
        let color = palette(i);
        let name = legend.name(source.name());
        let (raw, smoothed) = drawn_series(cache.line((None, i)), source, settings);
        match smoothed {
            Some(smoothed) => {
                if settings.show_raw {
                    plot_ui.line(
                        Line::new(name.clone(), window.points(raw))
                            .color(color.gamma_multiply(0.3))
                            .width(1.0),
                    );
                }
                plot_ui.line(Line::new(name, window.points(smoothed)).color(color));
            }
            None => plot_ui.line(Line::new(name, window.points(raw)).color(color)),
        }
    }
    let first_free_colour = view.series.len();
    let styles = key_styles(
        view.bands.len() + view.band_lines.len(),
        view.bands.len(),
        legend_capacity.saturating_sub(legend.used.len()),
    );
    let keyed: Vec<&BandSeries> = view.bands.iter().chain(&view.band_lines).copied().collect();
    for (j, (band, style)) in keyed.iter().zip(styles).enumerate() {
        let color = palette(first_free_colour + j);
        let points = window.band(&band.points);
        match style {
            KeyStyle::Band => {
                let name = legend.name(&band.name);
                add_band(plot_ui, &name, &points, settings.log_y, color);
            }
            KeyStyle::NamedLine | KeyStyle::Line => {
                let name = if style == KeyStyle::NamedLine {
                    legend.name(&band.name)
                } else {
                    String::new()
                };
                add_mean_line(plot_ui, &name, &points, settings.log_y, color);
            }
        }
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
        let color = palette(first_free_colour + keyed.len() + j);
        let name = legend.name(&bars.name);
        plot_ui.bar_chart(BarChart::new(name, chart).color(color));
    }
    if settings.show_overlays {
        // While following the data, earlier runs are cut to the current run's x range.
        let clip = window.x.is_none().then(|| current_x_range(view)).flatten();
        for (k, overlay) in view.overlays.iter().enumerate() {
            // Each earlier run its own faded colour, after the current run's colours.
            let color =
                palette(first_free_colour + keyed.len() + view.bars.len() + k).gamma_multiply(0.55);
            for (i, source) in overlay.series.iter().enumerate() {
                let (raw, smoothed) = drawn_series(cache.line((Some(k), i)), source, settings);
                let shown = smoothed.unwrap_or(raw);
                let points = match clip {
                    Some((lo, hi)) => shown.downsample(lo, hi, window.columns),
                    None => window.points(shown),
                };
                let name = legend.name(&format!("{} · {}", overlay.label, source.name()));
                plot_ui.line(
                    Line::new(name, points)
                        .color(color)
                        .width(1.2)
                        .style(LineStyle::dashed_loose()),
                );
            }
        }
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

/// The corner where the legend covers the fewest drawn points: a sample of each line (at
/// most a few hundred points), the bands' means and the bars, on the y range the axis shows.
fn legend_position(
    view: &PlotView<'_>,
    clip: Option<OutlierClip>,
    extent: Option<YExtent>,
    [width, height]: [f32; 2],
    capacity: usize,
) -> Corner {
    let (Some(x), Some(extent)) = (current_x_range(view), extent) else {
        return Corner::RightTop;
    };
    let y = match clip {
        Some(clip) => (clip.low, clip.high),
        None => {
            let (low, high) = y_span(extent);
            (low.min(extent.min), high.max(extent.max))
        }
    };
    let mut names: Vec<String> = view.series.iter().map(|s| s.name().to_owned()).collect();
    names.extend(
        view.bands
            .iter()
            .chain(&view.band_lines)
            .map(|b| b.name.clone()),
    );
    names.extend(view.bars.iter().map(|b| b.name.clone()));
    for o in &view.overlays {
        names.extend(
            o.series
                .iter()
                .map(|s| format!("{} · {}", o.label, s.name())),
        );
    }
    let rows = names.len().clamp(1, capacity.max(1)) as f64;
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4) as f64;
    // About 6.5 points per character plus the colour mark and padding; 18 points a row.
    let box_w = ((longest * 6.5 + 34.0) / f64::from(width.max(1.0))).min(0.9);
    let box_h = ((rows * 18.0 + 10.0) / f64::from((height - 40.0).max(1.0))).min(0.9);
    let mut points: Vec<[f64; 2]> = Vec::new();
    for s in &view.series {
        points.extend(s.downsample(x.0, x.1, 128));
    }
    for band in view.bands.iter().chain(&view.band_lines) {
        let step = (band.points.len() / 256).max(1);
        points.extend(band.points.iter().step_by(step).flat_map(|p| {
            let mut out = vec![[p.x, p.mean]];
            if view.bands.iter().any(|b| std::ptr::eq(*b, *band)) {
                out.extend([[p.x, p.min], [p.x, p.max]]);
            }
            out
        }));
    }
    for bars in &view.bars {
        let step = (bars.bars.len() / 256).max(1);
        // A bar covers everything from zero to its top.
        points.extend(
            bars.bars
                .iter()
                .step_by(step)
                .flat_map(|b| (0..=4).map(move |k| [b[0], b[1] * f64::from(k) / 4.0])),
        );
    }
    match legend_corner(points, x, y, box_w, box_h) {
        LegendCorner::RightTop => Corner::RightTop,
        LegendCorner::LeftTop => Corner::LeftTop,
        LegendCorner::RightBottom => Corner::RightBottom,
        LegendCorner::LeftBottom => Corner::LeftBottom,
    }
}

/// Values beyond the clipped axis, as ▲/▼ marks in their line's colour on the axis's top or
/// bottom edge at their x (the legend says what they are).
fn add_outlier_marks(plot_ui: &mut PlotUi<'_>, view: &PlotView<'_>, clip: &OutlierClip) {
    let edge = (clip.high - clip.low).abs().max(f64::MIN_POSITIVE) * 0.025;
    let mut marks = |points: &mut dyn Iterator<Item = [f64; 2]>, colour: Color32| {
        let (mut above, mut below): (Vec<[f64; 2]>, Vec<[f64; 2]>) = (Vec::new(), Vec::new());
        for [x, y] in points {
            if y > clip.high_limit {
                above.push([x, clip.high + edge]);
            } else if y < clip.low_limit {
                below.push([x, clip.low - edge]);
            }
        }
        for (points, shape) in [(above, MarkerShape::Up), (below, MarkerShape::Down)] {
            if !points.is_empty() {
                plot_ui.points(
                    Points::new("beyond the axis (Clip outliers)", points)
                        .shape(shape)
                        .radius(3.5)
                        .filled(true)
                        .color(colour),
                );
            }
        }
    };
    for (i, s) in view.series.iter().enumerate() {
        marks(&mut s.all_points(), palette(i));
    }
    let keyed = view.bands.iter().chain(&view.band_lines);
    for (j, band) in keyed.enumerate() {
        let colour = palette(view.series.len() + j);
        marks(&mut band.points.iter().map(|p| [p.x, p.mean]), colour);
    }
    let first_bar = view.series.len() + view.bands.len() + view.band_lines.len();
    for (j, bars) in view.bars.iter().enumerate() {
        marks(&mut bars.bars.iter().copied(), palette(first_bar + j));
    }
}

/// A key's means as a thin line (no band).
fn add_mean_line(
    plot_ui: &mut PlotUi<'_>,
    name: &str,
    points: &[BandPoint],
    log_y: bool,
    color: Color32,
) {
    let means: Vec<[f64; 2]> = points
        .iter()
        .filter_map(|p| {
            let y = if log_y { log10(p.mean)? } else { p.mean };
            Some([p.x, y])
        })
        .collect();
    plot_ui.line(
        Line::new(name, means)
            .color(color.gamma_multiply(0.7))
            .width(1.0),
    );
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
    // A light band: several keys' bands may overlap without turning into a blotch.
    plot_ui.add(FilledArea::new(name, &xs, &mins, &maxs).fill_color(color.gamma_multiply(0.12)));
    plot_ui.line(Line::new(name, means).color(color));
}

/// Rows of marker labels at the top of a plot, at most.
const MARKER_LABEL_ROWS: usize = 3;

/// Marker labels beside their lines at the top of the plot, painted over the plot area, in
/// rows so that changes made close together never print over each other.
fn paint_marker_labels(ui: &Ui, transform: &PlotTransform, view: &PlotView<'_>) {
    let frame = *transform.frame();
    let painter = ui.painter_at(frame);
    let color = ui.visuals().weak_text_color();
    let font = FontId::proportional(11.0);
    let galleys: Vec<_> = view
        .markers
        .iter()
        .filter(|m| m.x.is_finite())
        .map(|m| (transform.position_from_point_x(m.x), m))
        .filter(|(x, _)| frame.x_range().contains(*x))
        .map(|(x, m)| {
            let galley = painter.layout_no_wrap(m.label.clone(), font.clone(), color);
            (x, galley)
        })
        .collect();
    let boxes: Vec<LabelBox> = galleys
        .iter()
        .map(|(x, g)| LabelBox {
            line_x: *x,
            width: g.size().x,
        })
        .collect();
    let row_height = font.size + 2.0;
    let placed = place_labels(&boxes, frame.right(), MARKER_LABEL_ROWS);
    for ((_, galley), place) in galleys.into_iter().zip(placed) {
        if let Some((row, left)) = place {
            let top = frame.top() + 2.0 + row as f32 * row_height;
            painter.galley(pos2(left, top), galley, color);
        }
    }
}

/// A short number for labels: four significant digits, scientific far from everyday sizes.
pub fn format_value(v: f64) -> String {
    crate::format::metric(v)
}

/// The series name under the pointer (empty when none) and the data position.
fn hover_parts<'p>(pos: &'p HoverPosition<'_>) -> (&'p str, &'p egui_plot::PlotPoint) {
    match pos {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    }
}

/// The hover text: series name (when near a point) and x, y in data units.
pub fn hover_label(pos: &HoverPosition<'_>, log_y: bool) -> String {
    Axes {
        x_origin_ms: None,
        y_origin_ms: None,
    }
    .hover(pos, log_y)
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
        assert_eq!(hover_label(&elsewhere, false), "x = 0.5\ny = 2e7");
    }

    #[test]
    fn settings_default_like_tensorboard_and_survive_missing_fields() {
        let s = PlotSettings::default();
        assert_eq!((s.smoothing, s.show_raw, s.log_y), (0.6, true, false));
        let parsed: PlotSettings = ron::from_str("(log_y: true)").unwrap();
        assert!(parsed.log_y && parsed.smoothing == 0.6);
    }
}
