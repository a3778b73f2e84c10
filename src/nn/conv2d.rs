//! 2-D convolution over images stored as rows (channel-major, as PyTorch's NCHW), forward and
//! backward side by side: im2col for the whole batch, then one matrix product per pass.
//! Owns its column and gradient buffers and reuses them; allocates only when the batch size
//! changes (plus the packing buffer of each matrix product).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use rand_chacha::ChaCha8Rng;

use super::config::Init;
use super::error::NnError;
use super::init::init_tensor;
use super::kernels::{contiguous_rows, ensure_shape, flat, flat_mut};
use super::layer::{ParamMut, ParamRef, weights_and_bias, weights_and_bias_mut};
use super::layout::{Shape, as_image, sliding_output};

/// Marks a kernel tap that falls on the zero padding in a gather table.
pub(crate) const PADDING: u32 = u32::MAX;

/// Sizes of a 2-D convolution, checked against its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl Conv2dGeometry {
    /// The geometry of `filters` kernel×kernel filters over `input` (an image, or flat rows of
    /// a square length read as one channel); an error names `layer` when they do not fit.
    pub fn new(
        layer: &str,
        input: Shape,
        filters: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Self, NnError> {
        let (channels, height, width) = as_image(layer, input)?;
        let invalid = |message: String| NnError::InvalidLayer {
            layer: layer.to_string(),
            message,
        };
        if filters == 0 || kernel == 0 || stride == 0 {
            return Err(invalid(format!(
                "needs at least one filter, a kernel ≥ 1 and a stride ≥ 1, got {filters} filters, kernel {kernel}, stride {stride}"
            )));
        }
        let out = (
            sliding_output(height, kernel, stride, padding),
            sliding_output(width, kernel, stride, padding),
        );
        let (Some(out_height), Some(out_width)) = out else {
            return Err(invalid(format!(
                "a {kernel}×{kernel} kernel with padding {padding} does not fit its {channels}×{height}×{width} input"
            )));
        };
        Ok(Conv2dGeometry {
            channels,
            height,
            width,
            filters,
            kernel,
            stride,
            padding,
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
            channels: self.filters,
            height: self.out_height,
            width: self.out_width,
        }
    }

    /// Values under one filter: channels·kernel².
    pub fn taps(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Output positions per channel.
    pub fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Weights and biases.
    pub fn param_count(&self) -> usize {
        self.filters * (self.taps() + 1)
    }

    /// For tap r = (c·k + ky)·k + kx and output position p = oy·out_width + ox, the offset of
    /// the input pixel it reads within a sample, or [`PADDING`]; (taps, positions) row-major.
    fn gather_table(&self) -> Vec<u32> {
        let k = self.kernel;
        let mut table = Vec::with_capacity(self.taps() * self.positions());
        for c in 0..self.channels {
            for ky in 0..k {
                for kx in 0..k {
                    for oy in 0..self.out_height {
                        for ox in 0..self.out_width {
                            let y = (oy * self.stride + ky).checked_sub(self.padding);
                            let x = (ox * self.stride + kx).checked_sub(self.padding);
                            let offset = match (y, x) {
                                (Some(y), Some(x)) if y < self.height && x < self.width => {
                                    ((c * self.height + y) * self.width + x) as u32
                                }
                                _ => PADDING,
                            };
                            table.push(offset);
                        }
                    }
                }
            }
        }
        table
    }
}

/// A 2-D convolution with weights W (filters, channels·k·k) — PyTorch's [F, C, k, k] weight
/// flattened — and bias b (filters). Input rows (batch, C·H·W), output rows (batch, F·OH·OW).
#[derive(Clone, Debug)]
pub struct Conv2dLayer {
    name: String,
    geometry: Conv2dGeometry,
    gather: Vec<u32>,
    weights: Array2<f32>,
    bias: Vec<f32>,
    weight_grads: Array2<f32>,
    bias_grads: Vec<f32>,
    /// im2col of the last input: (taps, batch·positions), column b·P + p.
    cols: Array2<f32>,
    /// W·cols of the last forward pass (filters, batch·positions).
    product: Array2<f32>,
    /// Incoming gradient reordered to (filters, batch·positions).
    grad_product: Array2<f32>,
    /// Wᵀ·grad of the last backward pass (taps, batch·positions).
    grad_cols: Array2<f32>,
    /// A copy of a non-contiguous input.
    scratch: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl Conv2dLayer {
    /// A layer with weights drawn from `init` (fan-in C·k², fan-out F·k²) and zero bias.
    pub fn new(
        name: impl Into<String>,
        geometry: Conv2dGeometry,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        let k2 = geometry.kernel * geometry.kernel;
        let weights = init_tensor(
            init,
            (geometry.filters, geometry.taps()),
            geometry.taps(),
            geometry.filters * k2,
            rng,
        );
        Self::from_parts(name, geometry, weights, vec![0.0; geometry.filters])
    }

    /// A layer with given weights (filters, taps) and bias (filters).
    pub fn from_parts(
        name: impl Into<String>,
        geometry: Conv2dGeometry,
        weights: Array2<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, NnError> {
        let name = name.into();
        let expected = (geometry.filters, geometry.taps());
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
        Ok(Conv2dLayer {
            name,
            gather: geometry.gather_table(),
            weight_grads: Array2::zeros(expected),
            bias_grads: vec![0.0; geometry.filters],
            weights: weights.as_standard_layout().into_owned(),
            bias,
            cols: Array2::zeros((geometry.taps(), 0)),
            product: Array2::zeros((geometry.filters, 0)),
            grad_product: Array2::zeros((geometry.filters, 0)),
            grad_cols: Array2::zeros((geometry.taps(), 0)),
            scratch: Array2::zeros((0, 0)),
            output: Array2::zeros((0, geometry.output_shape().len())),
            input_grads: Array2::zeros((0, geometry.input_shape().len())),
            geometry,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn geometry(&self) -> &Conv2dGeometry {
        &self.geometry
    }

    /// Weights W (filters, channels·k·k).
    pub fn weights(&self) -> &Array2<f32> {
        &self.weights
    }

    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// ∂L/∂x (batch, C·H·W) of the last backward pass (empty when it was skipped).
    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, C·H·W) → y (batch, F·OH·OW) with
    /// y[b, f, oy, ox] = b_f + Σ_{c,ky,kx} W[f, c, ky, kx] · x[b, c, oy·s + ky − p, ox·s + kx − p].
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let g = self.geometry;
        let in_len = g.input_shape().len();
        let rows = check_input(&self.name, x, in_len)?;
        let positions = g.positions();
        let wide = rows * positions;
        ensure_shape(&mut self.cols, g.taps(), wide);
        let xs = contiguous_rows(x, &mut self.scratch);
        let table_rows = self.gather.chunks_exact(positions);
        for (col_row, taps) in flat_mut(&mut self.cols)
            .chunks_exact_mut(wide)
            .zip(table_rows)
        {
            for (out, sample) in col_row
                .chunks_exact_mut(positions)
                .zip(xs.chunks_exact(in_len))
            {
                for (o, &at) in out.iter_mut().zip(taps) {
                    *o = sample.get(at as usize).copied().unwrap_or(0.0);
                }
            }
        }
        ensure_shape(&mut self.product, g.filters, wide);
        general_mat_mul(1.0, &self.weights, &self.cols, 0.0, &mut self.product);
        ensure_shape(&mut self.output, rows, g.filters * positions);
        let out_rows = flat_mut(&mut self.output).chunks_exact_mut(g.filters * positions);
        for (b, out_row) in out_rows.enumerate() {
            let filters = out_row
                .chunks_exact_mut(positions)
                .zip(flat(&self.product).chunks_exact(wide))
                .zip(&self.bias);
            for ((out, product_row), &bias) in filters {
                let from = &product_row[b * positions..(b + 1) * positions];
                for (o, &v) in out.iter_mut().zip(from) {
                    *o = v + bias;
                }
            }
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, F·OH·OW) → ∂L/∂x (batch, C·H·W); stores
    /// ∂L/∂W = grad·colsᵀ and ∂L/∂b = Σ grad over batch and positions.
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
        let positions = g.positions();
        let wide = rows * positions;
        ensure_shape(&mut self.grad_product, g.filters, wide);
        let grads = contiguous_rows(grad_out, &mut self.scratch);
        for (b, grad_row) in grads.chunks_exact(g.filters * positions).enumerate() {
            let filters = flat_mut(&mut self.grad_product)
                .chunks_exact_mut(wide)
                .zip(grad_row.chunks_exact(positions));
            for (to_row, from) in filters {
                to_row[b * positions..(b + 1) * positions].copy_from_slice(from);
            }
        }
        general_mat_mul(
            1.0,
            &self.grad_product,
            &self.cols.t(),
            0.0,
            &mut self.weight_grads,
        );
        for (sum, row) in self
            .bias_grads
            .iter_mut()
            .zip(flat(&self.grad_product).chunks_exact(wide))
        {
            *sum = row.iter().sum();
        }
        if !need_input {
            return Ok(());
        }
        ensure_shape(&mut self.grad_cols, g.taps(), wide);
        general_mat_mul(
            1.0,
            &self.weights.t(),
            &self.grad_product,
            0.0,
            &mut self.grad_cols,
        );
        let in_len = g.input_shape().len();
        ensure_shape(&mut self.input_grads, rows, in_len);
        let dx = flat_mut(&mut self.input_grads);
        dx.fill(0.0);
        let taps = flat(&self.grad_cols)
            .chunks_exact(wide)
            .zip(self.gather.chunks_exact(positions));
        for (grad_row, table) in taps {
            for (from, sample) in grad_row
                .chunks_exact(positions)
                .zip(dx.chunks_exact_mut(in_len))
            {
                for (&v, &at) in from.iter().zip(table) {
                    if let Some(d) = sample.get_mut(at as usize) {
                        *d += v;
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

/// Rows of an input of `width` columns, or an error naming the layer.
pub(crate) fn check_input(layer: &str, x: ArrayView2<f32>, width: usize) -> Result<usize, NnError> {
    let (rows, cols) = x.dim();
    if cols != width {
        return Err(NnError::InputWidth {
            layer: layer.to_string(),
            expected: width,
            got: cols,
        });
    }
    if rows == 0 {
        return Err(NnError::EmptyBatch {
            layer: layer.to_string(),
        });
    }
    Ok(rows)
}

/// A gradient must have the shape of the last output.
pub(crate) fn check_gradient(
    layer: &str,
    grad_out: ArrayView2<f32>,
    (rows, cols): (usize, usize),
) -> Result<(), NnError> {
    if grad_out.dim() == (rows, cols) {
        return Ok(());
    }
    Err(NnError::GradientShape {
        layer: layer.to_string(),
        rows,
        cols,
        got_rows: grad_out.nrows(),
        got_cols: grad_out.ncols(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn geometry(
        input: Shape,
        filters: usize,
        kernel: usize,
        stride: usize,
        pad: usize,
    ) -> Conv2dGeometry {
        Conv2dGeometry::new("conv", input, filters, kernel, stride, pad).unwrap()
    }

    #[test]
    fn a_3x3_image_with_a_2x2_kernel_gives_the_hand_computed_sums() {
        let g = geometry(Shape::Flat(9), 1, 2, 1, 0);
        let weights = array![[1.0, 2.0, 3.0, 4.0]];
        let mut conv = Conv2dLayer::from_parts("conv", g, weights, vec![0.5]).unwrap();
        // Image 1..9 row-major; output (0,0) = 1·1 + 2·2 + 3·4 + 4·5 + 0.5 = 37.5.
        let x = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]];
        let y = conv.forward(x.view()).unwrap();
        assert_eq!(y, &array![[37.5, 47.5, 67.5, 77.5]]);
    }

    #[test]
    fn padding_reads_zeros_outside_the_image_and_stride_skips_positions() {
        // 1×2×2 image, 3×3 kernel of ones, padding 1 → every output sums the whole image.
        let g = geometry(Shape::Flat(4), 1, 3, 1, 1);
        let mut conv = Conv2dLayer::from_parts("c", g, Array2::ones((1, 9)), vec![0.0]).unwrap();
        let y = conv.forward(array![[1.0, 2.0, 3.0, 4.0]].view()).unwrap();
        assert_eq!(y, &array![[10.0, 10.0, 10.0, 10.0]]);
        let strided = geometry(Shape::Flat(16), 2, 2, 2, 0);
        assert_eq!((strided.out_height, strided.out_width), (2, 2));
        assert_eq!(strided.param_count(), 2 * (4 + 1));
    }

    #[test]
    fn a_kernel_larger_than_the_image_is_an_error_naming_the_layer() {
        let err = Conv2dGeometry::new("conv1", Shape::Flat(4), 2, 3, 1, 0).unwrap_err();
        assert!(err.to_string().starts_with("conv1: a 3×3 kernel"), "{err}");
    }

    #[test]
    fn channels_are_summed_per_filter() {
        let input = Shape::Image {
            channels: 2,
            height: 1,
            width: 1,
        };
        let g = geometry(input, 2, 1, 1, 0);
        let weights = array![[1.0, 10.0], [-1.0, 0.5]];
        let mut conv = Conv2dLayer::from_parts("c", g, weights, vec![0.0, 1.0]).unwrap();
        let y = conv.forward(array![[2.0, 3.0], [1.0, 0.0]].view()).unwrap();
        assert_eq!(y, &array![[32.0, 0.5], [1.0, 0.0]]);
    }
}
