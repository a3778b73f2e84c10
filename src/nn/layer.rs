//! The `Layer` enum: one exhaustive dispatch over layer kinds (dense, activations, dropout,
//! layer norm, convolutions, pooling, flatten, embeddings, GRU, combiners) and the views of
//! their parameters. Owns no maths of its own; each kind keeps forward and backward in its file.

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use super::activation::{Activation, ActivationLayer};
use super::combine::{Combine, CombineLayer};
use super::config::LayerKind;
use super::conv1d::{Conv1dGeometry, Conv1dLayer};
use super::conv2d::{Conv2dGeometry, Conv2dLayer};
use super::dense::DenseLayer;
use super::dropout::DropoutLayer;
use super::embedding::EmbeddingLayer;
use super::error::NnError;
use super::gru::GruLayer;
use super::init::layer_rng;
use super::kernels::{flat, flat_mut};
use super::layer_norm::LayerNormLayer;
use super::layout::Shape;
use super::pool::{FlattenLayer, MaxPool2dLayer, PoolGeometry};
use super::wiring::PlannedLayer;

/// A read-only view of one parameter tensor and its gradient, flattened row-major.
#[derive(Clone, Copy, Debug)]
pub struct ParamRef<'a> {
    /// `weights`, `bias` or `gain`.
    pub name: &'static str,
    pub value: &'a [f32],
    pub grad: &'a [f32],
}

/// A mutable view of one parameter tensor and its gradient, flattened row-major.
#[derive(Debug)]
pub struct ParamMut<'a> {
    pub value: &'a mut [f32],
    pub grad: &'a mut [f32],
    /// For a sparse update (an embedding table): the only rows with gradients, which are all
    /// the optimizer touches. `None`: update every value.
    pub rows: Option<SparseRows<'a>>,
}

impl<'a> ParamMut<'a> {
    /// A tensor whose every value is updated.
    pub fn dense(value: &'a mut [f32], grad: &'a mut [f32]) -> Self {
        ParamMut {
            value,
            grad,
            rows: None,
        }
    }
}

/// The two tensors of a layer made of a weight matrix and a bias (dense, conv1d, conv2d).
pub(crate) fn weights_and_bias<'a>(
    weights: &'a Array2<f32>,
    weight_grads: &'a Array2<f32>,
    bias: &'a [f32],
    bias_grads: &'a [f32],
) -> [ParamRef<'a>; 2] {
    [
        ParamRef {
            name: "weights",
            value: flat(weights),
            grad: flat(weight_grads),
        },
        ParamRef {
            name: "bias",
            value: bias,
            grad: bias_grads,
        },
    ]
}

/// [`weights_and_bias`], for the optimizer.
pub(crate) fn weights_and_bias_mut<'a>(
    weights: &'a mut Array2<f32>,
    weight_grads: &'a mut Array2<f32>,
    bias: &'a mut [f32],
    bias_grads: &'a mut [f32],
) -> [ParamMut<'a>; 2] {
    [
        ParamMut::dense(flat_mut(weights), flat_mut(weight_grads)),
        ParamMut::dense(bias, bias_grads),
    ]
}

/// Rows of `width` values of a tensor that have gradients (sorted, no repeats).
#[derive(Clone, Copy, Debug)]
pub struct SparseRows<'a> {
    pub rows: &'a [usize],
    pub width: usize,
}

/// What a layer reads in one forward pass.
#[derive(Clone, Copy, Debug)]
pub struct LayerInputs<'a> {
    pub first: ArrayView2<'a, f32>,
    /// The second input of a combiner.
    pub second: Option<ArrayView2<'a, f32>>,
    /// Real (unpadded) steps per row of a sequence input; the earlier steps are left padding.
    pub lengths: Option<&'a [usize]>,
}

impl<'a> LayerInputs<'a> {
    /// One input without sequence lengths.
    pub fn one(x: ArrayView2<'a, f32>) -> Self {
        LayerInputs {
            first: x,
            second: None,
            lengths: None,
        }
    }
}

/// One layer of a model.
#[derive(Clone, Debug)]
pub enum Layer {
    Dense(DenseLayer),
    Activation(ActivationLayer),
    Dropout(DropoutLayer),
    LayerNorm(LayerNormLayer),
    Conv2d(Conv2dLayer),
    MaxPool2d(MaxPool2dLayer),
    Flatten(FlattenLayer),
    Conv1d(Conv1dLayer),
    Embedding(EmbeddingLayer),
    /// Boxed: a GRU keeps many more buffers than the other kinds.
    Gru(Box<GruLayer>),
    Combine(CombineLayer),
}

