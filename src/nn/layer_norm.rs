//! Layer normalisation over the features of each sample, with learnable gain and bias; forward
//! and backward side by side. Owns its caches (normalised input, 1/σ per row) and reuses them.
//! Statistics are per sample, so it never mixes rows of a batch (safe for data parallelism).

use ndarray::{Array2, ArrayView2, Zip};

use super::error::NnError;
use super::kernels::{ensure_shape, flat, flat_mut};
use super::layer::{ParamMut, ParamRef};

/// y = gain ⊙ (x − μ)/√(σ² + eps) + bias, μ and σ² (biased) taken over each row.
#[derive(Clone, Debug)]
pub struct LayerNormLayer {
    name: String,
    eps: f32,
    gain: Vec<f32>,
    bias: Vec<f32>,
    gain_grads: Vec<f32>,
    bias_grads: Vec<f32>,
    /// x̂ = (x − μ)/σ of the last forward pass (batch, width).
    normalised: Array2<f32>,
    /// 1/√(σ² + eps) per row of the last forward pass.
    inv_std: Vec<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl LayerNormLayer {
    /// Gain starts at 1 and bias at 0. `eps` must be positive and `width` at least 1.
    pub fn new(name: impl Into<String>, width: usize, eps: f32) -> Result<Self, NnError> {
        let name = name.into();
        if !(eps > 0.0 && eps.is_finite()) || width == 0 {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!(
                    "layer norm needs eps > 0 and width ≥ 1, got eps {eps}, width {width}"
                ),
            });
        }
        Ok(LayerNormLayer {
            name,
            eps,
            gain: vec![1.0; width],
            bias: vec![0.0; width],
            gain_grads: vec![0.0; width],
            bias_grads: vec![0.0; width],
            normalised: Array2::zeros((0, width)),
            inv_std: Vec::new(),
            output: Array2::zeros((0, width)),
            input_grads: Array2::zeros((0, width)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn width(&self) -> usize {
        self.gain.len()
    }

    pub fn gain(&self) -> &[f32] {
        &self.gain
    }

    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// Forward pass. x (batch, width) → y (batch, width).
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let (rows, cols) = x.dim();
        let width = self.width();
        if cols != width {
            return Err(NnError::InputWidth {
                layer: self.name.clone(),
                expected: width,
                got: cols,
            });
        }
        if rows == 0 {
            return Err(NnError::EmptyBatch {
                layer: self.name.clone(),
            });
        }
        ensure_shape(&mut self.normalised, rows, cols);
        ensure_shape(&mut self.output, rows, cols);
        self.inv_std.resize(rows, 0.0);
        Zip::from(&mut self.normalised)
            .and(&x)
            .for_each(|n, &x| *n = x);
        let n = width as f32;
        let rows_iter = flat_mut(&mut self.normalised)
            .chunks_exact_mut(width)
            .zip(flat_mut(&mut self.output).chunks_exact_mut(width))
            .zip(self.inv_std.iter_mut());
        for ((xhat, y), inv_std) in rows_iter {
            let mean = xhat.iter().sum::<f32>() / n;
            let var = xhat.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            *inv_std = 1.0 / (var + self.eps).sqrt();
            for (((v, y), &g), &b) in xhat
                .iter_mut()
                .zip(y.iter_mut())
                .zip(&self.gain)
                .zip(&self.bias)
            {
                *v = (*v - mean) * *inv_std;
                *y = g * *v + b;
            }
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, width) → ∂L/∂x (batch, width); stores
    /// ∂L/∂gain = Σ_rows g ⊙ x̂ and ∂L/∂bias = Σ_rows g. Per row, with d = g ⊙ gain:
    /// ∂L/∂x = (1/σ)·(d − mean(d) − x̂·mean(d ⊙ x̂)).
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
        // Start from dx = g, then transform each row in place.
        Zip::from(&mut self.input_grads)
            .and(&grad_out)
            .for_each(|d, &g| *d = g);
        self.gain_grads.fill(0.0);
        self.bias_grads.fill(0.0);
        let n = cols as f32;
        let rows_iter = flat_mut(&mut self.input_grads)
            .chunks_exact_mut(cols)
            .zip(flat(&self.normalised).chunks_exact(cols))
            .zip(&self.inv_std);
        for ((dx, xhat), &inv_std) in rows_iter {
            let mut sum_d = 0.0;
            let mut sum_d_xhat = 0.0;
            let params = self
                .gain
                .iter()
                .zip(self.gain_grads.iter_mut())
                .zip(self.bias_grads.iter_mut());
            for ((d, &xh), ((&gain, dgain), dbias)) in dx.iter_mut().zip(xhat).zip(params) {
                let g = *d;
                *dgain += g * xh;
                *dbias += g;
                *d = g * gain;
                sum_d += *d;
                sum_d_xhat += *d * xh;
            }
            let (mean_d, mean_d_xhat) = (sum_d / n, sum_d_xhat / n);
            for (d, &xh) in dx.iter_mut().zip(xhat) {
                *d = inv_std * (*d - mean_d - xh * mean_d_xhat);
            }
        }
        Ok(&self.input_grads)
    }

    /// ∂L/∂x (batch, width) from the last backward pass.
    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    pub(crate) fn params(&self) -> [ParamRef<'_>; 2] {
        [
            ParamRef {
                name: "gain",
                value: &self.gain,
                grad: &self.gain_grads,
            },
            ParamRef {
                name: "bias",
                value: &self.bias,
                grad: &self.bias_grads,
            },
        ]
    }

    pub(crate) fn params_mut(&mut self) -> [ParamMut<'_>; 2] {
        [
            ParamMut::dense(&mut self.gain, &mut self.gain_grads),
            ParamMut::dense(&mut self.bias, &mut self.bias_grads),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn output_rows_have_zero_mean_and_unit_variance() {
        let mut norm = LayerNormLayer::new("ln", 4, 1e-5).unwrap();
        let y = norm
            .forward(array![[1.0, 2.0, 3.0, 4.0], [10.0, 0.0, -10.0, 0.0]].view())
            .unwrap();
        for row in y.rows() {
            let mean = row.sum() / 4.0;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
            assert!(
                mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-3,
                "mean {mean} var {var}"
            );
        }
    }

    #[test]
    fn constant_rows_stay_finite_thanks_to_eps() {
        let mut norm = LayerNormLayer::new("ln", 3, 1e-5).unwrap();
        let y = norm.forward(array![[5.0, 5.0, 5.0]].view()).unwrap();
        assert!(y.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn zero_eps_is_rejected() {
        assert!(LayerNormLayer::new("ln", 3, 0.0).is_err());
    }
}
