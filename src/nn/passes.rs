//! The forward and backward passes of a `Model` over its layer DAG: inputs gathered from the
//! model input or earlier layers, sequence lengths carried for masking, and output gradients
//! summed where a layer feeds several others. A chain runs without any extra copy.

use ndarray::{Array2, ArrayView2};

use super::error::NnError;
use super::kernels::ensure_shape;
use super::layer::{Layer, LayerInputs};
use super::loss::BatchStats;
use super::model::{Model, ModelInput};
use super::targets::Targets;
use super::wiring::{PlannedLayer, Source};

/// Buffers of the passes, reused between steps.
#[derive(Clone, Debug, Default)]
pub(crate) struct PassBuffers {
    /// Selected model-input columns, per layer and input slot (empty when not selecting).
    gathered: Vec<[Array2<f32>; 2]>,
    /// Summed output gradients of layers read by several others.
    grad_sums: Vec<Array2<f32>>,
    /// Real steps per row of each layer's output, where it is a padded sequence.
    lengths: Vec<Vec<usize>>,
    has_lengths: Vec<bool>,
}

impl PassBuffers {
    pub(crate) fn new(plans: &[PlannedLayer]) -> Self {
        let n = plans.len();
        PassBuffers {
            gathered: (0..n)
                .map(|_| [Array2::zeros((0, 0)), Array2::zeros((0, 0))])
                .collect(),
            grad_sums: (0..n).map(|_| Array2::zeros((0, 0))).collect(),
            lengths: vec![Vec::new(); n],
            has_lengths: vec![false; n],
        }
    }
}

