//! The window timeline of a window node: per key, the windows that fired as bars along event
//! time, the watermark advancing towards the newest event, and late records as red marks. It
//! shows *why* output appears when it does. Pure drawing over borrowed session data.

use super::layers::format_number;
use super::skew::shorten;
use crate::app::canvas::style::{ERROR_RED, port_color};
use crate::catalog::PortType;
use crate::exec::{LateSample, WindowSample};
use egui::{Align2, Color32, FontId, Pos2, Rect, Response, Sense, Shape, Stroke, pos2, vec2};
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

/// Keys shown at most (the most recently active ones).
const MAX_KEYS: usize = 8;
/// The view spans this many typical window lengths back from the newest event.
const WINDOW_LENGTHS_SHOWN: i64 = 6;
/// Span shown before any window has fired.
const DEFAULT_SPAN_MS: i64 = 10_000;
/// Overlapping (sliding) windows of a key are stacked in at most this many lanes.
const MAX_LANES: i64 = 6;
const ROW_HEIGHT: f32 = 26.0;
const LABEL_WIDTH: f32 = 72.0;
const HEADER_HEIGHT: f32 = 16.0;
const AXIS_HEIGHT: f32 = 20.0;

/// What the timeline draws, borrowed from the run session.
#[derive(Clone, Copy, Debug)]
pub struct TimelineData<'a> {
    /// Fired windows, oldest first (event-time ms).
    pub windows: &'a VecDeque<WindowSample>,
    /// Records that came after the watermark had passed their window.
    pub late: &'a VecDeque<LateSample>,
    /// The node's current input watermark.
    pub watermark: Option<i64>,
    /// The newest event time the node has seen.
    pub newest_event: Option<i64>,
}

/// A time the view can place (finite watermarks only: the final one is `i64::MAX`).
fn plain_time(t: Option<i64>) -> Option<i64> {
    t.filter(|t| t.unsigned_abs() < (i64::MAX / 4) as u64)
}

/// The median length of the newest windows, the view's unit of time.
fn typical_length_ms(windows: &VecDeque<WindowSample>) -> Option<i64> {
    let mut lengths: Vec<i64> = windows
        .iter()
        .rev()
        .take(64)
        .map(|w| w.end.saturating_sub(w.start))
        .filter(|l| *l > 0)
        .collect();
    lengths.sort_unstable();
    lengths.get(lengths.len() / 2).copied()
}

/// The event-time range `[start, end)` shown: a few window lengths up to just past the newest
/// thing there is to see (event, watermark, window end or late record).
pub fn visible_range(data: &TimelineData) -> (i64, i64) {
    let newest = [
        plain_time(data.newest_event),
        plain_time(data.watermark),
        plain_time(data.windows.iter().map(|w| w.end).max()),
        plain_time(data.late.iter().map(|l| l.ts).max()),
    ]
    .into_iter()
    .flatten()
    .max();
    let span = typical_length_ms(data.windows)
        .map_or(DEFAULT_SPAN_MS, |l| l.saturating_mul(WINDOW_LENGTHS_SHOWN))
        .max(1);
    let end = newest.unwrap_or(span).saturating_add(span / 20);
    (end.saturating_sub(span), end)
}

/// Keys as people read them: numbers by value, then text.
fn key_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// The rows: the `MAX_KEYS` most recently active keys in key order, and how many keys exist.
pub fn timeline_keys<'a>(data: &TimelineData<'a>) -> (Vec<&'a str>, usize) {
    let mut last_active: HashMap<&str, i64> = HashMap::new();
    let activity = data
        .windows
        .iter()
        .map(|w| (w.key.as_str(), w.end))
        .chain(data.late.iter().map(|l| (l.key.as_str(), l.ts)));
    for (key, t) in activity {
        let seen = last_active.entry(key).or_insert(t);
        *seen = (*seen).max(t);
    }
    let total = last_active.len();
    let mut keys: Vec<(&str, i64)> = last_active.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| key_order(a.0, b.0)));
    let mut shown: Vec<&str> = keys.into_iter().take(MAX_KEYS).map(|(k, _)| k).collect();
    shown.sort_by(|a, b| key_order(a, b));
    (shown, total)
}