/// Up to four parameter views of one layer (the GRU has four tensors).
type ParamSlots<T> = [Option<T>; 4];

fn slots<T, const N: usize>(params: [T; N]) -> ParamSlots<T> {
    let mut out = [None, None, None, None];
    for (slot, param) in out.iter_mut().zip(params) {
        *slot = Some(param);
    }
    out
}

impl Layer {
    /// Builds a planned layer. Weights and dropout masks come from the model `seed` and the
    /// layer's position, so they are reproducible.
    pub fn build(plan: &PlannedLayer, seed: u64) -> Result<Layer, NnError> {
        let mut rng = layer_rng(seed, plan.position);
        let name = plan.name.as_str();
        let input = plan.input_shapes.first().copied().unwrap_or(Shape::Flat(0));
        let width = input.len();
        let activation = |activation| ActivationLayer::new(name, activation, width);
        Ok(match plan.kind {
            LayerKind::Dense { units, init, .. } => {
                Layer::Dense(DenseLayer::new(name, width, units, init, &mut rng)?)
            }
            LayerKind::Relu => Layer::Activation(activation(Activation::Relu)?),
            LayerKind::LeakyRelu { slope } => {
                Layer::Activation(activation(Activation::LeakyRelu { slope })?)
            }
            LayerKind::Tanh => Layer::Activation(activation(Activation::Tanh)?),
            LayerKind::Sigmoid => Layer::Activation(activation(Activation::Sigmoid)?),
            LayerKind::Softmax => Layer::Activation(activation(Activation::Softmax)?),
            LayerKind::Dropout { p } => {
                Layer::Dropout(DropoutLayer::new(name, p, width, rng.random())?)
            }
            LayerKind::LayerNorm { eps } => {
                Layer::LayerNorm(LayerNormLayer::new(name, width, eps)?)
            }
            LayerKind::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                init,
            } => {
                let g = Conv2dGeometry::new(name, input, filters, kernel, stride, padding)?;
                Layer::Conv2d(Conv2dLayer::new(name, g, init, &mut rng)?)
            }
            LayerKind::MaxPool2d { kernel, stride } => {
                let g = PoolGeometry::new(name, input, kernel, stride)?;
                Layer::MaxPool2d(MaxPool2dLayer::new(name, g))
            }
            LayerKind::Flatten => Layer::Flatten(FlattenLayer::new(name, width)),
            LayerKind::Conv1d {
                filters,
                kernel,
                stride,
                padding,
                init,
            } => {
                let g = Conv1dGeometry::new(name, input, filters, kernel, stride, padding)?;
                Layer::Conv1d(Conv1dLayer::new(name, g, init, &mut rng)?)
            }
            LayerKind::Embedding { vocab, dim } => {
                Layer::Embedding(EmbeddingLayer::new(name, width, vocab, dim, &mut rng)?)
            }
            LayerKind::Gru {
                hidden,
                return_sequence,
            } => {
                let gru = GruLayer::new(name, input, hidden, return_sequence, &mut rng)?;
                Layer::Gru(Box::new(gru))
            }
            LayerKind::Dot | LayerKind::Concat => {
                let combine = if plan.kind == LayerKind::Dot {
                    Combine::Dot
                } else {
                    Combine::Concat
                };
                let second = plan.input_shapes.get(1).map_or(0, Shape::len);
                Layer::Combine(CombineLayer::new(name, combine, (width, second)))
            }
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Layer::Dense(l) => l.name(),
            Layer::Activation(l) => l.name(),
            Layer::Dropout(l) => l.name(),
            Layer::LayerNorm(l) => l.name(),
            Layer::Conv2d(l) => l.name(),
            Layer::MaxPool2d(l) => l.name(),
            Layer::Flatten(l) => l.name(),
            Layer::Conv1d(l) => l.name(),
            Layer::Embedding(l) => l.name(),
            Layer::Gru(l) => l.name(),
            Layer::Combine(l) => l.name(),
        }
    }

    /// Features per row of the (first) input.
    pub fn input_width(&self) -> usize {
        match self {
            Layer::Dense(l) => l.inputs(),
            Layer::Activation(l) => l.width(),
            Layer::Dropout(l) => l.width(),
            Layer::LayerNorm(l) => l.width(),
            Layer::Conv2d(l) => l.geometry().input_shape().len(),
            Layer::MaxPool2d(l) => l.geometry().input_shape().len(),
            Layer::Flatten(l) => l.width(),
            Layer::Conv1d(l) => l.geometry().input_shape().len(),
            Layer::Embedding(l) => l.ids_per_row(),
            Layer::Gru(l) => l.input_width(),
            Layer::Combine(l) => l.input_widths().0,
        }
    }

