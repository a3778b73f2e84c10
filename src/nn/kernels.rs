//! Tight loops over contiguous f32 slices for the hot path: axpy, dot, small-batch dense
//! products and buffer reuse. Callers check shapes first; nothing here allocates per step or
//! decides anything about layers.

use ndarray::{Array2, ArrayView2};

use super::simd::multiversion;

/// Batches with at most this many rows use the slice kernels below instead of
/// `general_mat_mul`, whose packing overhead dominates for a handful of rows.
pub(crate) const SMALL_BATCH_ROWS: usize = 2;

/// Makes `buf` a (rows, cols) array, reallocating only when the shape changes.
pub(crate) fn ensure_shape(buf: &mut Array2<f32>, rows: usize, cols: usize) {
    if buf.dim() != (rows, cols) {
        *buf = Array2::zeros((rows, cols));
    }
}

/// The row-major elements of a buffer the layers created themselves.
pub(crate) fn flat(a: &Array2<f32>) -> &[f32] {
    match a.as_slice() {
        Some(slice) => slice,
        None => unreachable!("layer buffers are always created in standard (row-major) layout"),
    }
}

/// Mutable row-major elements of a buffer the layers created themselves.
pub(crate) fn flat_mut(a: &mut Array2<f32>) -> &mut [f32] {
    match a.as_slice_mut() {
        Some(slice) => slice,
        None => unreachable!("layer buffers are always created in standard (row-major) layout"),
    }
}

/// The row-major elements of `x`: borrowed when it is contiguous, else copied into `scratch`.
pub(crate) fn contiguous_rows<'a>(
    x: ArrayView2<'a, f32>,
    scratch: &'a mut Array2<f32>,
) -> &'a [f32] {
    if let Some(slice) = x.to_slice() {
        return slice;
    }
    ensure_shape(scratch, x.nrows(), x.ncols());
    scratch.assign(&x);
    flat(scratch)
}

/// y += alpha · x, elementwise over the shorter of the two.
#[inline(always)]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// Number of independent partial sums in [`dot`]. Fixed, so that the SSE, AVX2 and AVX-512
/// builds of a kernel add in the same order and agree bit for bit.
pub(crate) const LANES: usize = 16;

/// Σ a·b over the common length, with sixteen independent partial sums so that the loop
/// vectorises without fast-math.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let len = a.len().min(b.len());
    let (a, b) = (a.split_at(len).0, b.split_at(len).0);
    let mut lanes = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (xa, xb) in a_chunks.zip(b_chunks) {
        add_products(&mut lanes, xa, xb);
    }
    add_products(&mut lanes, a_rest, b_rest);
    tree_sum(lanes)
}

/// lanes[k] += a[k]·b[k] for the first min(len) lanes.
#[inline(always)]
pub(crate) fn add_products(lanes: &mut [f32; LANES], a: &[f32], b: &[f32]) {
    for ((lane, x), y) in lanes.iter_mut().zip(a).zip(b) {
        *lane += x * y;
    }
}

/// Sum of the sixteen lanes as a fixed pairwise tree (lane k + lane k+8, then k + k+4, ...):
/// four dependent vector adds instead of fifteen scalar ones, in the same order everywhere.
#[inline(always)]
pub(crate) fn tree_sum(lanes: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    let mut values = lanes;
    while width > 0 {
        let (low, high) = values.split_at_mut(width);
        for (l, h) in low.iter_mut().zip(high.iter()) {
            *l += *h;
        }
        width /= 2;
    }
    values.first().copied().unwrap_or(0.0)
}

multiversion! {
    /// Σ x² (sixteen partial sums).
    pub fn sum_of_squares => sum_of_squares_kernel(x: &[f32]) -> f32
}

#[inline(always)]
fn sum_of_squares_kernel(x: &[f32]) -> f32 {
    dot(x, x)
}

multiversion! {
    /// out = x·W + b for a few rows. x (batch, inputs), w (inputs, units), bias (units),
    /// out (batch, units), all row-major. Zero inputs (common after ReLU) are skipped.
    pub(crate) fn dense_forward_rows => dense_forward_rows_kernel(
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        out: &mut [f32],
        inputs: usize,
        units: usize,
    )
}

#[inline(always)]
fn dense_forward_rows_kernel(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
    inputs: usize,
    units: usize,
) {
    for (x_row, out_row) in x.chunks_exact(inputs).zip(out.chunks_exact_mut(units)) {
        out_row.copy_from_slice(bias);
        for (&xi, w_row) in x_row.iter().zip(w.chunks_exact(units)) {
            if xi != 0.0 {
                axpy(xi, w_row, out_row);
            }
        }
    }
}

multiversion! {
    /// dW = xᵀ·g for a few rows. x (batch, inputs), g (batch, units), dw (inputs, units).
    pub(crate) fn dense_weight_grads_rows => dense_weight_grads_rows_kernel(
        x: &[f32],
        g: &[f32],
        dw: &mut [f32],
        inputs: usize,
        units: usize,
    )
}

