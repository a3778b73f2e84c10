//! From a `ModelConfig` to the model's wiring and shapes, without allocating a weight: layer
//! names, where each layer reads its inputs (the DAG), every input and output shape, and
//! parameter counts. Validation uses it alone; `Model::new` builds the layers from it.

use std::collections::BTreeMap;

use super::combine::Combine;
use super::config::{LayerInput, LayerKind, ModelConfig};
use super::conv1d::Conv1dGeometry;
use super::conv2d::Conv2dGeometry;
use super::embedding::embedding_output;
use super::error::NnError;
use super::gru::gru_output;
use super::layout::{Shape, as_sequence};
use super::pool::PoolGeometry;

/// Where a layer reads one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The model input, all columns (`None`) or the listed ones.
    Input { columns: Option<Vec<usize>> },
    /// The output of the layer at this position.
    Layer(usize),
}

/// One layer of a config with its wiring and shapes resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedLayer {
    pub name: String,
    pub kind: LayerKind,
    /// Position in the config (and the model).
    pub position: usize,
    pub sources: Vec<Source>,
    pub input_shapes: Vec<Shape>,
    pub output_shape: Shape,
    pub param_count: u64,
}

impl PlannedLayer {
    /// True when every input is the model input (the layer needs no input gradient).
    pub fn reads_only_input(&self) -> bool {
        self.sources
            .iter()
            .all(|s| matches!(s, Source::Input { .. }))
    }
}

impl ModelConfig {
    /// Every layer with its wiring, shapes and parameter count; the errors `Model::new` would
    /// give for wiring and shapes, without allocating weights.
    pub fn plan_layers(&self) -> Result<Vec<PlannedLayer>, NnError> {
        plan_layers(self)
    }

    /// Trainable scalars of the model the config describes, without building it.
    pub fn param_count(&self) -> Result<u64, NnError> {
        Ok(self.plan_layers()?.iter().map(|l| l.param_count).sum())
    }
}

/// See [`ModelConfig::plan_layers`].
pub fn plan_layers(config: &ModelConfig) -> Result<Vec<PlannedLayer>, NnError> {
    if config.layers.is_empty() {
        return Err(NnError::EmptyModel);
    }
    let input_shape = config.input_shape();
    if config.input_width == 0 {
        return Err(NnError::InvalidConfig(
            "the model input needs at least one feature".into(),
        ));
    }
    if input_shape.len() != config.input_width {
        return Err(NnError::InvalidConfig(format!(
            "the model input has {} features but its shape, a {input_shape}, holds {}",
            config.input_width,
            input_shape.len()
        )));
    }
    let mut positions: BTreeMap<String, usize> = BTreeMap::new();
    let mut planned: Vec<PlannedLayer> = Vec::with_capacity(config.layers.len());
    for (position, spec) in config.layers.iter().enumerate() {
        let name = if spec.name.is_empty() {
            format!("{}{}", spec.kind.short_name(), position + 1)
        } else {
            spec.name.clone()
        };
        if positions.insert(name.clone(), position).is_some() {
            return Err(NnError::DuplicateLayerName { name });
        }
        let sources = resolve_sources(&name, &spec.inputs, position, &positions, config)?;
        if sources.len() != spec.kind.arity() {
            return Err(invalid(
                &name,
                format!(
                    "takes {} input(s), but {} are wired",
                    spec.kind.arity(),
                    sources.len()
                ),
            ));
        }
        let input_shapes: Vec<Shape> = sources
            .iter()
            .map(|source| match source {
                Source::Input { columns: None } => input_shape,
                Source::Input {
                    columns: Some(columns),
                } => Shape::Flat(columns.len()),
                Source::Layer(j) => planned
                    .get(*j)
                    .map_or(Shape::Flat(0), |l: &PlannedLayer| l.output_shape),
            })
            .collect();
        check_stated_inputs(&name, &spec.kind, &sources, &input_shapes, &planned)?;
        if matches!(spec.kind, LayerKind::Embedding { .. })
            && !matches!(sources.first(), Some(Source::Input { .. }))
        {
            return Err(invalid(
                &name,
                "reads ids, so its input must be the model input (a Batch column), not another layer"
                    .into(),
            ));
        }
        let (output_shape, param_count) = infer(&name, &spec.kind, &input_shapes)?;
        planned.push(PlannedLayer {
            name,
            kind: spec.kind,
            position,
            sources,
            input_shapes,
            output_shape,
            param_count,
        });
    }
    check_every_layer_is_used(&planned)?;
    Ok(planned)
}