/// How a key's windows stack: (period, lanes). Windows on a common grid (tumbling, sliding)
/// get lane `start / period mod lanes`, which stays put as the view scrolls; windows that do
/// not overlap (tumbling, sessions) share one lane.
fn lane_layout(windows: &[&WindowSample]) -> (i64, i64) {
    let mut sorted: Vec<(i64, i64)> = windows.iter().map(|w| (w.start, w.end)).collect();
    sorted.sort_unstable();
    let mut reach = i64::MIN;
    let mut overlap = false;
    for (start, end) in &sorted {
        overlap |= *start < reach;
        reach = reach.max(*end);
    }
    if !overlap {
        return (1, 1);
    }
    let period = sorted
        .windows(2)
        .filter_map(|p| match p {
            [a, b] => Some(b.0.saturating_sub(a.0)),
            _ => None,
        })
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(1);
    let longest = sorted
        .iter()
        .map(|(s, e)| e.saturating_sub(*s))
        .max()
        .unwrap_or(1);
    let lanes = (longest.saturating_add(period - 1) / period).clamp(1, MAX_LANES);
    (period, lanes)
}

/// A tick spacing of 1, 2 or 5 × 10^k ms giving at most `max_ticks` ticks over `span_ms`.
pub fn tick_step_ms(span_ms: i64, max_ticks: usize) -> i64 {
    let wanted = span_ms.max(1) / max_ticks.max(1) as i64;
    let mut magnitude: i64 = 1;
    loop {
        for factor in [1, 2, 5] {
            let step = magnitude.saturating_mul(factor);
            if step >= wanted {
                return step.max(1);
            }
        }
        if magnitude > i64::MAX / 100 {
            return magnitude;
        }
        magnitude *= 10;
    }
}

/// An event time as a tick label: its UTC clock time, with as many decimals as the tick step
/// needs (the core's one event-time format).
pub fn time_label(t_ms: i64, step_ms: i64) -> String {
    crate::format::event_clock(t_ms, step_ms)
}

/// Maps event time to x over a plot rectangle (in f64: epoch milliseconds do not fit an f32).
#[derive(Clone, Copy)]
struct TimeAxis {
    start: i64,
    span: f64,
    left: f32,
    width: f32,
}

impl TimeAxis {
    fn x(&self, t: i64) -> f32 {
        self.left + (t.saturating_sub(self.start) as f64 / self.span * self.width as f64) as f32
    }
}

/// Per key, a row of fired windows as bars over [start, end) along event time (stronger = more
/// records; overlapping sliding windows in thin lanes), the watermark line, a dashed line at
/// the newest event, the open panes between them, and late records as red ×. Tells the user
/// which windows have fired, which are still waiting for the watermark, and what came too late.
pub fn timeline_ui(ui: &mut egui::Ui, data: &TimelineData) -> Response {
    let (keys, total_keys) = timeline_keys(data);
    let rows = keys.len().max(1);
    let width = ui.available_width().max(240.0);
    let height = HEADER_HEIGHT + ROW_HEIGHT * rows as f32 + AXIS_HEIGHT;
    let (rect, response) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
    let plot = Rect::from_min_max(
        pos2(rect.left() + LABEL_WIDTH, rect.top() + HEADER_HEIGHT),
        pos2(rect.right() - 8.0, rect.bottom() - AXIS_HEIGHT),
    );
    let (start, end) = visible_range(data);
    let axis = TimeAxis {
        start,
        span: end.saturating_sub(start).max(1) as f64,
        left: plot.left(),
        width: plot.width(),
    };
    let painter = ui.painter_at(rect);
    let text_colour = ui.visuals().text_color();
    let weak_colour = ui.visuals().weak_text_color();
    let small = FontId::proportional(10.0);
    for (row, key) in keys.iter().enumerate() {
        let band = row_rect(plot, row);
        if row % 2 == 1 {
            painter.rect_filled(band, 0.0, ui.visuals().faint_bg_color);
        }
        painter.text(
            pos2(rect.left() + LABEL_WIDTH - 6.0, band.center().y),
            Align2::RIGHT_CENTER,
            shorten(key, 10),
            FontId::proportional(12.0),
            text_colour,
        );
    }
    // Ticks are clock times: the date is said once, above the key names.
    painter.text(
        pos2(rect.left() + 2.0, rect.top()),
        Align2::LEFT_TOP,
        format!("UTC {}", crate::format::event_date(start.max(0))),
        small.clone(),
        weak_colour,
    );
    if total_keys > keys.len() {
        painter.text(
            pos2(rect.left() + 2.0, plot.bottom() + 4.0),
            Align2::LEFT_TOP,
            format!("+{} more keys", total_keys - keys.len()),
            small.clone(),
            weak_colour,
        );
    }
    let open_band = open_panes(&painter, plot, axis, data, weak_colour);
    let mut tooltip: Option<String> = None;
    let pointer = response.hover_pos();
    if open_band
        .zip(pointer)
        .is_some_and(|(band, p)| band.contains(p))
    {
        tooltip = Some(
            "Open panes: these records wait for the watermark to pass their window's end.".into(),
        );
    }
    if let Some(hit) = window_bars(&painter, plot, axis, data, &keys, pointer) {
        tooltip = Some(hit);
    }
    if let Some(hit) = late_marks(&painter, plot, axis, data, &keys, pointer) {
        tooltip = Some(hit);
    }
    time_lines(&painter, rect, plot, axis, data, text_colour);
    time_ticks(&painter, plot, axis, end, text_colour);
    if data.windows.is_empty() && data.late.is_empty() {
        painter.text(
            plot.center(),
            Align2::CENTER_CENTER,
            "No windows fired yet.",
            FontId::proportional(12.0),
            weak_colour,
        );
    }
    match tooltip {
        Some(text) => response.on_hover_text_at_pointer(text),
        None => response,
    }
}

