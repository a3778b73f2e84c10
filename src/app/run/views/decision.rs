//! The decision boundary of a two-input classifier: the model evaluated over the input plane,
//! coloured by predicted class and confidence, with the recent training points on top. It
//! owns only a cached texture; it never trains or changes the model (it predicts on a clone).

use super::layers::format_number;
use crate::learn::insight::{LabeledPoint, TrainerInsight};
use crate::nn::{LossKind, Model};
use egui::{
    Align2, Color32, ColorImage, FontId, Rect, Response, Sense, Stroke, TextureHandle,
    TextureOptions, pos2, vec2,
};
use ndarray::{Array2, ArrayView1};

/// Cells per side of the evaluated grid.
const GRID_CELLS: usize = 64;
/// The plane shown when there are no training points.
const DEFAULT_BOUNDS: [[f32; 2]; 2] = [[-3.0, 3.0], [-3.0, 3.0]];
/// Room for the second input's axis labels (left) and the first input's (below).
const AXIS_LEFT: f32 = 40.0;
const AXIS_BELOW: f32 = 30.0;
const POINT_RADIUS: f32 = 3.0;
/// Room for the class legend under the plane.
const LEGEND_HEIGHT: f32 = 22.0;

/// Distinct class colours, readable on dark and light backgrounds; repeats after eight.
pub fn class_colour(class: usize) -> Color32 {
    const PALETTE: [Color32; 8] = [
        Color32::from_rgb(0x3b, 0x82, 0xf6),
        Color32::from_rgb(0xf9, 0x73, 0x16),
        Color32::from_rgb(0x22, 0xa5, 0x5b),
        Color32::from_rgb(0xd9, 0x46, 0xef),
        Color32::from_rgb(0xea, 0xb3, 0x08),
        Color32::from_rgb(0x06, 0xb6, 0xd4),
        Color32::from_rgb(0xe1, 0x1d, 0x48),
        Color32::from_rgb(0x8b, 0x5c, 0xf6),
    ];
    PALETTE
        .get(class % PALETTE.len())
        .copied()
        .unwrap_or(Color32::GRAY)
}

/// How many classes the model tells apart, or why the view cannot show it.
fn classes_of(model: &Model) -> Result<usize, String> {
    if model.input_width() != 2 {
        return Err(format!(
            "The decision boundary needs a model with 2 inputs; this one has {}.",
            model.input_width()
        ));
    }
    if !model.reads_numeric_features() {
        return Err(
            "The decision boundary needs 2 numeric features; this model reads ids \
             (embeddings) or a sequence, not a plane."
                .into(),
        );
    }
    match (model.loss_kind(), model.output_width()) {
        (LossKind::Mse, _) => Err(
            "The decision boundary needs a classifier (cross-entropy or binary cross-entropy \
             loss); this model is trained with mse."
                .into(),
        ),
        (_, 0) => Err("The model has no outputs.".into()),
        (LossKind::BinaryCrossEntropy, 1) => Ok(2),
        (LossKind::CrossEntropy | LossKind::BinaryCrossEntropy, width) => Ok(width),
    }
}

/// The predicted class of one output row and its confidence (softmax probability for
/// cross-entropy, sigmoid for binary cross-entropy). NaN outputs give (0, 0).
fn classify(logits: ArrayView1<f32>, loss: LossKind) -> (usize, f32) {
    if logits.iter().any(|z| z.is_nan()) {
        return (0, 0.0);
    }
    let (best, top) =
        logits
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bz), (i, z)| {
                if z > bz { (i, z) } else { (bi, bz) }
            });
    let sigmoid = |z: f32| 1.0 / (1.0 + (-z).exp());
    match (loss, logits.len()) {
        (LossKind::BinaryCrossEntropy, 1) => {
            let p = sigmoid(top);
            if p >= 0.5 { (1, p) } else { (0, 1.0 - p) }
        }
        (LossKind::BinaryCrossEntropy, _) => (best, sigmoid(top)),
        _ => {
            let sum: f32 = logits.iter().map(|z| (z - top).exp()).sum();
            (best, 1.0 / sum.max(1.0))
        }
    }
}