fn invalid(layer: &str, message: String) -> NnError {
    NnError::InvalidLayer {
        layer: layer.to_string(),
        message,
    }
}

fn resolve_sources(
    name: &str,
    inputs: &[LayerInput],
    position: usize,
    positions: &BTreeMap<String, usize>,
    config: &ModelConfig,
) -> Result<Vec<Source>, NnError> {
    if inputs.is_empty() {
        return Ok(vec![match position {
            0 => Source::Input { columns: None },
            p => Source::Layer(p - 1),
        }]);
    }
    inputs
        .iter()
        .map(|input| match input {
            LayerInput::Input { columns } if columns.is_empty() => {
                Ok(Source::Input { columns: None })
            }
            LayerInput::Input { columns } => {
                if let Some(&bad) = columns.iter().find(|&&c| c >= config.input_width) {
                    return Err(invalid(
                        name,
                        format!(
                            "reads input column {bad}, but the input has {} columns",
                            config.input_width
                        ),
                    ));
                }
                Ok(Source::Input {
                    columns: Some(columns.clone()),
                })
            }
            LayerInput::Layer(from) => match positions.get(from) {
                Some(&j) if j < position => Ok(Source::Layer(j)),
                _ => Err(invalid(
                    name,
                    format!("reads `{from}`, which is not a layer before it"),
                )),
            },
        })
        .collect()
}

/// A dense layer may state its input width; a mismatch names the layer that feeds it.
fn check_stated_inputs(
    name: &str,
    kind: &LayerKind,
    sources: &[Source],
    input_shapes: &[Shape],
    planned: &[PlannedLayer],
) -> Result<(), NnError> {
    let LayerKind::Dense {
        inputs: Some(expected),
        ..
    } = *kind
    else {
        return Ok(());
    };
    let got = input_shapes.first().map_or(0, Shape::len);
    if expected == got {
        return Ok(());
    }
    Err(match sources.first() {
        Some(Source::Layer(j)) => NnError::LayerWidthMismatch {
            layer: name.to_string(),
            previous: planned.get(*j).map(|l| l.name.clone()).unwrap_or_default(),
            expected,
            got,
        },
        _ => NnError::InputWidth {
            layer: name.to_string(),
            expected,
            got,
        },
    })
}

