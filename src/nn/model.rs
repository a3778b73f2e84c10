//! `Model`: named layers wired as a small DAG (a chain in the common case), with a loss, an
//! optimizer and a learning-rate schedule, built and shape-checked from a `ModelConfig`. It
//! owns every buffer of a training step; it never reads clocks, spawns threads or touches the
//! UI (the executor drives it). The passes over the DAG live in `passes.rs`.

use ndarray::{Array2, ArrayView2};

use super::config::{LayerKind, LossKind, ModelConfig};
use super::error::NnError;
use super::kernels::sum_of_squares;
use super::layer::Layer;
use super::layout::Shape;
use super::loss::{BatchStats, Loss};
use super::optim::{Optimizer, global_norm};
use super::passes::PassBuffers;
use super::shape::{check_clip, model_shape};
use super::targets::Targets;
use super::wiring::PlannedLayer;

/// What a model reads in one pass: rows of features and, for sequences padded on the left,
/// the number of real steps of each row.
#[derive(Clone, Copy, Debug)]
pub struct ModelInput<'a> {
    /// (batch, input_width).
    pub x: ArrayView2<'a, f32>,
    /// Real (unpadded) steps per row; `None`: every step is real.
    pub lengths: Option<&'a [usize]>,
}

impl<'a> ModelInput<'a> {
    /// Rows whose sequences have `lengths` real steps each (the rest is left padding).
    pub fn with_lengths(x: ArrayView2<'a, f32>, lengths: &'a [usize]) -> Self {
        ModelInput {
            x,
            lengths: Some(lengths),
        }
    }
}

impl<'a> From<ArrayView2<'a, f32>> for ModelInput<'a> {
    fn from(x: ArrayView2<'a, f32>) -> Self {
        ModelInput { x, lengths: None }
    }
}

/// What one optimizer step did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    /// Mean loss of the batch, before the update.
    pub loss: f32,
    /// Global L2 norm of the gradients before clipping.
    pub grad_norm: f32,
    /// Correctly classified rows (0 for MSE).
    pub correct: usize,
    pub samples: usize,
    /// Learning rate the step used.
    pub lr: f32,
}

/// Gradient flow and activation scale of one layer after a step, for colouring wires.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStats {
    pub name: String,
    /// Root mean square of the layer's last output.
    pub activation_rms: f32,
    /// Root mean square of ∂L/∂(output) in the last backward pass.
    pub output_grad_rms: f32,
    /// L2 norm of the gradients of the layer's parameters (`None` without parameters).
    pub param_grad_norm: Option<f32>,
}

/// A trainable network. Cloning gives an independent replica with the same
/// weights and optimizer state; the same config and the same batches give the same loss curve
/// bit for bit on a given machine.
///
/// Single replica: [`Model::train_step`] per batch. Data parallel over N replicas (clones):
/// each runs [`Model::compute_gradients`] on its shard, then [`average_gradients`] (or
/// [`Model::gradients_flat`] / [`Model::add_scaled_gradients_flat`] across threads) merges them
/// weighted by shard size, then [`Model::apply_gradients`] on every replica (they stay
/// identical) or on one, followed by [`Model::parameters_flat`] / [`Model::set_parameters_flat`].
/// [`Model::predict`] and [`Model::evaluate`] take `&mut self` because they reuse the layer
/// buffers; give a predictor its own clone.
///
/// [`average_gradients`]: super::average_gradients
///
/// ```
/// use flowbook::nn::{Model, ModelConfig, OptimizerConfig, Targets};
/// use ndarray::array;
///
/// let config = ModelConfig::mlp(2, &[8], 2).with_optimizer(OptimizerConfig::sgd()).with_lr(0.1);
/// let mut model = Model::new(config)?;
/// let x = array![[0.0, 1.0], [1.0, 0.0]];
/// let stats = model.train_step(x.view(), Targets::Classes(&[1, 0]))?;
/// assert_eq!(stats.samples, 2);
/// assert_eq!(model.predict(x.view())?.dim(), (2, 2));
/// # Ok::<(), flowbook::nn::NnError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Model {
    pub(super) config: ModelConfig,
    /// Wiring and shapes of every layer, in layer order.
    pub(super) plans: Vec<PlannedLayer>,
    /// For each layer, the (layer, input slot) pairs that read its output.
    pub(super) consumers: Vec<Vec<(usize, usize)>>,
    pub(super) layers: Vec<Layer>,
    pub(super) buffers: PassBuffers,
    pub(super) loss: Loss,
    optimizer: Optimizer,
    base_lr: f32,
    clip_grad_norm: Option<f32>,
    /// True when the gradients changed since the last `apply_gradients`.
    pub(super) gradients_fresh: bool,
}

