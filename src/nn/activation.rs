//! Parameter-free elementwise and row-wise activations (ReLU, LeakyReLU, tanh, sigmoid,
//! softmax), forward and backward side by side. They own their output and gradient buffers and
//! never allocate unless the batch size changes.

use ndarray::{Array2, ArrayView2, Zip};

use super::error::NnError;
use super::kernels::{ensure_shape, flat, flat_mut};

/// Which function an [`ActivationLayer`] applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    LeakyRelu { slope: f32 },
    Tanh,
    Sigmoid,
    Softmax,
}

/// An activation over a fixed feature width. Backward uses only the cached output y.
#[derive(Clone, Debug)]
pub struct ActivationLayer {
    name: String,
    activation: Activation,
    width: usize,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl ActivationLayer {
    /// `width` is the number of features in and out; LeakyReLU needs a slope in [0, 1).
    pub fn new(
        name: impl Into<String>,
        activation: Activation,
        width: usize,
    ) -> Result<Self, NnError> {
        let name = name.into();
        if let Activation::LeakyRelu { slope } = activation
            && !(0.0..1.0).contains(&slope)
        {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!("LeakyReLU slope must be in [0, 1), got {slope}"),
            });
        }
        Ok(ActivationLayer {
            name,
            activation,
            width,
            output: Array2::zeros((0, width)),
            input_grads: Array2::zeros((0, width)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn activation(&self) -> Activation {
        self.activation
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// y from the last forward pass (batch, width).
    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// ∂L/∂x (batch, width) from the last backward pass.
    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, width) → y (batch, width).
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let (rows, cols) = x.dim();
        if cols != self.width {
            return Err(NnError::InputWidth {
                layer: self.name.clone(),
                expected: self.width,
                got: cols,
            });
        }
        if rows == 0 {
            return Err(NnError::EmptyBatch {
                layer: self.name.clone(),
            });
        }
        ensure_shape(&mut self.output, rows, cols);
        match self.activation {
            Activation::Relu => map_into(x, &mut self.output, |v| if v < 0.0 { 0.0 } else { v }),
            Activation::LeakyRelu { slope } => {
                map_into(x, &mut self.output, |v| if v < 0.0 { slope * v } else { v })
            }
            Activation::Tanh => map_into(x, &mut self.output, f32::tanh),
            Activation::Sigmoid => map_into(x, &mut self.output, sigmoid),
            Activation::Softmax => {
                map_into(x, &mut self.output, |v| v);
                for row in flat_mut(&mut self.output).chunks_exact_mut(cols) {
                    softmax_in_place(row);
                }
            }
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, width) = ∂L/∂y → ∂L/∂x (batch, width):
    /// ReLU g·𝟙(y > 0); LeakyReLU g·(1 if y > 0 else slope); tanh g·(1−y²); sigmoid g·y·(1−y);
    /// softmax y ⊙ (g − Σ_j g_j·y_j) per row.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let (rows, cols) = self.output.dim();
        if grad_out.dim() != (rows, cols) {
            return Err(NnError::GradientShape {
                layer: self.name.clone(),
                rows,
                cols,
                got_rows: grad_out.nrows(),
                got_cols: grad_out.ncols(),
            });
        }
        ensure_shape(&mut self.input_grads, rows, cols);
        let (y, dx) = (&self.output, &mut self.input_grads);
        match self.activation {
            Activation::Relu => map2_into(y, grad_out, dx, |y, g| if y > 0.0 { g } else { 0.0 }),
            Activation::LeakyRelu { slope } => {
                // For slope ≥ 0, y > 0 exactly when x > 0.
                map2_into(y, grad_out, dx, |y, g| if y > 0.0 { g } else { slope * g })
            }
            Activation::Tanh => map2_into(y, grad_out, dx, |y, g| g * (1.0 - y * y)),
            Activation::Sigmoid => map2_into(y, grad_out, dx, |y, g| g * y * (1.0 - y)),
            Activation::Softmax => {
                map2_into(y, grad_out, dx, |_, g| g);
                for (y_row, dx_row) in flat(y)
                    .chunks_exact(cols)
                    .zip(flat_mut(dx).chunks_exact_mut(cols))
                {
                    let weighted: f32 = y_row.iter().zip(dx_row.iter()).map(|(y, g)| y * g).sum();
                    for (d, &y) in dx_row.iter_mut().zip(y_row) {
                        *d = y * (*d - weighted);
                    }
                }
            }
        }
        Ok(&self.input_grads)
    }
}

/// Numerically stable logistic function.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Replaces a row of logits by its softmax, subtracting the maximum first.
pub fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// out = f(x) elementwise; a plain slice loop when x is contiguous.
fn map_into(x: ArrayView2<f32>, out: &mut Array2<f32>, f: impl Fn(f32) -> f32) {
    match x.as_slice() {
        Some(xs) => {
            for (o, &v) in flat_mut(out).iter_mut().zip(xs) {
                *o = f(v);
            }
        }
        None => Zip::from(out).and(&x).for_each(|o, &v| *o = f(v)),
    }
}

/// out = f(y, g) elementwise, y being a buffer of ours and g the incoming gradient.
fn map2_into(
    y: &Array2<f32>,
    g: ArrayView2<f32>,
    out: &mut Array2<f32>,
    f: impl Fn(f32, f32) -> f32,
) {
    match g.as_slice() {
        Some(gs) => {
            for ((o, &y), &g) in flat_mut(out).iter_mut().zip(flat(y)).zip(gs) {
                *o = f(y, g);
            }
        }
        None => Zip::from(out)
            .and(y)
            .and(&g)
            .for_each(|o, &y, &g| *o = f(y, g)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn relu_zeroes_negatives_and_their_gradients() {
        let mut relu = ActivationLayer::new("relu1", Activation::Relu, 3).unwrap();
        let y = relu.forward(array![[-1.0, 0.0, 2.0]].view()).unwrap();
        assert_eq!(y, &array![[0.0, 0.0, 2.0]]);
        let dx = relu.backward(array![[5.0, 5.0, 5.0]].view()).unwrap();
        assert_eq!(dx, &array![[0.0, 0.0, 5.0]]);
    }

    #[test]
    fn leaky_relu_keeps_a_slope_for_negatives() {
        let mut leaky = ActivationLayer::new("l", Activation::LeakyRelu { slope: 0.1 }, 2).unwrap();
        let y = leaky.forward(array![[-2.0, 3.0]].view()).unwrap();
        assert_eq!(y, &array![[-0.2, 3.0]]);
        let dx = leaky.backward(array![[1.0, 1.0]].view()).unwrap();
        assert_eq!(dx, &array![[0.1, 1.0]]);
    }

    #[test]
    fn softmax_rows_sum_to_one_even_for_huge_logits() {
        let mut softmax = ActivationLayer::new("s", Activation::Softmax, 3).unwrap();
        let y = softmax
            .forward(array![[1000.0, 1000.0, -1000.0]].view())
            .unwrap();
        assert!((y[[0, 0]] - 0.5).abs() < 1e-6 && y[[0, 2]] == 0.0);
        assert!(y.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn strided_inputs_and_gradients_match_contiguous_ones() {
        let wide = Array2::from_shape_fn((3, 8), |(r, c)| (r * 8 + c) as f32 * 0.3 - 3.0);
        let strided = wide.slice(ndarray::s![.., ..;2]);
        let contiguous = strided.to_owned();
        let g = Array2::from_shape_fn((4, 3), |(c, r)| (r + c) as f32 * 0.1 - 0.2);
        for activation in [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Softmax,
        ] {
            let mut a = ActivationLayer::new("a", activation, 4).unwrap();
            let mut b = ActivationLayer::new("b", activation, 4).unwrap();
            assert_eq!(
                a.forward(strided).unwrap(),
                b.forward(contiguous.view()).unwrap()
            );
            let g_view = g.t();
            let g_owned = g_view.to_owned();
            assert_eq!(
                a.backward(g_view).unwrap(),
                b.backward(g_owned.view()).unwrap()
            );
        }
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert_eq!(sigmoid(-200.0), 0.0);
        assert_eq!(sigmoid(200.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn slope_outside_zero_one_is_rejected() {
        let err =
            ActivationLayer::new("leaky", Activation::LeakyRelu { slope: 1.5 }, 2).unwrap_err();
        assert!(
            err.to_string().starts_with("leaky: LeakyReLU slope"),
            "{err}"
        );
    }
}