/// Output shape and parameter count of one layer kind over its input shapes, after checking
/// its settings as its constructor does.
fn infer(name: &str, kind: &LayerKind, inputs: &[Shape]) -> Result<(Shape, u64), NnError> {
    let input = inputs.first().copied().unwrap_or(Shape::Flat(0));
    let flat_only = |what: &str| match input {
        Shape::Flat(n) => Ok(n),
        other => Err(invalid(
            name,
            format!(
                "{what} flat features, but its input is a {other}; add a Flatten layer before it"
            ),
        )),
    };
    let unit_range = |what: &str, v: f32| {
        if (0.0..1.0).contains(&v) {
            Ok(())
        } else {
            Err(invalid(name, format!("{what} must be in [0, 1), got {v}")))
        }
    };
    let product = |a: usize, b: usize| {
        (a as u64)
            .checked_mul(b as u64)
            .ok_or_else(|| invalid(name, format!("{a} × {b} weights overflow a count")))
    };
    Ok(match *kind {
        LayerKind::Dense { units, .. } => {
            let n = flat_only("reads")?;
            if n == 0 || units == 0 {
                return Err(invalid(
                    name,
                    format!(
                        "needs at least one input and one unit, got {n} inputs and {units} units"
                    ),
                ));
            }
            (Shape::Flat(units), product(n + 1, units)?)
        }
        LayerKind::Relu | LayerKind::Tanh | LayerKind::Sigmoid | LayerKind::Softmax => (input, 0),
        LayerKind::LeakyRelu { slope } => {
            unit_range("LeakyReLU slope", slope)?;
            (input, 0)
        }
        LayerKind::Dropout { p } => {
            unit_range("dropout probability", p)?;
            (input, 0)
        }
        LayerKind::LayerNorm { eps } => {
            if !(eps > 0.0 && eps.is_finite()) || input.is_empty() {
                return Err(invalid(
                    name,
                    format!(
                        "layer norm needs eps > 0 and width ≥ 1, got eps {eps}, width {}",
                        input.len()
                    ),
                ));
            }
            (input, 2 * input.len() as u64)
        }
        LayerKind::Conv2d {
            filters,
            kernel,
            stride,
            padding,
            ..
        } => {
            let g = Conv2dGeometry::new(name, input, filters, kernel, stride, padding)?;
            (g.output_shape(), product(g.taps() + 1, filters)?)
        }
        LayerKind::MaxPool2d { kernel, stride } => {
            let g = PoolGeometry::new(name, input, kernel, stride)?;
            (g.output_shape(), 0)
        }
        LayerKind::Flatten => (Shape::Flat(input.len()), 0),
        LayerKind::Conv1d {
            filters,
            kernel,
            stride,
            padding,
            ..
        } => {
            let g = Conv1dGeometry::new(name, input, filters, kernel, stride, padding)?;
            (g.output_shape(), product(g.taps() + 1, filters)?)
        }
        LayerKind::Embedding { vocab, dim } => (
            embedding_output(name, input, vocab, dim)?,
            product(vocab, dim)?,
        ),
        LayerKind::Gru {
            hidden,
            return_sequence,
        } => {
            let shape = gru_output(name, input, hidden, return_sequence)?;
            let (_, features) = as_sequence(name, input)?;
            (shape, product(3 * hidden, features + hidden + 2)?)
        }
        LayerKind::Dot | LayerKind::Concat => {
            let combine = if *kind == LayerKind::Dot {
                Combine::Dot
            } else {
                Combine::Concat
            };
            let second = inputs.get(1).copied().unwrap_or(Shape::Flat(0));
            (combine.output_shape(name, input, second)?, 0)
        }
    })
}