/// Whether the view can draw `model`: a classifier of two numeric features.
pub fn draws(model: &Model) -> bool {
    classes_of(model).is_ok()
}

/// The model's predicted class and confidence over an `n`×`n` grid of cell centres covering
/// `bounds` = `[[x0_min, x0_max], [x1_min, x1_max]]`. Row-major like an image: index
/// `row * n + col`, columns run along x0 from min to max, rows along x1 from max (top) to min.
/// Empty when `n` is 0, the model is not a two-input classifier, or prediction fails.
pub fn class_grid(model: &Model, bounds: [[f32; 2]; 2], n: usize) -> Vec<(usize, f32)> {
    if n == 0 || classes_of(model).is_err() {
        return Vec::new();
    }
    let [[x0_min, x0_max], [x1_min, x1_max]] = bounds;
    let cells = n as f32;
    let inputs = Array2::from_shape_fn((n * n, 2), |(cell, axis)| {
        let (row, col) = ((cell / n) as f32, (cell % n) as f32);
        if axis == 0 {
            x0_min + (x0_max - x0_min) * (col + 0.5) / cells
        } else {
            x1_max - (x1_max - x1_min) * (row + 0.5) / cells
        }
    });
    // `predict` reuses the layer buffers, so it needs its own copy of the (small) model.
    let mut model = model.clone();
    let Ok(outputs) = model.predict(inputs.view()) else {
        return Vec::new();
    };
    let loss = model.loss_kind();
    outputs
        .rows()
        .into_iter()
        .map(|r| classify(r, loss))
        .collect()
}

/// The plane the view shows: the points' extent with a 10 % margin, or [-3, 3]² without
/// (finite) points. Same layout as [`class_grid`]'s `bounds`.
pub fn plot_bounds(points: &[LabeledPoint]) -> [[f32; 2]; 2] {
    let mut finite = points.iter().filter(|p| p.x.iter().all(|v| v.is_finite()));
    let Some(first) = finite.next() else {
        return DEFAULT_BOUNDS;
    };
    let (low, high) = finite.fold((first.x, first.x), |(lo, hi), p| {
        (
            [lo[0].min(p.x[0]), lo[1].min(p.x[1])],
            [hi[0].max(p.x[0]), hi[1].max(p.x[1])],
        )
    });
    let axis = |lo: f32, hi: f32| {
        let span = hi - lo;
        if span < 1e-6 {
            [lo - 1.0, hi + 1.0]
        } else {
            [lo - span * 0.1, hi + span * 0.1]
        }
    };
    [axis(low[0], high[0]), axis(low[1], high[1])]
}

/// A cell's colour: its class colour over the background, stronger the surer the model is
/// (chance level shows faintly, certainty at 75 % so the points stay visible).
fn cell_colour(class: usize, confidence: f32, classes: usize, background: Color32) -> Color32 {
    let chance = 1.0 / classes.max(2) as f32;
    let sure = ((confidence - chance) / (1.0 - chance)).clamp(0.0, 1.0);
    background.lerp_to_gamma(class_colour(class), 0.12 + 0.63 * sure)
}

/// What the view evaluated for one insight.
struct Evaluated {
    /// Insight step, insight address and dark mode: recompute when any changes.
    key: (u64, usize, bool),
    bounds: [[f32; 2]; 2],
    classes: usize,
    grid: Vec<(usize, f32)>,
    texture: TextureHandle,
}

/// The decision-boundary view of one trainer. Keeps the evaluated grid as a texture and
/// re-evaluates only when a new insight (a new step) arrives.
pub struct DecisionView {
    /// Axis titles: the model's input field names ("input 1", "input 2" until known).
    pub axis_names: [String; 2],
    evaluated: Option<Evaluated>,
    evaluations: u64,
}