impl Model {
    /// Runs every layer in order. x (batch, input_width) → (batch, output_width), borrowed
    /// from the last layer. `train` switches dropout on.
    pub fn forward<'a>(
        &mut self,
        input: impl Into<ModelInput<'a>>,
        train: bool,
    ) -> Result<&Array2<f32>, NnError> {
        let input = input.into();
        self.check_input(&input)?;
        for position in 0..self.layers.len() {
            self.forward_layer(position, input, train)?;
        }
        match self.layers.last() {
            Some(last) => Ok(last.output()),
            None => Err(NnError::EmptyModel),
        }
    }

    fn check_input(&self, input: &ModelInput<'_>) -> Result<(), NnError> {
        let width = self.config.input_width;
        if input.x.ncols() != width {
            let reader = self
                .plans
                .iter()
                .find(|p| p.sources.contains(&Source::Input { columns: None }))
                .or(self.plans.first());
            return Err(NnError::InputWidth {
                layer: reader.map(|p| p.name.clone()).unwrap_or_default(),
                expected: width,
                got: input.x.ncols(),
            });
        }
        if let Some(lengths) = input.lengths
            && lengths.len() != input.x.nrows()
        {
            return Err(NnError::InvalidConfig(format!(
                "{} sequence lengths for {} rows",
                lengths.len(),
                input.x.nrows()
            )));
        }
        Ok(())
    }

    fn forward_layer(
        &mut self,
        position: usize,
        input: ModelInput<'_>,
        train: bool,
    ) -> Result<(), NnError> {
        let (Some(plan), Some(gathered)) = (
            self.plans.get(position),
            self.buffers.gathered.get_mut(position),
        ) else {
            return Err(NnError::EmptyModel);
        };
        for (source, buffer) in plan.sources.iter().zip(gathered.iter_mut()) {
            if let Source::Input {
                columns: Some(columns),
            } = source
            {
                gather_columns(input.x, columns, buffer);
            }
        }
        let (before, rest) = self.layers.split_at_mut(position);
        let Some(layer) = rest.first_mut() else {
            return Err(NnError::EmptyModel);
        };
        let view = |slot: usize| -> Option<ArrayView2<'_, f32>> {
            Some(match plan.sources.get(slot)? {
                Source::Input { columns: None } => input.x,
                Source::Input { columns: Some(_) } => gathered.get(slot)?.view(),
                Source::Layer(j) => before.get(*j)?.output().view(),
            })
        };
        let Some(first) = view(0) else {
            return Err(NnError::EmptyModel);
        };
        let (lengths_before, lengths_rest) = self.buffers.lengths.split_at_mut(position);
        let in_lengths = match plan.sources.first() {
            Some(Source::Input { .. }) => input.lengths,
            Some(Source::Layer(j)) => match self.buffers.has_lengths.get(*j) {
                Some(true) => lengths_before.get(*j).map(Vec::as_slice),
                _ => None,
            },
            None => None,
        };
        let inputs = LayerInputs {
            first,
            second: view(1),
            lengths: in_lengths,
        };
        layer.forward_with(inputs, train)?;
        let carried = match (in_lengths, lengths_rest.first_mut()) {
            (Some(lengths), Some(out)) => layer.output_lengths(lengths, out),
            _ => false,
        };
        if let Some(flag) = self.buffers.has_lengths.get_mut(position) {
            *flag = carried;
        }
        Ok(())
    }

    /// Forward in training mode, loss, and backward: leaves ∂(mean loss)/∂θ in the layers
    /// without changing any weight. Use with [`Model::apply_gradients`] (and the gradient
    /// merging methods in between for data parallelism).
    pub fn compute_gradients<'a>(
        &mut self,
        input: impl Into<ModelInput<'a>>,
        y: Targets,
    ) -> Result<BatchStats, NnError> {
        // Until backward completes, the stored gradients belong to no batch.
        self.gradients_fresh = false;
        self.forward(input, true)?;
        let Some(last) = self.layers.last() else {
            return Err(NnError::EmptyModel);
        };
        let stats = self.loss.forward_backward(last.output().view(), y)?;
        for position in (0..self.layers.len()).rev() {
            self.backward_layer(position)?;
        }
        self.gradients_fresh = true;
        Ok(stats)
    }

    /// Backward through one layer, from the summed gradients of the layers that read it.
    fn backward_layer(&mut self, position: usize) -> Result<(), NnError> {
        let last = self.layers.len().saturating_sub(1);
        let (left, right) = self.layers.split_at_mut(position + 1);
        let Some(layer) = left.last_mut() else {
            return Err(NnError::EmptyModel);
        };
        let readers = self.consumers.get(position).map_or(&[][..], Vec::as_slice);
        let consumer_grad = |&(reader, slot): &(usize, usize)| {
            right
                .get(reader - position - 1)
                .map(|l: &Layer| l.input_grads_of(slot).view())
        };
        let grad = if position == last {
            self.loss.grad().view()
        } else if let [only] = readers {
            consumer_grad(only).ok_or(NnError::EmptyModel)?
        } else {
            let Some(sum) = self.buffers.grad_sums.get_mut(position) else {
                return Err(NnError::EmptyModel);
            };
            let (rows, cols) = layer.output().dim();
            ensure_shape(sum, rows, cols);
            sum.fill(0.0);
            for reader in readers {
                if let Some(g) = consumer_grad(reader) {
                    *sum += &g;
                }
            }
            sum.view()
        };
        let reads_only_input = self
            .plans
            .get(position)
            .is_some_and(PlannedLayer::reads_only_input);
        if reads_only_input {
            layer.backward_params_only(grad)
        } else {
            layer.backward(grad).map(|_| ())
        }
    }

    /// ∂L/∂(output) of layer `position` in the last backward pass.
    pub(crate) fn output_grad(&self, position: usize) -> &Array2<f32> {
        let readers = self.consumers.get(position).map_or(&[][..], Vec::as_slice);
        if position + 1 == self.layers.len() {
            return self.loss.grad();
        }
        match readers {
            [(reader, slot)] => match self.layers.get(*reader) {
                Some(layer) => layer.input_grads_of(*slot),
                None => self.loss.grad(),
            },
            _ => self
                .buffers
                .grad_sums
                .get(position)
                .unwrap_or(self.loss.grad()),
        }
    }
}

/// buffer = the listed columns of x.
fn gather_columns(x: ArrayView2<f32>, columns: &[usize], buffer: &mut Array2<f32>) {
    ensure_shape(buffer, x.nrows(), columns.len());
    for (mut to, from) in buffer.rows_mut().into_iter().zip(x.rows()) {
        for (t, &c) in to.iter_mut().zip(columns) {
            *t = from.get(c).copied().unwrap_or(0.0);
        }
    }
}