impl Model {
    /// Plans the wiring and shapes (checking stated widths, names, wiring, loss/output
    /// compatibility and all settings), then builds the layers in order.
    pub fn new(config: ModelConfig) -> Result<Model, NnError> {
        let plans = model_shape(&config)?.planned;
        let optimizer = Optimizer::new(config.optimizer)?;
        let layers = plans
            .iter()
            .map(|plan| Layer::build(plan, config.seed))
            .collect::<Result<Vec<_>, _>>()?;
        let consumers = plans
            .iter()
            .map(|plan| {
                plans
                    .iter()
                    .flat_map(|reader| {
                        reader
                            .sources
                            .iter()
                            .enumerate()
                            .filter_map(move |(slot, s)| {
                                (*s == super::wiring::Source::Layer(plan.position))
                                    .then_some((reader.position, slot))
                            })
                    })
                    .collect()
            })
            .collect();
        Ok(Model {
            loss: Loss::new(config.loss),
            base_lr: config.schedule.lr,
            clip_grad_norm: config.clip_grad_norm,
            buffers: PassBuffers::new(&plans),
            config,
            plans,
            consumers,
            layers,
            optimizer,
            gradients_fresh: false,
        })
    }

    /// The config the model was built from (its `schedule.lr` is the initial base lr).
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn input_width(&self) -> usize {
        self.config.input_width
    }

    /// Whether the model reads its inputs as numeric features of one flat row: not an image or
    /// a sequence, and no column read as ids by an embedding. Only then do two inputs span a
    /// plane (the decision-boundary view); a user and an item id do not.
    pub fn reads_numeric_features(&self) -> bool {
        let flat = matches!(self.config.input_shape, None | Some(Shape::Flat(_)));
        flat && !self
            .config
            .layers
            .iter()
            .any(|l| matches!(l.kind, LayerKind::Embedding { .. }))
    }

    pub fn output_width(&self) -> usize {
        self.layers.last().map_or(0, Layer::output_width)
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Wiring and shapes of every layer, in layer order.
    pub fn layer_plans(&self) -> &[PlannedLayer] {
        &self.plans
    }

    /// The layer called `name`.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name() == name)
    }

    pub fn loss_kind(&self) -> LossKind {
        self.loss.kind()
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.layers.iter().map(Layer::param_count).sum()
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        self.optimizer.steps()
    }

    /// The learning rate the next step will use (schedule applied to the base lr).
    pub fn lr(&self) -> f32 {
        self.config.schedule.lr_at(self.base_lr, self.steps())
    }

    /// The base learning rate the schedule scales.
    pub fn base_lr(&self) -> f32 {
        self.base_lr
    }

    /// Changes the base learning rate, effective from the next step (a live parameter). The
    /// schedule keeps its position: warm-up and decay factors still apply.
    pub fn set_lr(&mut self, lr: f32) -> Result<(), NnError> {
        if !(lr >= 0.0 && lr.is_finite()) {
            return Err(NnError::InvalidConfig(format!(
                "learning rate must be a finite number ≥ 0, got {lr}"
            )));
        }
        self.base_lr = lr;
        Ok(())
    }

    /// Changes gradient clipping, effective from the next step.
    pub fn set_clip_grad_norm(&mut self, max_norm: Option<f32>) -> Result<(), NnError> {
        check_clip(max_norm)?;
        self.clip_grad_norm = max_norm;
        Ok(())
    }