    /// Features per output row.
    pub fn output_width(&self) -> usize {
        match self {
            Layer::Dense(l) => l.units(),
            Layer::Conv2d(l) => l.geometry().output_shape().len(),
            Layer::MaxPool2d(l) => l.geometry().output_shape().len(),
            Layer::Conv1d(l) => l.geometry().output_shape().len(),
            Layer::Embedding(l) => l.ids_per_row() * l.dim(),
            Layer::Gru(l) => l.output_width(),
            Layer::Combine(l) => l.output_width(),
            Layer::Activation(_) | Layer::Dropout(_) | Layer::LayerNorm(_) | Layer::Flatten(_) => {
                self.input_width()
            }
        }
    }

    /// Forward pass of a one-input layer. x (batch, input_width) → y (batch, output_width),
    /// kept in the layer. `train` only matters for dropout.
    pub fn forward(&mut self, x: ArrayView2<f32>, train: bool) -> Result<&Array2<f32>, NnError> {
        self.forward_with(LayerInputs::one(x), train)
    }

    /// Forward pass with every input: a combiner's second input, a sequence's lengths.
    pub fn forward_with(
        &mut self,
        inputs: LayerInputs<'_>,
        train: bool,
    ) -> Result<&Array2<f32>, NnError> {
        let x = inputs.first;
        match self {
            Layer::Dense(l) => l.forward(x),
            Layer::Activation(l) => l.forward(x),
            Layer::Dropout(l) => l.forward(x, train),
            Layer::LayerNorm(l) => l.forward(x),
            Layer::Conv2d(l) => l.forward(x),
            Layer::MaxPool2d(l) => l.forward(x),
            Layer::Flatten(l) => l.forward(x),
            Layer::Conv1d(l) => l.forward(x),
            Layer::Embedding(l) => l.forward(x),
            Layer::Gru(l) => l.forward(x, inputs.lengths),
            Layer::Combine(l) => {
                let Some(second) = inputs.second else {
                    return Err(NnError::InvalidLayer {
                        layer: l.name().to_string(),
                        message: "needs two inputs, got one".into(),
                    });
                };
                l.forward(x, second)
            }
        }
    }

    /// Real steps per output row given the real steps per input row (left padding), written
    /// to `out`; false when the output is not a sequence whose padding can be told apart.
    pub fn output_lengths(&self, lengths: &[usize], out: &mut Vec<usize>) -> bool {
        out.clear();
        match self {
            Layer::Activation(_) | Layer::Dropout(_) | Layer::Embedding(_) => {
                out.extend_from_slice(lengths);
                true
            }
            Layer::Conv1d(l) => {
                let g = l.geometry();
                out.extend(lengths.iter().map(|&len| g.valid_output_steps(len)));
                true
            }
            Layer::Gru(l) if l.returns_sequence() => {
                out.extend_from_slice(lengths);
                true
            }
            Layer::Gru(_)
            | Layer::Dense(_)
            | Layer::LayerNorm(_)
            | Layer::Conv2d(_)
            | Layer::MaxPool2d(_)
            | Layer::Flatten(_)
            | Layer::Combine(_) => false,
        }
    }

