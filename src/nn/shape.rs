//! What a model config describes, computed without building it: every layer's widths and
//! parameter count, and every check `Model::new` makes. Validation uses this, so checking a
//! graph never allocates a weight, however large the model it describes.

use std::collections::BTreeSet;

use super::config::{LayerKind, LossKind, ModelConfig};
use super::error::NnError;
use super::optim::Optimizer;

/// One layer's place in a model.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerShape {
    /// The layer's name (generated as `<kind><position>` when the config leaves it empty).
    pub name: String,
    pub input_width: usize,
    pub output_width: usize,
    /// Trainable scalars of the layer.
    pub params: u64,
}

/// The layers of a model, in order, with their widths and parameter counts.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelShape {
    pub layers: Vec<LayerShape>,
}

impl ModelShape {
    /// Width of the model's output (its last layer's).
    pub fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |l| l.output_width)
    }

    /// Trainable scalars of the whole model.
    pub fn param_count(&self) -> u64 {
        self.layers.iter().map(|l| l.params).sum()
    }

    /// Floats one forward and backward pass over `rows` rows keeps: each layer's output and
    /// the gradient of its input (plus, for dense layers, a copy of the input).
    pub fn activation_floats(&self, rows: u64) -> u64 {
        let per_row: u64 = self
            .layers
            .iter()
            .map(|l| 2 * l.input_width as u64 + l.output_width as u64)
            .sum();
        per_row.saturating_mul(rows)
    }
}

/// Checks a model config as `Model::new` does and returns its shape, allocating nothing in
/// proportion to the model's size.
pub fn model_shape(config: &ModelConfig) -> Result<ModelShape, NnError> {
    if config.layers.is_empty() {
        return Err(NnError::EmptyModel);
    }
    if config.input_width == 0 {
        return Err(NnError::InvalidConfig(
            "the model input needs at least one feature".into(),
        ));
    }
    config.schedule.validate()?;
    check_clip(config.clip_grad_norm)?;
    Optimizer::new(config.optimizer)?;
    let mut names = BTreeSet::new();
    let mut layers: Vec<LayerShape> = Vec::with_capacity(config.layers.len());
    let mut width = config.input_width;
    for (position, spec) in config.layers.iter().enumerate() {
        let name = if spec.name.is_empty() {
            format!("{}{}", spec.kind.short_name(), position + 1)
        } else {
            spec.name.clone()
        };
        if !names.insert(name.clone()) {
            return Err(NnError::DuplicateLayerName { name });
        }
        let stated_inputs = match spec.kind {
            LayerKind::Dense { inputs, .. } => inputs,
            _ => None,
        };
        if let Some(expected) = stated_inputs.filter(|&expected| expected != width) {
            return Err(match layers.last() {
                Some(previous) => NnError::LayerWidthMismatch {
                    layer: name,
                    previous: previous.name.clone(),
                    expected,
                    got: width,
                },
                None => NnError::InputWidth {
                    layer: name,
                    expected,
                    got: width,
                },
            });
        }
        let (output_width, params) = layer_shape(&name, &spec.kind, width)?;
        layers.push(LayerShape {
            name,
            input_width: width,
            output_width,
            params,
        });
        width = output_width;
    }
    let shape = ModelShape { layers };
    check_loss_fits(config.loss, &shape)?;
    Ok(shape)
}