fn row_rect(plot: Rect, row: usize) -> Rect {
    let top = plot.top() + ROW_HEIGHT * row as f32;
    Rect::from_min_max(pos2(plot.left(), top), pos2(plot.right(), top + ROW_HEIGHT))
}

/// Shades the band between the watermark and the newest event; returns it.
fn open_panes(
    painter: &egui::Painter,
    plot: Rect,
    axis: TimeAxis,
    data: &TimelineData,
    colour: Color32,
) -> Option<Rect> {
    let (Some(watermark), Some(newest)) =
        (plain_time(data.watermark), plain_time(data.newest_event))
    else {
        return None;
    };
    let left = axis.x(watermark).max(plot.left());
    let right = axis.x(newest).min(plot.right());
    if right <= left {
        return None;
    }
    let band = Rect::from_x_y_ranges(left..=right, plot.y_range());
    painter.rect_filled(
        band,
        0.0,
        port_color(PortType::Records).gamma_multiply(0.12),
    );
    let label = "open panes — waiting for the watermark";
    let galley = painter.layout_no_wrap(label.into(), FontId::proportional(10.0), colour);
    if galley.size().x + 8.0 < band.width() {
        painter.galley(
            pos2(
                band.center().x - galley.size().x / 2.0,
                band.bottom() - galley.size().y - 2.0,
            ),
            galley,
            colour,
        );
    }
    Some(band)
}

/// Paints the windows of the shown keys; returns the description of the one under the pointer.
fn window_bars(
    painter: &egui::Painter,
    plot: Rect,
    axis: TimeAxis,
    data: &TimelineData,
    keys: &[&str],
    pointer: Option<Pos2>,
) -> Option<String> {
    let end = axis.start.saturating_add(axis.span as i64);
    let mut per_row: Vec<Vec<&WindowSample>> = vec![Vec::new(); keys.len()];
    for w in data
        .windows
        .iter()
        .filter(|w| w.end > axis.start && w.start < end)
    {
        if let Some(row) = keys.iter().position(|k| *k == w.key)
            && let Some(list) = per_row.get_mut(row)
        {
            list.push(w);
        }
    }
    let most = per_row
        .iter()
        .flatten()
        .map(|w| w.count)
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    let base = port_color(PortType::Windows);
    let outline = Stroke::new(1.0, base);
    let mut hovered = None;
    for (row, windows) in per_row.iter().enumerate() {
        let band = row_rect(plot, row).shrink2(vec2(0.0, 2.0));
        let (period, lanes) = lane_layout(windows);
        let lane_height = band.height() / lanes as f32;
        for w in windows {
            let lane = w.start.div_euclid(period).rem_euclid(lanes) as f32;
            let top = band.top() + lane_height * lane;
            let left = axis.x(w.start).max(plot.left());
            let right = axis.x(w.end).min(plot.right()).max(left + 1.0);
            let bar = Rect::from_min_max(
                pos2(left, top),
                pos2(right, top + (lane_height - 1.0).max(1.0)),
            );
            let strength = 0.25 + 0.75 * w.count as f32 / most;
            painter.rect_filled(bar, 1.0, base.gamma_multiply(strength * 0.8));
            painter.rect_stroke(bar, 1.0, outline, egui::StrokeKind::Inside);
            if pointer.is_some_and(|p| bar.contains(p)) {
                hovered = Some(describe_window(w));
            }
        }
    }
    hovered
}