impl Default for DecisionView {
    fn default() -> Self {
        Self {
            axis_names: ["input 1".into(), "input 2".into()],
            evaluated: None,
            evaluations: 0,
        }
    }
}

impl DecisionView {
    /// A view with these feature names on its axes.
    pub fn with_axis_names(mut self, x0: &str, x1: &str) -> Self {
        self.axis_names = [x0.to_owned(), x1.to_owned()];
        self
    }

    /// How many times the grid was evaluated (tests check the cache with it).
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// The classifier's predicted class over its input plane (stronger colour = more
    /// confident), with the recent training points on top. Tells the user what the model has
    /// learnt so far and where it still gets training points wrong; a model that is not a
    /// two-input classifier gets a one-line explanation instead.
    pub fn decision_ui(&mut self, ui: &mut egui::Ui, insight: &TrainerInsight) -> Response {
        let classes = match classes_of(&insight.model) {
            Ok(classes) => classes,
            Err(why) => {
                self.evaluated = None;
                return ui.weak(why);
            }
        };
        let background = ui.visuals().extreme_bg_color;
        let key = (
            insight.step,
            std::ptr::from_ref(insight) as usize,
            ui.visuals().dark_mode,
        );
        if self.evaluated.as_ref().is_none_or(|e| e.key != key) {
            self.evaluations += 1;
            self.evaluated = Some(evaluate(ui.ctx(), insight, classes, key, background));
        }
        let Some(evaluated) = &self.evaluated else {
            return ui.weak("Nothing evaluated yet.");
        };
        ui.vertical(|ui| {
            plane_ui(ui, evaluated, &insight.points, &self.axis_names);
            legend_ui(ui, insight, evaluated.classes);
        })
        .response
    }
}

fn evaluate(
    ctx: &egui::Context,
    insight: &TrainerInsight,
    classes: usize,
    key: (u64, usize, bool),
    background: Color32,
) -> Evaluated {
    let bounds = plot_bounds(&insight.points);
    let grid = class_grid(&insight.model, bounds, GRID_CELLS);
    let pixels: Vec<Color32> = if grid.len() == GRID_CELLS * GRID_CELLS {
        grid.iter()
            .map(|&(class, confidence)| cell_colour(class, confidence, classes, background))
            .collect()
    } else {
        vec![background; GRID_CELLS * GRID_CELLS]
    };
    let image = ColorImage::new([GRID_CELLS, GRID_CELLS], pixels);
    let texture = ctx.load_texture("decision_boundary", image, TextureOptions::LINEAR);
    Evaluated {
        key,
        bounds,
        classes,
        grid,
        texture,
    }
}