#[inline(always)]
fn dense_weight_grads_rows_kernel(
    x: &[f32],
    g: &[f32],
    dw: &mut [f32],
    inputs: usize,
    units: usize,
) {
    let mut rows = x.chunks_exact(inputs).zip(g.chunks_exact(units));
    if let Some((x_row, g_row)) = rows.next() {
        for (&xi, dw_row) in x_row.iter().zip(dw.chunks_exact_mut(units)) {
            if xi == 0.0 {
                dw_row.fill(0.0);
            } else {
                for (d, &gj) in dw_row.iter_mut().zip(g_row) {
                    *d = xi * gj;
                }
            }
        }
    }
    for (x_row, g_row) in rows {
        for (&xi, dw_row) in x_row.iter().zip(dw.chunks_exact_mut(units)) {
            if xi != 0.0 {
                axpy(xi, g_row, dw_row);
            }
        }
    }
}

multiversion! {
    /// dx = g·Wᵀ for a few rows. g (batch, units), w (inputs, units), dx (batch, inputs).
    pub(crate) fn dense_input_grads_rows => dense_input_grads_rows_kernel(
        g: &[f32],
        w: &[f32],
        dx: &mut [f32],
        inputs: usize,
        units: usize,
    )
}

#[inline(always)]
fn dense_input_grads_rows_kernel(
    g: &[f32],
    w: &[f32],
    dx: &mut [f32],
    inputs: usize,
    units: usize,
) {
    for (g_row, dx_row) in g.chunks_exact(units).zip(dx.chunks_exact_mut(inputs)) {
        for (d, w_row) in dx_row.iter_mut().zip(w.chunks_exact(units)) {
            *d = dot(w_row, g_row);
        }
    }
}

multiversion! {
    /// out = Σ over rows of g. g (batch, cols), out (cols).
    pub(crate) fn column_sums => column_sums_kernel(g: &[f32], out: &mut [f32], cols: usize)
}

#[inline(always)]
fn column_sums_kernel(g: &[f32], out: &mut [f32], cols: usize) {
    out.fill(0.0);
    for row in g.chunks_exact(cols) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_for_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }

    fn sample(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 997) as f32 / 997.0 - 0.5)
            .collect()
    }

    /// The dispatched (AVX-512/AVX2 on capable CPUs) and baseline builds add in the same
    /// order, so they must agree bit for bit: reproducibility does not depend on the CPU.
    /// (Meaningful in release builds, where the loops are vectorised.)
    #[test]
    fn simd_builds_agree_bit_for_bit_with_the_baseline() {
        for len in [1, 10, 16, 37, 128] {
            let (a, b) = (sample(len, 1), sample(len, 2));
            assert_eq!(
                sum_of_squares(&a).to_bits(),
                sum_of_squares_kernel(&a).to_bits()
            );
            assert_eq!(dot(&a, &b).to_bits(), dot_baseline(&a, &b).to_bits());
        }
        let (rows, inputs, units) = (2, 37, 19);
        let (x, w, bias, g) = (
            sample(rows * inputs, 3),
            sample(inputs * units, 4),
            sample(units, 5),
            sample(rows * units, 6),
        );
        let (mut fast, mut base) = (vec![0.0; rows * units], vec![0.0; rows * units]);
        dense_forward_rows(&x, &w, &bias, &mut fast, inputs, units);
        dense_forward_rows_kernel(&x, &w, &bias, &mut base, inputs, units);
        assert_eq!(fast, base);
        let (mut fast, mut base) = (vec![0.0; inputs * units], vec![0.0; inputs * units]);
        dense_weight_grads_rows(&x, &g, &mut fast, inputs, units);
        dense_weight_grads_rows_kernel(&x, &g, &mut base, inputs, units);
        assert_eq!(fast, base);
        let (mut fast, mut base) = (vec![0.0; rows * inputs], vec![0.0; rows * inputs]);
        dense_input_grads_rows(&g, &w, &mut fast, inputs, units);
        dense_input_grads_rows_kernel(&g, &w, &mut base, inputs, units);
        assert_eq!(fast, base);
    }

    /// `dot` compiled without any target feature (it is `inline(always)`, so calling it
    /// here inlines the baseline build).
    fn dot_baseline(a: &[f32], b: &[f32]) -> f32 {
        dot(a, b)
    }

    #[test]
    fn small_batch_kernels_match_a_naive_product() {
        // x (2, 3), w (3, 2): hand-written values, expected products computed by hand.
        let x = [1.0, 0.0, 2.0, -1.0, 3.0, 0.5];
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let bias = [0.5, -0.5];
        let mut out = [0.0; 4];
        dense_forward_rows(&x, &w, &bias, &mut out, 3, 2);
        // row 0: [1+10, 2+12] + bias; row 1: [-1+9+2.5, -2+12+3] + bias
        assert_eq!(out, [11.5, 13.5, 11.0, 12.5]);
        let g = [1.0, -1.0, 2.0, 0.5];
        let mut dw = [9.0; 6];
        dense_weight_grads_rows(&x, &g, &mut dw, 3, 2);
        // dw[i, j] = Σ_b x[b, i] g[b, j]
        assert_eq!(dw, [-1.0, -1.5, 6.0, 1.5, 3.0, -1.75]);
        let mut dx = [0.0; 6];
        dense_input_grads_rows(&g, &w, &mut dx, 3, 2);
        // dx[b, i] = Σ_j g[b, j] w[i, j]
        assert_eq!(dx, [-1.0, -1.0, -1.0, 3.0, 8.0, 13.0]);
        let mut sums = [0.0; 2];
        column_sums(&g, &mut sums, 2);
        assert_eq!(sums, [3.0, -0.5]);
    }
}