fn describe_window(w: &WindowSample) -> String {
    format!(
        "key {}\nwindow [{}, {}) · {}\n{} records · mean {} · min {} · max {}",
        w.key,
        time_label(w.start, 1),
        time_label(w.end, 1),
        crate::format::span(w.end.saturating_sub(w.start)),
        w.count,
        format_number(w.mean as f32),
        format_number(w.min as f32),
        format_number(w.max as f32),
    )
}

/// Red × at each late record of a shown key; returns a description of one under the pointer.
fn late_marks(
    painter: &egui::Painter,
    plot: Rect,
    axis: TimeAxis,
    data: &TimelineData,
    keys: &[&str],
    pointer: Option<Pos2>,
) -> Option<String> {
    let stroke = Stroke::new(1.8, ERROR_RED);
    let r = 4.0;
    let mut hovered = None;
    for late in data.late {
        let Some(row) = keys.iter().position(|k| *k == late.key) else {
            continue;
        };
        let x = axis.x(late.ts);
        if x < plot.left() || x > plot.right() {
            continue;
        }
        let at = pos2(x, row_rect(plot, row).center().y);
        painter.line_segment([at + vec2(-r, -r), at + vec2(r, r)], stroke);
        painter.line_segment([at + vec2(-r, r), at + vec2(r, -r)], stroke);
        if pointer.is_some_and(|p| p.distance(at) <= r + 2.0) {
            hovered = Some(format!(
                "late record, key {} at {}: its window had already fired, so it went to the late port",
                late.key,
                time_label(late.ts, 1)
            ));
        }
    }
    hovered
}

/// The watermark (solid) and newest event (dashed) lines with their labels.
fn time_lines(
    painter: &egui::Painter,
    rect: Rect,
    plot: Rect,
    axis: TimeAxis,
    data: &TimelineData,
    colour: Color32,
) {
    let font = FontId::proportional(10.0);
    let inside = |x: f32| (plot.left()..=plot.right()).contains(&x);
    if let Some(newest) = plain_time(data.newest_event)
        .map(|t| axis.x(t))
        .filter(|x| inside(*x))
    {
        painter.extend(Shape::dashed_line(
            &[pos2(newest, rect.top() + 2.0), pos2(newest, plot.bottom())],
            Stroke::new(1.2, colour),
            4.0,
            3.0,
        ));
        // Near the right edge the label goes left of its line rather than off the view.
        let galley = painter.layout_no_wrap("newest event".into(), font.clone(), colour);
        let left = (newest + 3.0).min(rect.right() - galley.size().x - 2.0);
        painter.galley(pos2(left, rect.top()), galley, colour);
    }
    if let Some(watermark) = plain_time(data.watermark)
        .map(|t| axis.x(t))
        .filter(|x| inside(*x))
    {
        painter.line_segment(
            [
                pos2(watermark, rect.top() + 2.0),
                pos2(watermark, plot.bottom()),
            ],
            Stroke::new(2.0, colour),
        );
        painter.text(
            pos2(watermark - 3.0, rect.top()),
            Align2::RIGHT_TOP,
            "watermark",
            font,
            colour,
        );
    }
}

