//! Parameter-free reshaping of images: 2-D max pooling (forward remembers each window's
//! winner, backward routes the gradient to it) and Flatten (an image or sequence read as flat
//! features). Buffers are reused; nothing allocates unless the batch size changes.

use ndarray::{Array2, ArrayView2};

use super::conv2d::{check_gradient, check_input};
use super::error::NnError;
use super::kernels::{contiguous_rows, ensure_shape, flat_mut};
use super::layout::{Shape, as_image, sliding_output};

/// Sizes of a max pooling, checked against its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl PoolGeometry {
    /// kernel×kernel windows every `stride` pixels (0: stride = kernel, PyTorch's default).
    pub fn new(layer: &str, input: Shape, kernel: usize, stride: usize) -> Result<Self, NnError> {
        let (channels, height, width) = as_image(layer, input)?;
        let stride = if stride == 0 { kernel } else { stride };
        let out = (
            sliding_output(height, kernel, stride, 0),
            sliding_output(width, kernel, stride, 0),
        );
        let (Some(out_height), Some(out_width)) = out else {
            return Err(NnError::InvalidLayer {
                layer: layer.to_string(),
                message: format!(
                    "a {kernel}×{kernel} pooling window does not fit its {channels}×{height}×{width} input"
                ),
            });
        };
        Ok(PoolGeometry {
            channels,
            height,
            width,
            kernel,
            stride,
            out_height,
            out_width,
        })
    }

    pub fn input_shape(&self) -> Shape {
        Shape::Image {
            channels: self.channels,
            height: self.height,
            width: self.width,
        }
    }

    pub fn output_shape(&self) -> Shape {
        Shape::Image {
            channels: self.channels,
            height: self.out_height,
            width: self.out_width,
        }
    }
}