/// The coloured plane, the points, the axes and a hover readout of the prediction.
fn plane_ui(
    ui: &mut egui::Ui,
    evaluated: &Evaluated,
    points: &[LabeledPoint],
    names: &[String; 2],
) {
    // The whole square fits the space it has, also a short plot cell (never cut in half):
    // below it go the axis labels and one legend row.
    let by_width = ui.available_width() - AXIS_LEFT;
    let by_height = ui.available_height() - AXIS_BELOW - LEGEND_HEIGHT;
    let side = by_width.min(by_height).clamp(80.0, 420.0);
    let (rect, response) =
        ui.allocate_exact_size(vec2(side + AXIS_LEFT, side + AXIS_BELOW), Sense::hover());
    let plane = Rect::from_min_size(pos2(rect.left() + AXIS_LEFT, rect.top()), vec2(side, side));
    let painter = ui.painter_at(rect);
    let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
    painter.image(evaluated.texture.id(), plane, uv, Color32::WHITE);
    let [[x0_min, x0_max], [x1_min, x1_max]] = evaluated.bounds;
    let to_screen = |x: [f32; 2]| {
        pos2(
            plane.left() + (x[0] - x0_min) / (x0_max - x0_min) * plane.width(),
            plane.bottom() - (x[1] - x1_min) / (x1_max - x1_min) * plane.height(),
        )
    };
    let outline = Stroke::new(1.0, Color32::from_black_alpha(220));
    for point in points {
        let at = to_screen(point.x);
        if plane.expand(POINT_RADIUS).contains(at) {
            painter.circle(at, POINT_RADIUS, class_colour(point.class), outline);
        }
    }
    let visuals = ui.visuals();
    painter.rect_stroke(
        plane,
        0.0,
        visuals.widgets.noninteractive.bg_stroke,
        egui::StrokeKind::Outside,
    );
    axes(
        &painter,
        plane,
        evaluated.bounds,
        names,
        visuals.text_color(),
    );
    let [x0_name, x1_name] = names;
    if let Some(pointer) = response.hover_pos().filter(|p| plane.contains(*p)) {
        let fx = (pointer.x - plane.left()) / plane.width();
        let fy = (pointer.y - plane.top()) / plane.height();
        let x0 = x0_min + fx * (x0_max - x0_min);
        let x1 = x1_max - fy * (x1_max - x1_min);
        let last = GRID_CELLS - 1;
        let col = ((fx * GRID_CELLS as f32) as usize).min(last);
        let row = ((fy * GRID_CELLS as f32) as usize).min(last);
        if let Some((class, confidence)) = evaluated.grid.get(row * GRID_CELLS + col) {
            response.on_hover_text_at_pointer(format!(
                "{x0_name} = {}, {x1_name} = {}\npredicted class {class} ({:.0} % sure)",
                format_number(x0),
                format_number(x1),
                confidence * 100.0
            ));
        }
    }
}

/// Bound values at the ends of each axis and the axis titles.
fn axes(
    painter: &egui::Painter,
    plane: Rect,
    bounds: [[f32; 2]; 2],
    names: &[String; 2],
    colour: Color32,
) {
    let font = FontId::proportional(10.0);
    let [[x0_min, x0_max], [x1_min, x1_max]] = bounds;
    let [x0_name, x1_name] = names;
    let below = plane.bottom() + 3.0;
    painter.text(
        pos2(plane.left(), below),
        Align2::LEFT_TOP,
        format_number(x0_min),
        font.clone(),
        colour,
    );
    painter.text(
        pos2(plane.right(), below),
        Align2::RIGHT_TOP,
        format_number(x0_max),
        font.clone(),
        colour,
    );
    painter.text(
        pos2(plane.center().x, below + 12.0),
        Align2::CENTER_TOP,
        x0_name,
        FontId::proportional(12.0),
        colour,
    );
    let left = plane.left() - 4.0;
    painter.text(
        pos2(left, plane.bottom()),
        Align2::RIGHT_BOTTOM,
        format_number(x1_min),
        font.clone(),
        colour,
    );
    painter.text(
        pos2(left, plane.top()),
        Align2::RIGHT_TOP,
        format_number(x1_max),
        font,
        colour,
    );
    // The second input's name reads upwards along its axis, so a long name still fits.
    let galley = painter.layout_no_wrap(x1_name.clone(), FontId::proportional(12.0), colour);
    let at = pos2(
        left - galley.size().y,
        plane.center().y + galley.size().x / 2.0,
    );
    painter.add(
        egui::epaint::TextShape::new(at, galley, colour).with_angle(-std::f32::consts::FRAC_PI_2),
    );
}

/// Class swatches and which step the picture shows.
fn legend_ui(ui: &mut egui::Ui, insight: &TrainerInsight, classes: usize) {
    ui.horizontal_wrapped(|ui| {
        for class in 0..classes.min(16) {
            let (swatch, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
            ui.painter().rect_filled(swatch, 2.0, class_colour(class));
            ui.label(format!("class {class}"));
        }
        let when = if insight.is_final {
            "final model"
        } else {
            "step"
        };
        ui.weak(format!(
            "{when} {} · {} points",
            insight.step,
            insight.points.len()
        ));
    });
}
