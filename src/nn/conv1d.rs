//! 1-D convolution over sequences stored time-major (step t's features contiguous), forward
//! and backward side by side: each output step's receptive field is one contiguous slice of
//! the row, gathered for the whole batch (im2col), then one matrix product per pass.
//! Buffers are reused; nothing allocates unless the batch size changes.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand_chacha::ChaCha8Rng;

use super::config::Init;
use super::conv2d::{check_gradient, check_input};
use super::error::NnError;
use super::init::init_tensor;
use super::kernels::{column_sums, contiguous_rows, ensure_shape, flat, flat_mut};
use super::layer::{ParamMut, ParamRef, weights_and_bias, weights_and_bias_mut};
use super::layout::{Shape, as_sequence, sliding_output};

/// Sizes of a 1-D convolution, checked against its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dGeometry {
    pub steps: usize,
    pub channels: usize,
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    /// Zero steps added at both ends (as PyTorch's `padding`).
    pub padding: usize,
    pub out_steps: usize,
}

impl Conv1dGeometry {
    /// `filters` kernels of `kernel` steps over `input` (a sequence, or flat rows read as a
    /// sequence of single values); an error names `layer` when they do not fit.
    pub fn new(
        layer: &str,
        input: Shape,
        filters: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Self, NnError> {
        let (steps, channels) = as_sequence(layer, input)?;
        let invalid = |message: String| NnError::InvalidLayer {
            layer: layer.to_string(),
            message,
        };
        if filters == 0 || kernel == 0 || stride == 0 {
            return Err(invalid(format!(
                "needs at least one filter, a kernel ≥ 1 and a stride ≥ 1, got {filters} filters, kernel {kernel}, stride {stride}"
            )));
        }
        let Some(out_steps) = sliding_output(steps, kernel, stride, padding) else {
            return Err(invalid(format!(
                "a kernel of {kernel} steps with padding {padding} does not fit its {steps} steps"
            )));
        };
        Ok(Conv1dGeometry {
            steps,
            channels,
            filters,
            kernel,
            stride,
            padding,
            out_steps,
        })
    }

    pub fn input_shape(&self) -> Shape {
        Shape::Sequence {
            steps: self.steps,
            features: self.channels,
        }
    }

    pub fn output_shape(&self) -> Shape {
        Shape::Sequence {
            steps: self.out_steps,
            features: self.filters,
        }
    }

    /// Values under one filter: kernel·channels.
    pub fn taps(&self) -> usize {
        self.kernel * self.channels
    }

    pub fn param_count(&self) -> usize {
        self.filters * (self.taps() + 1)
    }

    /// Valid (unpadded) output steps when the input's last `valid` steps are real and the
    /// earlier ones padding: an output step is valid when its window reaches a real step.
    pub fn valid_output_steps(&self, valid: usize) -> usize {
        if valid == 0 {
            return 0;
        }
        let first_real = self.steps.saturating_sub(valid);
        let reach = (first_real + self.padding + 1).saturating_sub(self.kernel);
        let first_valid = reach.div_ceil(self.stride);
        self.out_steps.saturating_sub(first_valid)
    }
}

/// A 1-D convolution with weights W (kernel·channels, filters) — row k·C + c holds PyTorch's
/// weight[f, c, k] in column f — and bias b (filters). Rows (batch, T·C) → (batch, OT·F).
#[derive(Clone, Debug)]
pub struct Conv1dLayer {
    name: String,
    geometry: Conv1dGeometry,
    weights: Array2<f32>,
    bias: Vec<f32>,
    weight_grads: Array2<f32>,
    bias_grads: Vec<f32>,
    /// im2col of the last input (batch·out_steps, taps).
    cols: Array2<f32>,
    grad_cols: Array2<f32>,
    scratch: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl Conv1dLayer {
    /// A layer with weights drawn from `init` (fan-in k·C, fan-out k·F) and zero bias.
    pub fn new(
        name: impl Into<String>,
        geometry: Conv1dGeometry,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        let shape = (geometry.taps(), geometry.filters);
        let fan_out = geometry.kernel * geometry.filters;
        let weights = init_tensor(init, shape, geometry.taps(), fan_out, rng);
        Self::from_parts(name, geometry, weights, vec![0.0; geometry.filters])
    }

    /// A layer with given weights (taps, filters) and bias (filters).
    pub fn from_parts(
        name: impl Into<String>,
        geometry: Conv1dGeometry,
        weights: Array2<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, NnError> {
        let name = name.into();
        let expected = (geometry.taps(), geometry.filters);
        if weights.dim() != expected || bias.len() != geometry.filters {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!(
                    "weights must be {}x{} and the bias {} values, got {:?} and {}",
                    expected.0,
                    expected.1,
                    geometry.filters,
                    weights.dim(),
                    bias.len()
                ),
            });
        }
        Ok(Conv1dLayer {
            name,
            weight_grads: Array2::zeros(expected),
            bias_grads: vec![0.0; geometry.filters],
            weights: weights.as_standard_layout().into_owned(),
            bias,
            cols: Array2::zeros((0, geometry.taps())),
            grad_cols: Array2::zeros((0, geometry.taps())),
            scratch: Array2::zeros((0, 0)),
            output: Array2::zeros((0, geometry.output_shape().len())),
            input_grads: Array2::zeros((0, geometry.input_shape().len())),
            geometry,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn geometry(&self) -> &Conv1dGeometry {
        &self.geometry
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, T·C) → y (batch, OT·F) with
    /// y[b, t, f] = b_f + Σ_{k,c} W[k·C + c, f] · x[b, t·s + k − p, c] (zero outside 0..T).
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let g = self.geometry;
        let in_len = g.input_shape().len();
        let rows = check_input(&self.name, x, in_len)?;
        let taps = g.taps();
        ensure_shape(&mut self.cols, rows * g.out_steps, taps);
        let xs = contiguous_rows(x, &mut self.scratch);
        let windows = flat_mut(&mut self.cols).chunks_exact_mut(g.out_steps * taps);
        for (sample, cols) in xs.chunks_exact(in_len).zip(windows) {
            for (t, window) in cols.chunks_exact_mut(taps).enumerate() {
                for (k, tap) in window.chunks_exact_mut(g.channels).enumerate() {
                    let step = (t * g.stride + k).checked_sub(g.padding);
                    let from = step.and_then(|s| sample.get(s * g.channels..(s + 1) * g.channels));
                    match from {
                        Some(values) => tap.copy_from_slice(values),
                        None => tap.fill(0.0),
                    }
                }
            }
        }
        ensure_shape(&mut self.output, rows, g.out_steps * g.filters);
        let mut out = as_matrix_mut(&mut self.output, rows * g.out_steps, g.filters);
        for row in out.rows_mut() {
            for (o, &b) in row.into_iter().zip(&self.bias) {
                *o = b;
            }
        }
        general_mat_mul(1.0, &self.cols, &self.weights, 1.0, &mut out);
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, OT·F) → ∂L/∂x (batch, T·C); stores ∂L/∂W = colsᵀ·g and
    /// ∂L/∂b = Σ g over batch and steps.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        self.backward_inner(grad_out, true)?;
        Ok(&self.input_grads)
    }

    /// Parameter gradients only (the first layer of a model).
    pub fn backward_params_only(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        self.backward_inner(grad_out, false)
    }

    fn backward_inner(
        &mut self,
        grad_out: ArrayView2<f32>,
        need_input: bool,
    ) -> Result<(), NnError> {
        let g = self.geometry;
        check_gradient(&self.name, grad_out, self.output.dim())?;
        let rows = self.output.nrows();
        let grads = contiguous_rows(grad_out, &mut self.scratch);
        let Ok(grad) = ArrayView2::from_shape((rows * g.out_steps, g.filters), grads) else {
            unreachable!("the gradient has the output's shape, checked above")
        };
        general_mat_mul(1.0, &self.cols.t(), &grad, 0.0, &mut self.weight_grads);
        column_sums(grads, &mut self.bias_grads, g.filters);
        if !need_input {
            return Ok(());
        }
        ensure_shape(&mut self.grad_cols, rows * g.out_steps, g.taps());
        general_mat_mul(1.0, &grad, &self.weights.t(), 0.0, &mut self.grad_cols);
        let in_len = g.input_shape().len();
        ensure_shape(&mut self.input_grads, rows, in_len);
        let dx = flat_mut(&mut self.input_grads);
        dx.fill(0.0);
        let windows = flat(&self.grad_cols).chunks_exact(g.out_steps * g.taps());
        for (sample, cols) in dx.chunks_exact_mut(in_len).zip(windows) {
            for (t, window) in cols.chunks_exact(g.taps()).enumerate() {
                for (k, tap) in window.chunks_exact(g.channels).enumerate() {
                    let step = (t * g.stride + k).checked_sub(g.padding);
                    let to =
                        step.and_then(|s| sample.get_mut(s * g.channels..(s + 1) * g.channels));
                    if let Some(to) = to {
                        for (d, &v) in to.iter_mut().zip(tap) {
                            *d += v;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn params(&self) -> [ParamRef<'_>; 2] {
        weights_and_bias(
            &self.weights,
            &self.weight_grads,
            &self.bias,
            &self.bias_grads,
        )
    }

    pub(crate) fn params_mut(&mut self) -> [ParamMut<'_>; 2] {
        weights_and_bias_mut(
            &mut self.weights,
            &mut self.weight_grads,
            &mut self.bias,
            &mut self.bias_grads,
        )
    }
}

/// A layer buffer seen as a (rows, cols) matrix of the same numbers.
pub(crate) fn as_matrix_mut(
    buffer: &mut Array2<f32>,
    rows: usize,
    cols: usize,
) -> ArrayViewMut2<'_, f32> {
    match ArrayViewMut2::from_shape((rows, cols), flat_mut(buffer)) {
        Ok(view) => view,
        Err(_) => unreachable!("callers size the buffer to rows·cols numbers"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_two_step_kernel_slides_over_a_sequence_of_two_channels() {
        let input = Shape::Sequence {
            steps: 3,
            features: 2,
        };
        let g = Conv1dGeometry::new("conv", input, 1, 2, 1, 0).unwrap();
        assert_eq!(g.out_steps, 2);
        // W rows: (k0,c0), (k0,c1), (k1,c0), (k1,c1).
        let weights = array![[1.0], [0.0], [0.0], [10.0]];
        let mut conv = Conv1dLayer::from_parts("conv", g, weights, vec![0.5]).unwrap();
        // Steps (1,2), (3,4), (5,6): y0 = 1 + 10·4 + 0.5, y1 = 3 + 10·6 + 0.5.
        let x = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]];
        assert_eq!(conv.forward(x.view()).unwrap(), &array![[41.5, 63.5]]);
    }

    #[test]
    fn padding_and_stride_follow_pytorch() {
        let g = Conv1dGeometry::new("c", Shape::Flat(5), 1, 3, 2, 1).unwrap();
        assert_eq!(g.out_steps, 3);
        let mut conv = Conv1dLayer::from_parts("c", g, Array2::ones((3, 1)), vec![0.0]).unwrap();
        // Padded 0,1,2,3,4,5,0 → windows at 0, 2, 4: 0+1+2, 2+3+4, 4+5+0.
        let y = conv
            .forward(array![[1.0, 2.0, 3.0, 4.0, 5.0]].view())
            .unwrap();
        assert_eq!(y, &array![[3.0, 9.0, 9.0]]);
    }

    #[test]
    fn valid_steps_shrink_with_the_real_part_of_a_padded_input() {
        // 'same' convolution of 3 over 8 steps: the 5 real steps reach 6 outputs.
        let g = Conv1dGeometry::new("c", Shape::Flat(8), 1, 3, 1, 1).unwrap();
        assert_eq!(g.valid_output_steps(8), 8);
        assert_eq!(g.valid_output_steps(5), 6);
        assert_eq!(g.valid_output_steps(0), 0);
    }
}
