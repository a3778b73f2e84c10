//! Dense (fully connected) layer y = x·W + b: parameters, gradients, forward and backward side
//! by side. Owns and reuses its activation and gradient buffers; it never allocates in a step
//! unless the batch size changed.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand_chacha::ChaCha8Rng;

use super::config::Init;
use super::error::NnError;
use super::init::init_weights;
use super::kernels::{
    SMALL_BATCH_ROWS, column_sums, dense_forward_rows, dense_input_grads_rows,
    dense_weight_grads_rows, ensure_shape, flat, flat_mut,
};
use super::layer::{ParamMut, ParamRef, weights_and_bias, weights_and_bias_mut};

/// A fully connected layer with weights W (inputs, units) and bias b (units).
#[derive(Clone, Debug)]
pub struct DenseLayer {
    name: String,
    weights: Array2<f32>,
    bias: Vec<f32>,
    weight_grads: Array2<f32>,
    bias_grads: Vec<f32>,
    /// Copy of the last forward input (batch, inputs), needed for dW.
    input: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl DenseLayer {
    /// A layer with weights drawn from `init` and zero bias.
    pub fn new(
        name: impl Into<String>,
        inputs: usize,
        units: usize,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        let name = name.into();
        if inputs == 0 || units == 0 {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!(
                    "needs at least one input and one unit, got {inputs} inputs and {units} units"
                ),
            });
        }
        let weights = init_weights(init, inputs, units, rng);
        Self::from_parts(name, weights, vec![0.0; units])
    }

    /// A layer with given weights (inputs, units) and bias (units).
    pub fn from_parts(
        name: impl Into<String>,
        weights: Array2<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, NnError> {
        let name = name.into();
        let (inputs, units) = weights.dim();
        if inputs == 0 || units == 0 {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!("weights must be non-empty, got {inputs}x{units}"),
            });
        }
        if bias.len() != units {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!(
                    "weights are {inputs}x{units} but the bias has {} values",
                    bias.len()
                ),
            });
        }
        Ok(DenseLayer {
            name,
            weights: weights.as_standard_layout().into_owned(),
            bias_grads: vec![0.0; units],
            bias,
            weight_grads: Array2::zeros((inputs, units)),
            input: Array2::zeros((0, inputs)),
            output: Array2::zeros((0, units)),
            input_grads: Array2::zeros((0, inputs)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn inputs(&self) -> usize {
        self.weights.nrows()
    }

    pub fn units(&self) -> usize {
        self.weights.ncols()
    }

    /// Forward pass. x (batch, inputs) → y (batch, units) = x·W + b.
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let (rows, cols) = x.dim();
        let (inputs, units) = self.weights.dim();
        if cols != inputs {
            return Err(NnError::InputWidth {
                layer: self.name.clone(),
                expected: inputs,
                got: cols,
            });
        }
        if rows == 0 {
            return Err(NnError::EmptyBatch {
                layer: self.name.clone(),
            });
        }
        ensure_shape(&mut self.input, rows, inputs);
        match x.as_slice() {
            Some(x) => flat_mut(&mut self.input).copy_from_slice(x),
            None => self.input.assign(&x),
        }
        ensure_shape(&mut self.output, rows, units);
        if rows <= SMALL_BATCH_ROWS {
            dense_forward_rows(
                flat(&self.input),
                flat(&self.weights),
                &self.bias,
                flat_mut(&mut self.output),
                inputs,
                units,
            );
        } else {
            for row in flat_mut(&mut self.output).chunks_exact_mut(units) {
                row.copy_from_slice(&self.bias);
            }
            general_mat_mul(1.0, &self.input, &self.weights, 1.0, &mut self.output);
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, units) = ∂L/∂y → returns ∂L/∂x (batch, inputs) and
    /// stores ∂L/∂W = xᵀ·grad_out (inputs, units) and ∂L/∂b = Σ_rows grad_out (units).
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        self.backward_inner(grad_out, true)?;
        Ok(&self.input_grads)
    }

    /// Backward pass for the first layer of a model: parameter gradients only, ∂L/∂x is skipped.
    pub fn backward_params_only(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        self.backward_inner(grad_out, false)
    }

    fn backward_inner(
        &mut self,
        grad_out: ArrayView2<f32>,
        need_input_grads: bool,
    ) -> Result<(), NnError> {
        let (rows, units) = self.output.dim();
        if grad_out.dim() != (rows, units) {
            return Err(NnError::GradientShape {
                layer: self.name.clone(),
                rows,
                cols: units,
                got_rows: grad_out.nrows(),
                got_cols: grad_out.ncols(),
            });
        }
        let inputs = self.inputs();
        if need_input_grads {
            ensure_shape(&mut self.input_grads, rows, inputs);
        }
        match grad_out.as_slice() {
            Some(g) if rows <= SMALL_BATCH_ROWS => {
                let x = flat(&self.input);
                dense_weight_grads_rows(x, g, flat_mut(&mut self.weight_grads), inputs, units);
                column_sums(g, &mut self.bias_grads, units);
                if need_input_grads {
                    let dx = flat_mut(&mut self.input_grads);
                    dense_input_grads_rows(g, flat(&self.weights), dx, inputs, units);
                }
            }
            contiguous => {
                general_mat_mul(1.0, &self.input.t(), &grad_out, 0.0, &mut self.weight_grads);
                match contiguous {
                    Some(g) => column_sums(g, &mut self.bias_grads, units),
                    None => {
                        self.bias_grads.fill(0.0);
                        for row in grad_out.rows() {
                            for (b, &v) in self.bias_grads.iter_mut().zip(row.iter()) {
                                *b += v;
                            }
                        }
                    }
                }
                if need_input_grads {
                    general_mat_mul(
                        1.0,
                        &grad_out,
                        &self.weights.t(),
                        0.0,
                        &mut self.input_grads,
                    );
                }
            }
        }
        Ok(())
    }

    /// Weights W (inputs, units).
    pub fn weights(&self) -> &Array2<f32> {
        &self.weights
    }

    pub fn weights_mut(&mut self) -> ArrayViewMut2<'_, f32> {
        self.weights.view_mut()
    }

    /// Bias b (units).
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    pub fn bias_mut(&mut self) -> &mut [f32] {
        &mut self.bias
    }

    /// ∂L/∂W (inputs, units) from the last backward pass.
    pub fn weight_grads(&self) -> &Array2<f32> {
        &self.weight_grads
    }

    /// ∂L/∂b (units) from the last backward pass.
    pub fn bias_grads(&self) -> &[f32] {
        &self.bias_grads
    }

    /// y (batch, units) from the last forward pass.
    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// ∂L/∂x (batch, inputs) from the last backward pass (empty when it was skipped).
    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn layer() -> DenseLayer {
        let weights = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        DenseLayer::from_parts("dense1", weights, vec![0.5, -0.5]).unwrap()
    }

    #[test]
    fn forward_computes_x_times_w_plus_b_for_small_and_large_batches() {
        let mut small = layer();
        let x = array![[1.0, 0.0, 2.0]];
        assert_eq!(small.forward(x.view()).unwrap(), &array![[11.5, 13.5]]);
        // Eight identical rows take the general_mat_mul path and must agree.
        let big = Array2::from_shape_fn((8, 3), |(_, c)| x[[0, c]]);
        let mut large = layer();
        let out = large.forward(big.view()).unwrap();
        assert!(out.rows().into_iter().all(|r| r == array![11.5, 13.5]));
    }

    #[test]
    fn backward_accumulates_bias_gradient_over_the_batch() {
        for rows in [2, 8] {
            let mut dense = layer();
            let x = Array2::from_elem((rows, 3), 1.0);
            dense.forward(x.view()).unwrap();
            let g = Array2::from_elem((rows, 2), 0.5);
            let dx = dense.backward(g.view()).unwrap().clone();
            assert_eq!(dense.bias_grads(), &[0.5 * rows as f32, 0.5 * rows as f32]);
            assert!(dense.weight_grads().iter().all(|&d| d == 0.5 * rows as f32));
            // dx[b, i] = 0.5 · (W[i, 0] + W[i, 1])
            assert_eq!(dx.row(0), array![1.5, 3.5, 5.5]);
        }
    }

    #[test]
    fn strided_inputs_and_gradients_give_the_same_results_as_contiguous_ones() {
        // x as every other column of a wider array, g as a transposed view: neither contiguous.
        let wide = Array2::from_shape_fn((6, 6), |(r, c)| (r * 6 + c) as f32 * 0.1 - 1.0);
        let strided = wide.slice(ndarray::s![.., ..;2]);
        let contiguous = strided.to_owned();
        let g_t = Array2::from_shape_fn((2, 6), |(c, r)| (r + 3 * c) as f32 * 0.05 - 0.3);
        for rows in [2, 6] {
            let (mut a, mut b) = (layer(), layer());
            let x_strided = strided.slice(ndarray::s![..rows, ..]);
            let x_contiguous = contiguous.slice(ndarray::s![..rows, ..]);
            assert_eq!(
                a.forward(x_strided).unwrap(),
                b.forward(x_contiguous).unwrap()
            );
            let g_view = g_t.slice(ndarray::s![.., ..rows]).reversed_axes();
            assert!(
                g_view.as_slice().is_none(),
                "the test gradient must be non-contiguous"
            );
            let g_owned = g_view.to_owned();
            let dx_a = a.backward(g_view).unwrap().clone();
            let dx_b = b.backward(g_owned.view()).unwrap().clone();
            assert_eq!(dx_a, dx_b);
            assert_eq!(a.weight_grads(), b.weight_grads());
            assert_eq!(a.bias_grads(), b.bias_grads());
        }
    }

    #[test]
    fn wrong_input_width_names_the_layer() {
        let mut dense = layer();
        let err = dense.forward(Array2::zeros((2, 4)).view()).unwrap_err();
        assert_eq!(err.to_string(), "dense1 expects 3 inputs, got 4");
    }

    #[test]
    fn gradient_of_the_wrong_shape_is_an_error() {
        let mut dense = layer();
        dense.forward(Array2::zeros((2, 3)).view()).unwrap();
        let err = dense.backward(Array2::zeros((3, 2)).view()).unwrap_err();
        assert!(matches!(err, NnError::GradientShape { .. }), "{err}");
    }

    #[test]
    fn zero_units_is_rejected() {
        let mut rng = crate::nn::init::layer_rng(0, 0);
        assert!(DenseLayer::new("d", 3, 0, Init::HeUniform, &mut rng).is_err());
    }
}
