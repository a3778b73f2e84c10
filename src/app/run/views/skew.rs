//! The skew view of a partition node: how many records each downstream instance gets and which
//! keys are hottest, so a user sees why one instance is busy while the others idle. Drawing
//! over `SkewStats` only; the counting happens in the executor's skew tap.

use crate::exec::{KEY_SAMPLE_EVERY, SkewStats};
use egui::{Align2, Color32, FontId, Rect, Response, Sense, Shape, Stroke, pos2, vec2};

/// Height of the sub-stream bar chart.
const CHART_HEIGHT: f32 = 90.0;
/// Height of one hot-key row.
const KEY_ROW: f32 = 16.0;
/// Width of the hot-key labels.
const KEY_LABEL_WIDTH: f32 = 90.0;
/// Imbalance below this counts as even.
const EVEN_BELOW: f64 = 1.1;
const BAR_COLOUR: Color32 = Color32::from_rgb(0x8e, 0x6c, 0xc8);
const HOT_COLOUR: Color32 = Color32::from_rgb(0xd8, 0x6b, 0x2d);

/// The busiest sub-stream and how many times the mean it gets (`None` without records).
pub fn imbalance(per_substream: &[u64]) -> Option<(usize, f64)> {
    let total: u64 = per_substream.iter().sum();
    if total == 0 {
        return None;
    }
    let mean = total as f64 / per_substream.len() as f64;
    let (busiest, max) = per_substream
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))?;
    Some((busiest, *max as f64 / mean))
}

/// The imbalance in words: "sub-stream 1 gets 1.5× the mean" (sub-streams counted from 0, as
/// instances are).
pub fn imbalance_text(per_substream: &[u64]) -> String {
    match (per_substream.len(), imbalance(per_substream)) {
        (_, None) => "No records partitioned yet.".into(),
        (1, Some(_)) => "One sub-stream: nothing to balance.".into(),
        (_, Some((busiest, ratio))) if ratio < EVEN_BELOW => {
            format!("Evenly spread: the busiest, sub-stream {busiest}, gets {ratio:.2}× the mean.")
        }
        (_, Some((busiest, ratio))) => {
            format!("Skewed: sub-stream {busiest} gets {ratio:.1}× the mean.")
        }
    }
}

/// Records per sub-stream as bars (dashed line at the mean) with the imbalance in words, then
/// the hottest keys with their estimated counts and share of all records. Tells the user
/// whether a partition spreads work evenly and, if not, which keys are to blame.
pub fn skew_ui(ui: &mut egui::Ui, stats: &SkewStats) -> Response {
    ui.vertical(|ui| {
        ui.label(imbalance_text(&stats.per_substream));
        if !stats.per_substream.is_empty() {
            substreams_ui(ui, &stats.per_substream);
        }
        let total: u64 = stats.per_substream.iter().sum();
        if !stats.hot_keys.is_empty() {
            ui.add_space(6.0);
            ui.label(format!(
                "Hottest keys (estimated from 1 record in {KEY_SAMPLE_EVERY}):"
            ));
            hot_keys_ui(ui, &stats.hot_keys, total);
        }
    })
    .response
}