    /// Backward pass after `forward`. grad_out (batch, output_width) = ∂L/∂y → ∂L/∂x of the
    /// first input (batch, input_width); a combiner's second is [`Layer::input_grads_of`].
    /// Parameter gradients are overwritten (not accumulated). An embedding passes nothing back
    /// (ids have no gradient) and returns an empty array.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        match self {
            Layer::Dense(l) => l.backward(grad_out),
            Layer::Activation(l) => l.backward(grad_out),
            Layer::Dropout(l) => l.backward(grad_out),
            Layer::LayerNorm(l) => l.backward(grad_out),
            Layer::Conv2d(l) => l.backward(grad_out),
            Layer::MaxPool2d(l) => l.backward(grad_out),
            Layer::Flatten(l) => l.backward(grad_out),
            Layer::Conv1d(l) => l.backward(grad_out),
            Layer::Gru(l) => l.backward(grad_out),
            Layer::Embedding(l) => {
                l.backward(grad_out)?;
                Ok(l.input_grads())
            }
            Layer::Combine(l) => {
                l.backward(grad_out)?;
                Ok(l.input_grads(0))
            }
        }
    }

    /// Like [`Layer::backward`] but only parameter gradients are needed (a layer reading the
    /// model input): ∂L/∂x is skipped where that saves work.
    pub fn backward_params_only(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        match self {
            Layer::Dense(l) => l.backward_params_only(grad_out),
            Layer::Conv2d(l) => l.backward_params_only(grad_out),
            Layer::Conv1d(l) => l.backward_params_only(grad_out),
            Layer::Gru(l) => l.backward_params_only(grad_out),
            Layer::Embedding(l) => l.backward(grad_out),
            Layer::LayerNorm(l) => l.backward(grad_out).map(|_| ()),
            Layer::Activation(_)
            | Layer::Dropout(_)
            | Layer::MaxPool2d(_)
            | Layer::Flatten(_)
            | Layer::Combine(_) => Ok(()),
        }
    }

    /// The output of the last forward pass (batch, output_width).
    pub fn output(&self) -> &Array2<f32> {
        match self {
            Layer::Dense(l) => l.output(),
            Layer::Activation(l) => l.output(),
            Layer::Dropout(l) => l.output(),
            Layer::LayerNorm(l) => l.output(),
            Layer::Conv2d(l) => l.output(),
            Layer::MaxPool2d(l) => l.output(),
            Layer::Flatten(l) => l.output(),
            Layer::Conv1d(l) => l.output(),
            Layer::Embedding(l) => l.output(),
            Layer::Gru(l) => l.output(),
            Layer::Combine(l) => l.output(),
        }
    }

    /// ∂L/∂x of the first input of the last backward pass (batch, input_width); empty when it
    /// was skipped.
    pub fn input_grads(&self) -> &Array2<f32> {
        self.input_grads_of(0)
    }

    /// ∂L/∂(input `slot`) of the last backward pass.
    pub fn input_grads_of(&self, slot: usize) -> &Array2<f32> {
        match self {
            Layer::Dense(l) => l.input_grads(),
            Layer::Activation(l) => l.input_grads(),
            Layer::Dropout(l) => l.input_grads(),
            Layer::LayerNorm(l) => l.input_grads(),
            Layer::Conv2d(l) => l.input_grads(),
            Layer::MaxPool2d(l) => l.input_grads(),
            Layer::Flatten(l) => l.input_grads(),
            Layer::Conv1d(l) => l.input_grads(),
            Layer::Embedding(l) => l.input_grads(),
            Layer::Gru(l) => l.input_grads(),
            Layer::Combine(l) => l.input_grads(slot),
        }
    }

    /// Parameter tensors and their gradients, in a fixed order (weights before biases).
    pub fn params(&self) -> impl Iterator<Item = ParamRef<'_>> {
        let params = match self {
            Layer::Dense(l) => slots(l.params()),
            Layer::LayerNorm(l) => slots(l.params()),
            Layer::Conv2d(l) => slots(l.params()),
            Layer::Conv1d(l) => slots(l.params()),
            Layer::Embedding(l) => slots(l.params()),
            Layer::Gru(l) => slots(l.params()),
            Layer::Activation(_)
            | Layer::Dropout(_)
            | Layer::MaxPool2d(_)
            | Layer::Flatten(_)
            | Layer::Combine(_) => slots::<ParamRef<'_>, 0>([]),
        };
        params.into_iter().flatten()
    }

    /// Mutable parameter tensors and gradients, in the same order as [`Layer::params`].
    pub fn params_mut(&mut self) -> impl Iterator<Item = ParamMut<'_>> {
        let params = match self {
            Layer::Dense(l) => slots(l.params_mut()),
            Layer::LayerNorm(l) => slots(l.params_mut()),
            Layer::Conv2d(l) => slots(l.params_mut()),
            Layer::Conv1d(l) => slots(l.params_mut()),
            Layer::Embedding(l) => slots(l.params_mut()),
            Layer::Gru(l) => slots(l.params_mut()),
            Layer::Activation(_)
            | Layer::Dropout(_)
            | Layer::MaxPool2d(_)
            | Layer::Flatten(_)
            | Layer::Combine(_) => slots::<ParamMut<'_>, 0>([]),
        };
        params.into_iter().flatten()
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.params().map(|p| p.value.len()).sum()
    }

    /// After gradients were replaced from outside (merged across replicas): a sparse layer
    /// finds its rows with gradients again.
    pub(crate) fn gradients_replaced(&mut self) {
        if let Layer::Embedding(l) = self {
            l.refresh_touched_rows();
        }
    }
}
