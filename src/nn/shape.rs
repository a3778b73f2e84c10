//! What a model config describes, computed without building it: every layer's widths and
//! parameter count, and every check `Model::new` makes. Validation uses this, so checking a
//! graph never allocates a weight, however large the model it describes. The wiring and the
//! per-kind shape rules live in `wiring.rs`.

use super::config::{LossKind, ModelConfig};
use super::error::NnError;
use super::optim::Optimizer;
use super::wiring::{PlannedLayer, plan_layers};

/// One layer's place in a model.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerShape {
    /// The layer's name (generated as `<kind><position>` when the config leaves it empty).
    pub name: String,
    /// Width of the layer's (first) input.
    pub input_width: usize,
    pub output_width: usize,
    /// Trainable scalars of the layer.
    pub params: u64,
}

/// The layers of a model, in order, with their widths and parameter counts.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelShape {
    pub layers: Vec<LayerShape>,
    /// The same layers with their wiring and image/sequence shapes, for `Model::new`.
    pub planned: Vec<PlannedLayer>,
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
            .planned
            .iter()
            .map(|l| {
                let inputs: u64 = l.input_shapes.iter().map(|s| s.len() as u64).sum();
                2 * inputs + l.output_shape.len() as u64
            })
            .sum();
        per_row.saturating_mul(rows)
    }
}

/// Checks a model config as `Model::new` does and returns its shape, allocating nothing in
/// proportion to the model's size.
pub fn model_shape(config: &ModelConfig) -> Result<ModelShape, NnError> {
    config.schedule.validate()?;
    check_clip(config.clip_grad_norm)?;
    Optimizer::new(config.optimizer)?;
    let planned = plan_layers(config)?;
    let layers = planned
        .iter()
        .map(|l| LayerShape {
            name: l.name.clone(),
            input_width: l.input_shapes.first().map_or(0, |s| s.len()),
            output_width: l.output_shape.len(),
            params: l.param_count,
        })
        .collect();
    let shape = ModelShape { layers, planned };
    check_loss_fits(config.loss, &shape)?;
    Ok(shape)
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
    use crate::nn::{LayerKind, LayerSpec, Model};

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