/// A layer's output width and parameter count for `input` features, after checking its
/// settings as its constructor does.
fn layer_shape(name: &str, kind: &LayerKind, input: usize) -> Result<(usize, u64), NnError> {
    let invalid = |message: String| NnError::InvalidLayer {
        layer: name.to_owned(),
        message,
    };
    match *kind {
        LayerKind::Dense { units, .. } => {
            if input == 0 || units == 0 {
                return Err(invalid(format!(
                    "needs at least one input and one unit, got {input} inputs and {units} units"
                )));
            }
            let params = (input as u64)
                .checked_add(1)
                .and_then(|rows| rows.checked_mul(units as u64))
                .ok_or_else(|| invalid(format!("{input} × {units} weights overflow a count")))?;
            Ok((units, params))
        }
        LayerKind::LeakyRelu { slope } if !(0.0..1.0).contains(&slope) => Err(invalid(format!(
            "LeakyReLU slope must be in [0, 1), got {slope}"
        ))),
        LayerKind::Relu
        | LayerKind::LeakyRelu { .. }
        | LayerKind::Tanh
        | LayerKind::Sigmoid
        | LayerKind::Softmax => Ok((input, 0)),
        LayerKind::Dropout { p } if !(0.0..1.0).contains(&p) => Err(invalid(format!(
            "dropout probability must be in [0, 1), got {p}"
        ))),
        LayerKind::Dropout { .. } => Ok((input, 0)),
        LayerKind::LayerNorm { eps } if !(eps > 0.0 && eps.is_finite()) || input == 0 => {
            Err(invalid(format!(
                "layer norm needs eps > 0 and width ≥ 1, got eps {eps}, width {input}"
            )))
        }
        LayerKind::LayerNorm { .. } => Ok((input, 2 * input as u64)),
    }
}

pub(super) fn check_clip(max_norm: Option<f32>) -> Result<(), NnError> {
    match max_norm {
        Some(n) if !(n > 0.0 && n.is_finite()) => Err(NnError::InvalidConfig(format!(
            "gradient clipping norm must be a finite number > 0, got {n}"
        ))),
        _ => Ok(()),
    }
}

/// Cross-entropy needs at least two classes; the other losses work with any width.
fn check_loss_fits(loss: LossKind, shape: &ModelShape) -> Result<(), NnError> {
    let Some(last) = shape.layers.last() else {
        return Err(NnError::EmptyModel);
    };
    if loss == LossKind::CrossEntropy && last.output_width < 2 {
        return Err(NnError::InvalidConfig(format!(
            "cross-entropy needs at least 2 outputs, but the last layer `{}` has {}",
            last.name, last.output_width
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{LayerSpec, Model};

    #[test]
    fn the_shape_matches_the_built_model() {
        let config = ModelConfig::mlp(64, &[128, 64], 10);
        let shape = model_shape(&config).unwrap();
        let model = Model::new(config).unwrap();
        assert_eq!(shape.param_count(), model.param_count() as u64);
        assert_eq!(shape.output_width(), model.output_width());
        let names: Vec<&str> = shape.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["dense1", "relu1", "dense2", "relu2", "dense3"]);
        let norm = ModelConfig::new(
            3,
            vec![
                LayerSpec::new("ln", LayerKind::LayerNorm { eps: 1e-5 }),
                LayerSpec::dense("out", 2),
            ],
        );
        let shape = model_shape(&norm).unwrap();
        assert_eq!(
            shape.param_count(),
            Model::new(norm).unwrap().param_count() as u64
        );
    }

    #[test]
    fn a_huge_model_is_described_without_building_it() {
        // 100,000 × 100,000 weights: 40 GB as f32, counted, never allocated.
        let config = ModelConfig::mlp(2, &[100_000, 100_000], 2);
        let shape = model_shape(&config).unwrap();
        assert_eq!(
            shape.param_count(),
            3 * 100_000 + 100_001 * 100_000 + 100_001 * 2
        );
    }

    #[test]
    fn the_shape_refuses_what_the_model_refuses() {
        let bad = [
            ModelConfig::mlp(0, &[4], 2),
            ModelConfig::mlp(2, &[0], 2),
            ModelConfig::mlp(2, &[4], 1),
            ModelConfig::new(2, vec![LayerSpec::new("d", LayerKind::Dropout { p: 1.0 })]),
            ModelConfig::new(2, vec![LayerSpec::dense("a", 2), LayerSpec::dense("a", 2)]),
        ];
        for config in bad {
            let shape = model_shape(&config).unwrap_err();
            let model = Model::new(config).unwrap_err();
            assert_eq!(shape, model);
        }
    }
}