    /// Clips the gradients (if configured) and takes one optimizer step at [`Model::lr`].
    /// Returns the global gradient norm before clipping. Fails if the gradients were already
    /// applied, so a failed `compute_gradients` can never replay old gradients.
    pub fn apply_gradients(&mut self) -> Result<f32, NnError> {
        if !self.gradients_fresh {
            return Err(NnError::StaleGradients);
        }
        let lr = self.lr();
        // With clipping the norm is needed before the update; without, the update loops
        // return Σ g² as they go (same summation order, so the same bits).
        let clip_norm = match self.clip_grad_norm {
            Some(max_norm) => {
                let norm = global_norm(self.layers.iter().flat_map(Layer::params).map(|p| p.grad));
                let scale = max_norm / (norm + 1e-6);
                if scale < 1.0 {
                    self.scale_gradients(scale);
                }
                Some(norm)
            }
            None => None,
        };
        self.optimizer.begin_step();
        let mut slot = 0;
        let mut sum_sq = 0.0f32;
        for layer in &mut self.layers {
            for param in layer.params_mut() {
                sum_sq += match param.rows {
                    Some(rows) => {
                        self.optimizer
                            .update_rows(slot, param.value, param.grad, rows, lr)
                    }
                    None => self.optimizer.update(slot, param.value, param.grad, lr),
                };
                slot += 1;
            }
        }
        self.gradients_fresh = false;
        Ok(clip_norm.unwrap_or_else(|| sum_sq.sqrt()))
    }

    /// One training step on a batch: forward, loss, backward, clip, optimizer step.
    pub fn train_step<'a>(
        &mut self,
        input: impl Into<ModelInput<'a>>,
        y: Targets,
    ) -> Result<StepStats, NnError> {
        let stats = self.compute_gradients(input, y)?;
        let lr = self.lr();
        let grad_norm = self.apply_gradients()?;
        Ok(StepStats {
            loss: stats.loss,
            grad_norm,
            correct: stats.correct,
            samples: stats.samples,
            lr,
        })
    }

    /// Outputs (logits for the classification losses) in evaluation mode (no dropout).
    /// x (batch, input_width) → (batch, output_width).
    pub fn predict<'a>(
        &mut self,
        input: impl Into<ModelInput<'a>>,
    ) -> Result<Array2<f32>, NnError> {
        self.forward(input, false).cloned()
    }

    /// Mean loss and correct count in evaluation mode; weights and gradients are untouched.
    pub fn evaluate<'a>(
        &mut self,
        input: impl Into<ModelInput<'a>>,
        y: Targets,
    ) -> Result<BatchStats, NnError> {
        self.forward(input, false)?;
        let Some(last) = self.layers.last() else {
            return Err(NnError::EmptyModel);
        };
        self.loss.evaluate(last.output().view(), y)
    }

    /// Per-layer activation scale and gradient flow of the last forward/backward pass.
    pub fn layer_stats(&self) -> Vec<LayerStats> {
        self.layers
            .iter()
            .enumerate()
            .map(|(position, layer)| {
                let output_grad = self.output_grad(position);
                let has_params = layer.param_count() > 0;
                let param_sum_sq = layer
                    .params()
                    .fold(0.0, |sum, p| sum + sum_of_squares(p.grad));
                LayerStats {
                    name: layer.name().to_string(),
                    activation_rms: rms(layer.output()),
                    output_grad_rms: rms(output_grad),
                    param_grad_norm: has_params.then(|| param_sum_sq.sqrt()),
                }
            })
            .collect()
    }

    pub(crate) fn layers_mut(&mut self) -> &mut [Layer] {
        &mut self.layers
    }

    pub(crate) fn mark_gradients_fresh(&mut self) {
        self.gradients_fresh = true;
    }
}

pub(crate) fn rms(values: &Array2<f32>) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let sum_sq: f32 = values.iter().map(|v| v * v).sum();
    (sum_sq / values.len() as f32).sqrt()
}