/// Tick marks and labels under the plot.
fn time_ticks(painter: &egui::Painter, plot: Rect, axis: TimeAxis, end: i64, colour: Color32) {
    let max_ticks = (plot.width() / 90.0).max(1.0) as usize;
    let step = tick_step_ms(end.saturating_sub(axis.start), max_ticks);
    let mut t = axis
        .start
        .div_euclid(step)
        .saturating_add(1)
        .saturating_mul(step);
    let stroke = Stroke::new(1.0, colour.gamma_multiply(0.6));
    let font = FontId::proportional(10.0);
    for _ in 0..=max_ticks + 1 {
        if t > end {
            break;
        }
        let x = axis.x(t);
        if x <= plot.right() {
            painter.line_segment(
                [pos2(x, plot.bottom()), pos2(x, plot.bottom() + 4.0)],
                stroke,
            );
            painter.text(
                pos2(x, plot.bottom() + 5.0),
                Align2::CENTER_TOP,
                time_label(t, step),
                font.clone(),
                colour,
            );
        }
        t = t.saturating_add(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(key: &str, start: i64, end: i64) -> WindowSample {
        WindowSample {
            key: key.into(),
            start,
            end,
            count: 1,
            mean: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    #[test]
    fn sliding_windows_get_stable_lanes_that_never_overlap() {
        // size 10 s, slide 2 s → 5 lanes; a lane's windows are 10 s apart.
        let ws: Vec<WindowSample> = (0..20)
            .map(|i| window("a", i * 2000, i * 2000 + 10_000))
            .collect();
        let refs: Vec<&WindowSample> = ws.iter().collect();
        assert_eq!(lane_layout(&refs), (2000, 5));
        // Without the oldest windows, the rest keep their lanes.
        let later: Vec<&WindowSample> = ws.iter().skip(3).collect();
        assert_eq!(lane_layout(&later), (2000, 5));
    }

    #[test]
    fn tumbling_and_session_windows_share_one_lane() {
        let tumbling = [window("a", 0, 10), window("a", 10, 20)];
        assert_eq!(lane_layout(&tumbling.iter().collect::<Vec<_>>()), (1, 1));
        let sessions = [window("a", 0, 5), window("a", 10, 40), window("a", 45, 50)];
        assert_eq!(lane_layout(&sessions.iter().collect::<Vec<_>>()), (1, 1));
    }

    #[test]
    fn the_view_spans_a_few_windows_up_to_the_newest_event() {
        let windows: VecDeque<WindowSample> = (0..10)
            .map(|i| window("a", i * 1000, i * 1000 + 1000))
            .collect();
        let late = VecDeque::new();
        let data = TimelineData {
            windows: &windows,
            late: &late,
            watermark: Some(9_500),
            newest_event: Some(12_000),
        };
        let (start, end) = visible_range(&data);
        assert!(end > 12_000 && end - start == 6_000, "{start}..{end}");
        let finished = TimelineData {
            watermark: Some(i64::MAX),
            ..data
        };
        assert_eq!(
            visible_range(&finished),
            (start, end),
            "the final watermark is not a time"
        );
    }

    #[test]
    fn the_most_recently_active_keys_are_shown_in_key_order() {
        let windows: VecDeque<WindowSample> = (0..12)
            .map(|i| window(&i.to_string(), i * 10, i * 10 + 10))
            .collect();
        let late: VecDeque<LateSample> = [LateSample {
            key: "0".into(),
            ts: 1000,
        }]
        .into();
        let data = TimelineData {
            windows: &windows,
            late: &late,
            watermark: None,
            newest_event: None,
        };
        let (keys, total) = timeline_keys(&data);
        assert_eq!(total, 12);
        assert_eq!(keys, ["0", "5", "6", "7", "8", "9", "10", "11"]);
    }

    #[test]
    fn ticks_are_round_and_labels_readable() {
        assert_eq!(tick_step_ms(10_000, 5), 2000);
        assert_eq!(tick_step_ms(7, 10), 1);
        assert_eq!(tick_step_ms(45_000, 4), 20_000);
        assert_eq!(time_label(12_000, 2000), "00:00:12");
        assert_eq!(time_label(12_500, 500), "00:00:12.5");
        // 2024-01-01T12:34:56.789Z
        assert_eq!(time_label(1_704_112_496_789, 1), "12:34:56.789");
        assert_eq!(time_label(1_704_112_496_789, 10), "12:34:56.78");
    }
}
