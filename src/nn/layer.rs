//! The `Layer` enum: one exhaustive dispatch over layer kinds (dense, activations, dropout,
//! layer norm) and the views of their parameters. Owns no maths of its own; each kind keeps
//! its forward and backward in its own file.

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use super::activation::{Activation, ActivationLayer};
use super::config::LayerKind;
use super::dense::DenseLayer;
use super::dropout::DropoutLayer;
use super::error::NnError;
use super::init::layer_rng;
use super::layer_norm::LayerNormLayer;

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
}

/// One layer of a sequential model.
#[derive(Clone, Debug)]
pub enum Layer {
    Dense(DenseLayer),
    Activation(ActivationLayer),
    Dropout(DropoutLayer),
    LayerNorm(LayerNormLayer),
}

impl Layer {
    /// Builds the layer at `position` (0-based) of a model from its config. Weights and dropout
    /// masks come from the model `seed` and the position, so they are reproducible.
    pub fn build(
        name: &str,
        kind: &LayerKind,
        input_width: usize,
        seed: u64,
        position: usize,
    ) -> Result<Layer, NnError> {
        let mut rng = layer_rng(seed, position);
        let activation = |activation| ActivationLayer::new(name, activation, input_width);
        Ok(match *kind {
            LayerKind::Dense { units, init, .. } => {
                Layer::Dense(DenseLayer::new(name, input_width, units, init, &mut rng)?)
            }
            LayerKind::Relu => Layer::Activation(activation(Activation::Relu)?),
            LayerKind::LeakyRelu { slope } => {
                Layer::Activation(activation(Activation::LeakyRelu { slope })?)
            }
            LayerKind::Tanh => Layer::Activation(activation(Activation::Tanh)?),
            LayerKind::Sigmoid => Layer::Activation(activation(Activation::Sigmoid)?),
            LayerKind::Softmax => Layer::Activation(activation(Activation::Softmax)?),
            LayerKind::Dropout { p } => {
                Layer::Dropout(DropoutLayer::new(name, p, input_width, rng.random())?)
            }
            LayerKind::LayerNorm { eps } => {
                Layer::LayerNorm(LayerNormLayer::new(name, input_width, eps)?)
            }
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Layer::Dense(l) => l.name(),
            Layer::Activation(l) => l.name(),
            Layer::Dropout(l) => l.name(),
            Layer::LayerNorm(l) => l.name(),
        }
    }

    /// Features per input row.
    pub fn input_width(&self) -> usize {
        match self {
            Layer::Dense(l) => l.inputs(),
            Layer::Activation(l) => l.width(),
            Layer::Dropout(l) => l.width(),
            Layer::LayerNorm(l) => l.width(),
        }
    }

    /// Features per output row.
    pub fn output_width(&self) -> usize {
        match self {
            Layer::Dense(l) => l.units(),
            other => other.input_width(),
        }
    }

    /// Forward pass. x (batch, input_width) → y (batch, output_width), kept in the layer.
    /// `train` only matters for dropout.
    pub fn forward(&mut self, x: ArrayView2<f32>, train: bool) -> Result<&Array2<f32>, NnError> {
        match self {
            Layer::Dense(l) => l.forward(x),
            Layer::Activation(l) => l.forward(x),
            Layer::Dropout(l) => l.forward(x, train),
            Layer::LayerNorm(l) => l.forward(x),
        }
    }

    /// Backward pass after `forward`. grad_out (batch, output_width) = ∂L/∂y → ∂L/∂x
    /// (batch, input_width); parameter gradients are overwritten (not accumulated).
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        match self {
            Layer::Dense(l) => l.backward(grad_out),
            Layer::Activation(l) => l.backward(grad_out),
            Layer::Dropout(l) => l.backward(grad_out),
            Layer::LayerNorm(l) => l.backward(grad_out),
        }
    }

    /// Like [`Layer::backward`] but only parameter gradients are needed (the first layer of a
    /// model): dense skips ∂L/∂x, parameter-free layers do nothing.
    pub fn backward_params_only(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        match self {
            Layer::Dense(l) => l.backward_params_only(grad_out),
            Layer::LayerNorm(l) => l.backward(grad_out).map(|_| ()),
            Layer::Activation(_) | Layer::Dropout(_) => Ok(()),
        }
    }

    /// The output of the last forward pass (batch, output_width).
    pub fn output(&self) -> &Array2<f32> {
        match self {
            Layer::Dense(l) => l.output(),
            Layer::Activation(l) => l.output(),
            Layer::Dropout(l) => l.output(),
            Layer::LayerNorm(l) => l.output(),
        }
    }

    /// ∂L/∂x of the last backward pass (batch, input_width); empty for the first layer of a
    /// model, whose input gradient is skipped.
    pub fn input_grads(&self) -> &Array2<f32> {
        match self {
            Layer::Dense(l) => l.input_grads(),
            Layer::Activation(l) => l.input_grads(),
            Layer::Dropout(l) => l.input_grads(),
            Layer::LayerNorm(l) => l.input_grads(),
        }
    }

    /// Parameter tensors and their gradients, in a fixed order (weights then bias).
    pub fn params(&self) -> impl Iterator<Item = ParamRef<'_>> {
        let params = match self {
            Layer::Dense(l) => l.params().map(Some),
            Layer::LayerNorm(l) => l.params().map(Some),
            Layer::Activation(_) | Layer::Dropout(_) => [None, None],
        };
        params.into_iter().flatten()
    }

    /// Mutable parameter tensors and gradients, in the same order as [`Layer::params`].
    pub fn params_mut(&mut self) -> impl Iterator<Item = ParamMut<'_>> {
        let params = match self {
            Layer::Dense(l) => l.params_mut().map(Some),
            Layer::LayerNorm(l) => l.params_mut().map(Some),
            Layer::Activation(_) | Layer::Dropout(_) => [None, None],
        };
        params.into_iter().flatten()
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.params().map(|p| p.value.len()).sum()
    }
}
