//! Inverted dropout with its own seeded random stream: zeroes values in training, identity in
//! evaluation. Forward and backward share the stored mask; nothing allocates unless the batch
//! size changes.

use ndarray::{Array2, ArrayView2, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::NnError;
use super::kernels::{ensure_shape, flat, flat_mut};

/// Dropout with drop probability `p`; kept values are scaled by 1/(1−p) so evaluation needs no
/// rescaling.
#[derive(Clone, Debug)]
pub struct DropoutLayer {
    name: String,
    p: f32,
    width: usize,
    rng: ChaCha8Rng,
    /// 0 or 1/(1−p) per element of the last training batch; all 1 after an evaluation pass.
    mask: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl DropoutLayer {
    /// `p` must be in [0, 1).
    pub fn new(name: impl Into<String>, p: f32, width: usize, seed: u64) -> Result<Self, NnError> {
        let name = name.into();
        if !(0.0..1.0).contains(&p) {
            return Err(NnError::InvalidLayer {
                layer: name,
                message: format!("dropout probability must be in [0, 1), got {p}"),
            });
        }
        Ok(DropoutLayer {
            name,
            p,
            width,
            rng: ChaCha8Rng::seed_from_u64(seed),
            mask: Array2::zeros((0, width)),
            output: Array2::zeros((0, width)),
            input_grads: Array2::zeros((0, width)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn p(&self) -> f32 {
        self.p
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Restarts the mask stream, e.g. to give each data-parallel replica its own masks.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// ∂L/∂x (batch, width) from the last backward pass.
    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, width) → y (batch, width) = x ⊙ mask in training, x otherwise.
    pub fn forward(&mut self, x: ArrayView2<f32>, train: bool) -> Result<&Array2<f32>, NnError> {
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
        ensure_shape(&mut self.mask, rows, cols);
        ensure_shape(&mut self.output, rows, cols);
        if train && self.p > 0.0 {
            let keep_scale = 1.0 / (1.0 - self.p);
            for m in flat_mut(&mut self.mask) {
                *m = if self.rng.random::<f32>() < self.p {
                    0.0
                } else {
                    keep_scale
                };
            }
        } else {
            self.mask.fill(1.0);
        }
        Zip::from(&mut self.output)
            .and(&x)
            .and(&self.mask)
            .for_each(|y, &x, &m| *y = x * m);
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, width) → ∂L/∂x = grad_out ⊙ mask (batch, width).
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let (rows, cols) = self.mask.dim();
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
        match grad_out.as_slice() {
            Some(g) => {
                for ((d, &g), &m) in flat_mut(&mut self.input_grads)
                    .iter_mut()
                    .zip(g)
                    .zip(flat(&self.mask))
                {
                    *d = g * m;
                }
            }
            None => Zip::from(&mut self.input_grads)
                .and(&grad_out)
                .and(&self.mask)
                .for_each(|d, &g, &m| *d = g * m),
        }
        Ok(&self.input_grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_mode_is_the_identity() {
        let mut dropout = DropoutLayer::new("drop", 0.5, 4, 1).unwrap();
        let x = Array2::from_shape_fn((3, 4), |(r, c)| (r * 4 + c) as f32);
        assert_eq!(dropout.forward(x.view(), false).unwrap(), &x);
    }

    #[test]
    fn training_drops_about_p_and_rescales_the_rest() {
        let mut dropout = DropoutLayer::new("drop", 0.25, 100, 9).unwrap();
        let x = Array2::from_elem((100, 100), 1.0);
        let y = dropout.forward(x.view(), true).unwrap();
        let dropped = y.iter().filter(|&&v| v == 0.0).count();
        assert!(
            (2300..2700).contains(&dropped),
            "dropped {dropped} of 10000"
        );
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        // The mean is preserved in expectation.
        let mean = y.sum() / 10_000.0;
        assert!((mean - 1.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn backward_uses_the_same_mask_as_forward() {
        let mut dropout = DropoutLayer::new("drop", 0.5, 8, 3).unwrap();
        let x = Array2::from_elem((4, 8), 2.0);
        let y = dropout.forward(x.view(), true).unwrap().clone();
        let dx = dropout
            .backward(Array2::from_elem((4, 8), 1.0).view())
            .unwrap();
        for (y, d) in y.iter().zip(dx.iter()) {
            assert_eq!(*y == 0.0, *d == 0.0);
        }
    }

    #[test]
    fn same_seed_gives_the_same_masks() {
        let x = Array2::from_elem((5, 6), 1.0);
        let mut a = DropoutLayer::new("d", 0.3, 6, 42).unwrap();
        let mut b = DropoutLayer::new("d", 0.3, 6, 42).unwrap();
        assert_eq!(
            a.forward(x.view(), true).unwrap(),
            b.forward(x.view(), true).unwrap()
        );
    }

    #[test]
    fn probability_one_is_rejected() {
        assert!(DropoutLayer::new("drop", 1.0, 4, 0).is_err());
    }
}
