//! The layer stats table and the gradient-flow colour scale: per layer how large its outputs
//! are and how much gradient reaches it, so vanishing or exploding gradients show at a glance.
//! Drawing and pure scales only; the numbers come from a trainer's insight.

use crate::nn::LayerStats;
use egui::{Color32, Response, Sense, vec2};

/// A scale spans at least this many decades, so layers with nearly equal values get nearly
/// equal colours instead of the two ends of the map.
const MIN_DECADES: f32 = 1.0;
/// Width and height of an inline bar in the table.
const BAR_SIZE: [f32; 2] = [56.0, 9.0];

/// Maps positive values on a log scale to 0..=1: the largest value maps to 1, values
/// `MIN_DECADES` or more decades below the largest (or the smallest, when the values span
/// more) towards 0. NaN, infinite, zero and negative values map to 0 (no flow to show).
///
/// Used to colour gradient-flow wires, so the scale is relative: it shows which layers get
/// much less gradient than the others, not absolute sizes.
///
/// ```
/// use flowbook::app::run::views::flow_scale;
/// assert_eq!(flow_scale(&[1.0, 10.0, 100.0]), vec![0.0, 0.5, 1.0]);
/// assert_eq!(flow_scale(&[0.0, f32::NAN]), vec![0.0, 0.0]);
/// ```
pub fn flow_scale(values: &[f32]) -> Vec<f32> {
    let logs: Vec<Option<f32>> = values
        .iter()
        .map(|&v| (v > 0.0 && v.is_finite()).then(|| v.log10()))
        .collect();
    let Some(high) = logs.iter().flatten().copied().reduce(f32::max) else {
        return vec![0.0; values.len()];
    };
    let low = logs.iter().flatten().copied().fold(high, f32::min);
    let span = (high - low).max(MIN_DECADES);
    logs.iter()
        .map(|log| log.map_or(0.0, |l| (1.0 - (high - l) / span).clamp(0.0, 1.0)))
        .collect()
}

/// The gradient-flow colour of a scaled value (see [`flow_scale`]): blue (little) → yellow →
/// red (most). Mid-saturation colours, readable on dark and light backgrounds; NaN is blue.
pub fn flow_colour(t: f32) -> Color32 {
    const BLUE: [f32; 3] = [59.0, 130.0, 246.0];
    const YELLOW: [f32; 3] = [234.0, 179.0, 8.0];
    const RED: [f32; 3] = [220.0, 38.0, 38.0];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let (from, to, f) = if t < 0.5 {
        (BLUE, YELLOW, t * 2.0)
    } else {
        (YELLOW, RED, t * 2.0 - 1.0)
    };
    let channel = |i: usize| {
        let a = from.get(i).copied().unwrap_or(0.0);
        let b = to.get(i).copied().unwrap_or(0.0);
        (a + (b - a) * f).round() as u8
    };
    Color32::from_rgb(channel(0), channel(1), channel(2))
}

/// A table of each layer's activation RMS, ∂L/∂out RMS and parameter-gradient norm, each with
/// an inline log-scale bar (scaled per column). Tells the user where the signal shrinks or
/// blows up on its way through the network, and which layers barely learn.
pub fn layers_ui(ui: &mut egui::Ui, layers: &[LayerStats]) -> Response {
    if layers.is_empty() {
        return ui.weak("No layer statistics yet: they arrive after the first training step.");
    }
    let activations = flow_scale(&layers.iter().map(|l| l.activation_rms).collect::<Vec<_>>());
    let output_grads = flow_scale(&layers.iter().map(|l| l.output_grad_rms).collect::<Vec<_>>());
    let param_grads = flow_scale(
        &layers
            .iter()
            .map(|l| l.param_grad_norm.unwrap_or(0.0))
            .collect::<Vec<_>>(),
    );
    egui::Grid::new("layer_stats")
        .num_columns(4)
        .striped(true)
        .spacing(vec2(14.0, 4.0))
        .show(ui, |ui| {
            ui.strong("layer");
            ui.strong("activation RMS")
                .on_hover_text("Root mean square of the layer's output in the last step.");
            ui.strong("∂L/∂out RMS").on_hover_text(
                "Root mean square of the loss gradient reaching the layer's output.",
            );
            ui.strong("param grad norm")
                .on_hover_text("L2 norm of the gradient of the layer's parameters.");
            ui.end_row();
            for (i, layer) in layers.iter().enumerate() {
                ui.label(&layer.name);
                value_cell_ui(ui, Some(layer.activation_rms), activations.get(i));
                value_cell_ui(ui, Some(layer.output_grad_rms), output_grads.get(i));
                value_cell_ui(ui, layer.param_grad_norm, param_grads.get(i));
                ui.end_row();
            }
        })
        .response
}

/// A number and its bar; "—" for layers without parameters.
fn value_cell_ui(ui: &mut egui::Ui, value: Option<f32>, scaled: Option<&f32>) {
    ui.horizontal(|ui| {
        let Some(value) = value else {
            ui.weak("—");
            return;
        };
        let t = scaled.copied().unwrap_or(0.0);
        let (rect, _) = ui.allocate_exact_size(vec2(BAR_SIZE[0], BAR_SIZE[1]), Sense::hover());
        let painter = ui.painter();
        painter.rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
        if t > 0.0 {
            let mut bar = rect;
            bar.set_width((rect.width() * t).max(2.0));
            painter.rect_filled(bar, 2.0, flow_colour(t));
        }
        ui.monospace(format_number(value));
    });
}

/// Three significant digits, scientific outside 0.001..10 000 so columns stay narrow.
pub(crate) fn format_number(v: f32) -> String {
    crate::format::significant(f64::from(v), 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_keeps_order_and_stays_in_bounds() {
        let t = flow_scale(&[1e-6, 3e-3, 0.5, 20.0]);
        assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        assert!(t.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(t.last(), Some(&1.0));
    }

    #[test]
    fn nearly_equal_values_get_nearly_equal_colours() {
        let t = flow_scale(&[1.0, 1.05]);
        assert!(t.iter().all(|v| *v > 0.95), "{t:?}");
    }

    #[test]
    fn no_flow_maps_to_zero() {
        assert_eq!(
            flow_scale(&[0.0, -1.0, f32::NAN, f32::INFINITY, 2.0]),
            [0.0, 0.0, 0.0, 0.0, 1.0]
        );
        assert!(flow_scale(&[]).is_empty());
    }

    #[test]
    fn the_colour_map_runs_blue_yellow_red() {
        let [r0, _, b0, _] = flow_colour(0.0).to_array();
        let [r1, g1, b1, _] = flow_colour(0.5).to_array();
        let [r2, g2, _, _] = flow_colour(1.0).to_array();
        assert!(b0 > r0 && r1 > b1 && g1 > b1 && r2 > g2);
        assert_eq!(flow_colour(f32::NAN), flow_colour(0.0));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(format_number(0.012345), "0.0123");
        assert_eq!(format_number(123.45), "123");
        assert_eq!(format_number(2.5e-5), "2.5e-5");
        assert_eq!(format_number(0.0), "0");
    }
}