/// Vertical bars, one per sub-stream, with index labels and a hover tooltip.
fn substreams_ui(ui: &mut egui::Ui, per_substream: &[u64]) {
    let width = ui.available_width().clamp(120.0, 600.0);
    let (rect, response) = ui.allocate_exact_size(vec2(width, CHART_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let text_colour = visuals.text_color();
    let label_height = 14.0;
    let chart = Rect::from_min_max(rect.min, pos2(rect.max.x, rect.max.y - label_height));
    let max = per_substream.iter().copied().max().unwrap_or(0).max(1) as f32;
    let total: u64 = per_substream.iter().sum();
    let n = per_substream.len().max(1) as f32;
    let slot = chart.width() / n;
    let gap = (slot * 0.2).min(6.0);
    let font = FontId::proportional(10.0);
    let mut hovered = None;
    for (i, &count) in per_substream.iter().enumerate() {
        let x0 = chart.left() + slot * i as f32 + gap / 2.0;
        let height = chart.height() * count as f32 / max;
        let bar = Rect::from_min_max(
            pos2(x0, chart.bottom() - height),
            pos2(x0 + (slot - gap).max(1.0), chart.bottom()),
        );
        let slot_rect = Rect::from_x_y_ranges(x0..=x0 + slot, rect.y_range());
        let hot = response.hover_pos().is_some_and(|p| slot_rect.contains(p));
        let fill = if hot {
            BAR_COLOUR.gamma_multiply(1.3)
        } else {
            BAR_COLOUR
        };
        painter.rect_filled(bar, 2.0, fill);
        if hot {
            hovered = Some((i, count));
        }
        // Label every bar while they fit, else every k-th.
        let every = (24.0 / slot).ceil().max(1.0) as usize;
        if i % every == 0 {
            painter.text(
                pos2(x0 + (slot - gap) / 2.0, rect.bottom()),
                Align2::CENTER_BOTTOM,
                i,
                font.clone(),
                text_colour,
            );
        }
    }
    if total > 0 {
        let mean_y = chart.bottom() - chart.height() * (total as f32 / n) / max;
        painter.extend(Shape::dashed_line(
            &[pos2(chart.left(), mean_y), pos2(chart.right(), mean_y)],
            Stroke::new(1.0, text_colour),
            5.0,
            4.0,
        ));
        painter.text(
            pos2(chart.right(), mean_y - 1.0),
            Align2::RIGHT_BOTTOM,
            "mean",
            font,
            text_colour,
        );
    }
    if let Some((i, count)) = hovered {
        let share = 100.0 * count as f64 / total.max(1) as f64;
        response.on_hover_text_at_pointer(format!(
            "sub-stream {i}: {count} records ({share:.1} % of all)"
        ));
    }
}

/// Horizontal bars of the hottest keys: key, bar by estimated count, "≈count (share)".
fn hot_keys_ui(ui: &mut egui::Ui, hot_keys: &[(String, u64)], total: u64) {
    let width = ui.available_width().clamp(200.0, 600.0);
    let height = KEY_ROW * hot_keys.len() as f32;
    let (rect, _) = ui.allocate_exact_size(vec2(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    let text_colour = ui.visuals().text_color();
    let font = FontId::proportional(11.0);
    let max = hot_keys.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1) as f32;
    let text_width = 110.0;
    let bar_room = (rect.width() - KEY_LABEL_WIDTH - text_width).max(20.0);
    for (row, (key, count)) in hot_keys.iter().enumerate() {
        let top = rect.top() + KEY_ROW * row as f32;
        let middle = top + KEY_ROW / 2.0;
        painter.text(
            pos2(rect.left() + KEY_LABEL_WIDTH - 6.0, middle),
            Align2::RIGHT_CENTER,
            shorten(key, 14),
            font.clone(),
            text_colour,
        );
        let left = rect.left() + KEY_LABEL_WIDTH;
        let length = (bar_room * *count as f32 / max).max(1.0);
        painter.rect_filled(
            Rect::from_min_max(
                pos2(left, top + 2.0),
                pos2(left + length, top + KEY_ROW - 2.0),
            ),
            2.0,
            HOT_COLOUR,
        );
        let share = 100.0 * *count as f64 / total.max(1) as f64;
        painter.text(
            pos2(left + length + 6.0, middle),
            Align2::LEFT_CENTER,
            format!("≈{count} ({share:.1} %)"),
            font.clone(),
            text_colour,
        );
    }
}

/// At most `chars` characters, with an ellipsis when cut.
pub(crate) fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imbalance_is_max_over_mean() {
        assert_eq!(imbalance(&[100, 300]), Some((1, 1.5)));
        assert_eq!(imbalance(&[0, 0]), None);
        assert_eq!(imbalance(&[]), None);
        assert_eq!(
            imbalance(&[5, 5]).map(|(i, _)| i),
            Some(0),
            "ties: the first"
        );
    }

    #[test]
    fn imbalance_reads_as_words() {
        assert_eq!(
            imbalance_text(&[100, 300]),
            "Skewed: sub-stream 1 gets 1.5× the mean."
        );
        assert!(imbalance_text(&[100, 101]).starts_with("Evenly spread"));
        assert!(imbalance_text(&[7]).contains("nothing to balance"));
    }

    #[test]
    fn long_keys_are_shortened() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