/// Max pooling per channel. Ties go to the first pixel in row-major order (as PyTorch).
#[derive(Clone, Debug)]
pub struct MaxPool2dLayer {
    name: String,
    geometry: PoolGeometry,
    /// Offset (within a sample) of each output's winning input pixel, (batch, out_len).
    winners: Vec<u32>,
    scratch: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl MaxPool2dLayer {
    pub fn new(name: impl Into<String>, geometry: PoolGeometry) -> Self {
        MaxPool2dLayer {
            name: name.into(),
            winners: Vec::new(),
            scratch: Array2::zeros((0, 0)),
            output: Array2::zeros((0, geometry.output_shape().len())),
            input_grads: Array2::zeros((0, geometry.input_shape().len())),
            geometry,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn geometry(&self) -> &PoolGeometry {
        &self.geometry
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, C·H·W) → y (batch, C·OH·OW), the maximum of each window.
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let g = self.geometry;
        let in_len = g.input_shape().len();
        let out_len = g.output_shape().len();
        let rows = check_input(&self.name, x, in_len)?;
        ensure_shape(&mut self.output, rows, out_len);
        self.winners.resize(rows * out_len, 0);
        let xs = contiguous_rows(x, &mut self.scratch);
        let samples = xs
            .chunks_exact(in_len)
            .zip(flat_mut(&mut self.output).chunks_exact_mut(out_len))
            .zip(self.winners.chunks_exact_mut(out_len));
        for ((sample, out), winners) in samples {
            let mut outputs = out.iter_mut().zip(winners.iter_mut());
            for c in 0..g.channels {
                for oy in 0..g.out_height {
                    for ox in 0..g.out_width {
                        let Some((o, w)) = outputs.next() else {
                            unreachable!("one output per channel and position")
                        };
                        (*o, *w) = window_max(sample, &g, c, oy, ox);
                    }
                }
            }
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, C·OH·OW) → ∂L/∂x (batch, C·H·W): each output's
    /// gradient goes to its window's winner (summed where windows overlap).
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        check_gradient(&self.name, grad_out, self.output.dim())?;
        let in_len = self.geometry.input_shape().len();
        let out_len = self.geometry.output_shape().len();
        ensure_shape(&mut self.input_grads, self.output.nrows(), in_len);
        let dx = flat_mut(&mut self.input_grads);
        dx.fill(0.0);
        let grads = contiguous_rows(grad_out, &mut self.scratch);
        let samples = dx
            .chunks_exact_mut(in_len)
            .zip(grads.chunks_exact(out_len))
            .zip(self.winners.chunks_exact(out_len));
        for ((dx, grad), winners) in samples {
            for (&g, &w) in grad.iter().zip(winners) {
                if let Some(d) = dx.get_mut(w as usize) {
                    *d += g;
                }
            }
        }
        Ok(&self.input_grads)
    }
}

/// The largest value of one pooling window and its offset in the sample.
fn window_max(sample: &[f32], g: &PoolGeometry, c: usize, oy: usize, ox: usize) -> (f32, u32) {
    let mut best = (f32::NEG_INFINITY, 0u32);
    for ky in 0..g.kernel {
        let row = (c * g.height + oy * g.stride + ky) * g.width + ox * g.stride;
        for offset in row..row + g.kernel {
            let v = sample.get(offset).copied().unwrap_or(f32::NEG_INFINITY);
            // `>` keeps the first of equal values; NaN propagates as in PyTorch.
            if v > best.0 || (v.is_nan() && !best.0.is_nan()) {
                best = (v, offset as u32);
            }
        }
    }
    if best.0 == f32::NEG_INFINITY {
        best.1 = ((c * g.height + oy * g.stride) * g.width + ox * g.stride) as u32;
    }
    best
}

/// Reads an image or sequence as flat features. The numbers do not change, only their shape.
#[derive(Clone, Debug)]
pub struct FlattenLayer {
    name: String,
    width: usize,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl FlattenLayer {
    pub fn new(name: impl Into<String>, width: usize) -> Self {
        FlattenLayer {
            name: name.into(),
            width,
            output: Array2::zeros((0, width)),
            input_grads: Array2::zeros((0, width)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, width) → the same numbers (batch, width).
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let rows = check_input(&self.name, x, self.width)?;
        ensure_shape(&mut self.output, rows, self.width);
        self.output.assign(&x);
        Ok(&self.output)
    }

    /// Backward pass: the gradient passes unchanged.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        check_gradient(&self.name, grad_out, self.output.dim())?;
        ensure_shape(&mut self.input_grads, grad_out.nrows(), self.width);
        self.input_grads.assign(&grad_out);
        Ok(&self.input_grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn two_by_two_pooling_keeps_each_windows_maximum_and_routes_gradients_to_it() {
        let g = PoolGeometry::new("pool", Shape::Flat(16), 2, 0).unwrap();
        assert_eq!((g.out_height, g.out_width, g.stride), (2, 2, 2));
        let mut pool = MaxPool2dLayer::new("pool", g);
        let x = array![[
            1.0, 2.0, 5.0, 0.0, //
            3.0, 4.0, 1.0, 1.0, //
            0.0, 0.0, 9.0, 8.0, //
            -1.0, 7.0, 8.0, 9.0
        ]];
        assert_eq!(
            pool.forward(x.view()).unwrap(),
            &array![[4.0, 5.0, 7.0, 9.0]]
        );
        let dx = pool.backward(array![[1.0, 2.0, 3.0, 4.0]].view()).unwrap();
        // Ties (9 at offsets 10 and 15) go to the first.
        let mut expected = Array2::zeros((1, 16));
        for (offset, g) in [(5, 1.0), (2, 2.0), (13, 3.0), (10, 4.0)] {
            expected[[0, offset]] = g;
        }
        assert_eq!(dx, &expected);
    }

    #[test]
    fn overlapping_windows_sum_their_gradients_at_a_shared_winner() {
        let g = PoolGeometry::new("pool", Shape::Flat(9), 2, 1).unwrap();
        let mut pool = MaxPool2dLayer::new("pool", g);
        let x = array![[0.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0]];
        assert_eq!(
            pool.forward(x.view()).unwrap(),
            &array![[5.0, 5.0, 5.0, 5.0]]
        );
        let dx = pool.backward(Array2::ones((1, 4)).view()).unwrap();
        assert_eq!(dx[[0, 4]], 4.0);
        assert_eq!(dx.sum(), 4.0);
    }

    #[test]
    fn a_window_larger_than_the_image_is_an_error_naming_the_layer() {
        let err = PoolGeometry::new("pool1", Shape::Flat(4), 3, 0).unwrap_err();
        assert!(
            err.to_string().starts_with("pool1: a 3×3 pooling window"),
            "{err}"
        );
    }

    #[test]
    fn flatten_passes_values_and_gradients_unchanged() {
        let mut flatten = FlattenLayer::new("flat", 3);
        let x = array![[1.0, -2.0, 3.0]];
        assert_eq!(flatten.forward(x.view()).unwrap(), &x);
        assert_eq!(flatten.backward(x.view()).unwrap(), &x);
    }
}