/// The last layer is the output; any other layer nobody reads is a wiring mistake.
fn check_every_layer_is_used(planned: &[PlannedLayer]) -> Result<(), NnError> {
    let Some((last, rest)) = planned.split_last() else {
        return Err(NnError::EmptyModel);
    };
    for layer in rest {
        let used = planned
            .iter()
            .any(|l| l.sources.contains(&Source::Layer(layer.position)));
        if !used {
            return Err(invalid(
                &layer.name,
                format!(
                    "its output is not used: the model's output is its last layer, `{}`",
                    last.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::config::{Init, LayerSpec};

    fn conv(filters: usize) -> LayerKind {
        LayerKind::Conv2d {
            filters,
            kernel: 3,
            stride: 1,
            padding: 1,
            init: Init::HeUniform,
        }
    }

    #[test]
    fn a_digits_cnn_infers_every_shape_and_parameter_count() {
        let layers = vec![
            LayerSpec::new("conv1", conv(8)),
            LayerSpec::relu("relu1"),
            LayerSpec::new(
                "pool1",
                LayerKind::MaxPool2d {
                    kernel: 2,
                    stride: 0,
                },
            ),
            LayerSpec::new("flat", LayerKind::Flatten),
            LayerSpec::dense("out", 10),
        ];
        let plan = ModelConfig::new(64, layers).plan_layers().unwrap();
        let shapes: Vec<String> = plan.iter().map(|l| l.output_shape.to_string()).collect();
        assert_eq!(
            shapes,
            [
                "8×8×8 image",
                "8×8×8 image",
                "8×4×4 image",
                "128 features",
                "10 features"
            ]
        );
        let params: Vec<u64> = plan.iter().map(|l| l.param_count).collect();
        assert_eq!(params, [8 * 10, 0, 0, 0, 128 * 10 + 10]);
    }

    #[test]
    fn a_dense_layer_on_an_image_asks_for_a_flatten() {
        let layers = vec![
            LayerSpec::new("conv1", conv(4)),
            LayerSpec::dense("dense1", 3),
        ];
        let err = ModelConfig::new(16, layers).plan_layers().unwrap_err();
        assert_eq!(
            err.to_string(),
            "dense1: reads flat features, but its input is a 4×4×4 image; add a Flatten layer before it"
        );
    }

    #[test]
    fn two_towers_join_in_a_dot_product() {
        let tower = |name: &str, column: usize, vocab: usize| {
            LayerSpec::new(name, LayerKind::Embedding { vocab, dim: 8 }).with_inputs(vec![
                LayerInput::Input {
                    columns: vec![column],
                },
            ])
        };
        let layers = vec![
            tower("users", 0, 100),
            tower("items", 1, 50),
            LayerSpec::new("score", LayerKind::Dot).with_inputs(vec![
                LayerInput::Layer("users".into()),
                LayerInput::Layer("items".into()),
            ]),
        ];
        let plan = ModelConfig::new(2, layers).plan_layers().unwrap();
        assert_eq!(plan[2].sources, [Source::Layer(0), Source::Layer(1)]);
        assert_eq!(plan[2].output_shape, Shape::Flat(1));
        assert_eq!(plan.iter().map(|l| l.param_count).sum::<u64>(), 150 * 8);
    }

    #[test]
    fn wiring_mistakes_name_the_layer() {
        let dangling = vec![
            LayerSpec::dense("a", 4),
            LayerSpec::dense("b", 4).with_inputs(vec![LayerInput::Input { columns: vec![] }]),
        ];
        let err = ModelConfig::new(3, dangling).plan_layers().unwrap_err();
        assert!(
            err.to_string().starts_with("a: its output is not used"),
            "{err}"
        );
        let forward_ref = vec![
            LayerSpec::dense("a", 4).with_inputs(vec![LayerInput::Layer("b".into())]),
            LayerSpec::dense("b", 4),
        ];
        let err = ModelConfig::new(3, forward_ref).plan_layers().unwrap_err();
        assert_eq!(
            err.to_string(),
            "a: reads `b`, which is not a layer before it"
        );
        let one_input_dot = vec![LayerSpec::new("dot", LayerKind::Dot)];
        let err = ModelConfig::new(3, one_input_dot)
            .plan_layers()
            .unwrap_err();
        assert_eq!(err.to_string(), "dot: takes 2 input(s), but 1 are wired");
        let bad_column = vec![
            LayerSpec::dense("a", 4).with_inputs(vec![LayerInput::Input { columns: vec![5] }]),
        ];
        let err = ModelConfig::new(3, bad_column).plan_layers().unwrap_err();
        assert_eq!(
            err.to_string(),
            "a: reads input column 5, but the input has 3 columns"
        );
    }

    #[test]
    fn huge_models_are_counted_without_allocating() {
        // 100 000 × 100 000 weights would be 40 GB; counting them takes no memory.
        let config = ModelConfig::mlp(100_000, &[100_000], 10);
        let count = config.param_count().unwrap() as usize;
        assert_eq!(count, 100_000 * 100_000 + 100_000 + 100_000 * 10 + 10);
    }
}
