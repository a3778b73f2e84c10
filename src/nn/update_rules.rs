//! The optimizers' inner loops: SGD, momentum/Nesterov and Adam updates of one contiguous
//! parameter tensor, each also returning Σ g² so the global gradient norm needs no extra pass.
//! Compiled for the widest SIMD unit at run time; never allocates, never resizes state.

use super::kernels::{LANES, add_products, tree_sum};
use super::simd::multiversion;

/// Optimizer state smaller than this is treated as zero (see [`adam`]).
const TINY_MOMENT: f32 = 1e-30;
/// Gradients smaller than this are not squared: 1e-15² · (1 − β2) would be subnormal.
const TINY_GRADIENT: f32 = 1e-15;

/// 0 when |x| < limit, else x; compiles to a compare and a mask, so loops stay vectorised.
#[inline(always)]
fn flush_below(x: f32, limit: f32) -> f32 {
    if x.abs() < limit { 0.0 } else { x }
}

/// lanes[k] += g[k]² (the accumulation `kernels::dot` uses for a chunk or the tail).
#[inline(always)]
fn add_squares(lanes: &mut [f32; LANES], g: &[f32]) {
    add_products(lanes, g, g);
}

multiversion! {
    /// p ← p − lr·(g + wd·p). Returns Σ g².
    pub(crate) fn sgd => sgd_kernel(params: &mut [f32], grads: &[f32], lr: f32, weight_decay: f32) -> f32
}

#[inline(always)]
fn sgd_kernel(params: &mut [f32], grads: &[f32], lr: f32, weight_decay: f32) -> f32 {
    let step = |p: &mut f32, g: f32| *p -= lr * (g + weight_decay * *p);
    let mut lanes = [0.0f32; LANES];
    let mut p_chunks = params.chunks_exact_mut(LANES);
    let mut g_chunks = grads.chunks_exact(LANES);
    for (p, g) in (&mut p_chunks).zip(&mut g_chunks) {
        add_squares(&mut lanes, g);
        for (p, &g) in p.iter_mut().zip(g) {
            step(p, g);
        }
    }
    let (p_rest, g_rest) = (p_chunks.into_remainder(), g_chunks.remainder());
    add_squares(&mut lanes, g_rest);
    for (p, &g) in p_rest.iter_mut().zip(g_rest) {
        step(p, g);
    }
    tree_sum(lanes)
}

/// Hyper-parameters of one momentum step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Momentum {
    pub lr: f32,
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
}

multiversion! {
    /// buf ← μ·buf + g'; p ← p − lr·(g' + μ·buf) with Nesterov, p ← p − lr·buf without
    /// (g' = g + wd·p). A zero buffer gives buf = g' on the first step, as PyTorch. The buffer
    /// is flushed below 1e-30 (see [`adam`]). Returns Σ g².
    pub(crate) fn momentum => momentum_kernel(params: &mut [f32], grads: &[f32], buf: &mut [f32], rule: Momentum) -> f32
}

#[inline(always)]
fn momentum_kernel(params: &mut [f32], grads: &[f32], buf: &mut [f32], rule: Momentum) -> f32 {
    let Momentum {
        lr,
        momentum,
        nesterov,
        weight_decay,
    } = rule;
    let step = |p: &mut f32, g: f32, b: &mut f32| {
        let g = g + weight_decay * *p;
        *b = flush_below(momentum * *b + g, TINY_MOMENT);
        let direction = if nesterov { g + momentum * *b } else { *b };
        *p -= lr * direction;
    };
    let mut lanes = [0.0f32; LANES];
    let mut p_chunks = params.chunks_exact_mut(LANES);
    let mut g_chunks = grads.chunks_exact(LANES);
    let mut b_chunks = buf.chunks_exact_mut(LANES);
    for ((p, g), b) in (&mut p_chunks).zip(&mut g_chunks).zip(&mut b_chunks) {
        add_squares(&mut lanes, g);
        for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
            step(p, g, b);
        }
    }
    let (p_rest, g_rest) = (p_chunks.into_remainder(), g_chunks.remainder());
    add_squares(&mut lanes, g_rest);
    let b_rest = b_chunks.into_remainder();
    for ((p, &g), b) in p_rest.iter_mut().zip(g_rest).zip(b_rest.iter_mut()) {
        step(p, g, b);
    }
    tree_sum(lanes)
}

/// Adam's constants for step t: p ← p − (lr/bc1)·m / (√v/√bc2 + eps), bc_i = 1 − β_i^t.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Adam {
    beta1: f32,
    beta2: f32,
    eps: f32,
    /// Added to the gradient as wd·p (Adam's L2; 0 for AdamW, which decays separately).
    weight_decay: f32,
    step_size: f32,
    inv_sqrt_bc2: f32,
}

impl Adam {
    /// `bias_corrections` = (1 − β1^t, 1 − β2^t).
    pub(crate) fn new(
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
        bias_corrections: (f64, f64),
    ) -> Self {
        let (bc1, bc2) = bias_corrections;
        Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
            step_size: (lr as f64 / bc1) as f32,
            inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
        }
    }
}

multiversion! {
    /// m ← β1·m + (1−β1)·g'; v ← β2·v + (1−β2)·g'²; g' = g + wd·p; then the Adam step.
    /// Returns Σ g².
    ///
    /// Moments below 1e-30 are flushed to zero and |g'| < 1e-15 is not squared: with sparse
    /// gradients (batch 1, ReLU) the moments otherwise decay into subnormal floats, which x86
    /// handles ~100× slower. The flushed amounts change an update by < 1e-22·lr (eps ≥ 1e-8).
    pub(crate) fn adam => adam_kernel(
        params: &mut [f32],
        grads: &[f32],
        first: &mut [f32],
        second: &mut [f32],
        rule: Adam,
    ) -> f32
}

#[inline(always)]
fn adam_kernel(
    params: &mut [f32],
    grads: &[f32],
    first: &mut [f32],
    second: &mut [f32],
    rule: Adam,
) -> f32 {
    let Adam {
        beta1,
        beta2,
        eps,
        weight_decay,
        step_size,
        inv_sqrt_bc2,
    } = rule;
    let (one_minus_b1, one_minus_b2) = (1.0 - beta1, 1.0 - beta2);
    let step = |p: &mut f32, g: f32, m: &mut f32, v: &mut f32| {
        let g = flush_below(g + weight_decay * *p, TINY_MOMENT);
        let g_for_square = flush_below(g, TINY_GRADIENT);
        *m = flush_below(beta1 * *m + one_minus_b1 * g, TINY_MOMENT);
        *v = flush_below(
            beta2 * *v + one_minus_b2 * g_for_square * g_for_square,
            TINY_MOMENT,
        );
        *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
    };
    let mut lanes = [0.0f32; LANES];
    let mut p_chunks = params.chunks_exact_mut(LANES);
    let mut g_chunks = grads.chunks_exact(LANES);
    let mut m_chunks = first.chunks_exact_mut(LANES);
    let mut v_chunks = second.chunks_exact_mut(LANES);
    let moments = (&mut m_chunks).zip(&mut v_chunks);
    for ((p, g), (m, v)) in (&mut p_chunks).zip(&mut g_chunks).zip(moments) {
        add_squares(&mut lanes, g);
        let elements = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        for (((p, &g), m), v) in elements {
            step(p, g, m, v);
        }
    }
    let (p_rest, g_rest) = (p_chunks.into_remainder(), g_chunks.remainder());
    add_squares(&mut lanes, g_rest);
    let moments = m_chunks
        .into_remainder()
        .iter_mut()
        .zip(v_chunks.into_remainder().iter_mut());
    for ((p, &g), (m, v)) in p_rest.iter_mut().zip(g_rest).zip(moments) {
        step(p, g, m, v);
    }
    tree_sum(lanes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::kernels::sum_of_squares;

    #[test]
    fn fused_sum_of_squares_equals_the_separate_pass_bit_for_bit() {
        let grads: Vec<f32> = (0..37)
            .map(|i| ((i * 7919) % 101) as f32 * 0.013 - 0.6)
            .collect();
        let expected = sum_of_squares(&grads);
        let mut p = vec![0.5; 37];
        assert_eq!(sgd(&mut p, &grads, 0.1, 0.0).to_bits(), expected.to_bits());
        let mut buf = vec![0.0; 37];
        let rule = Momentum {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        };
        assert_eq!(
            momentum(&mut p, &grads, &mut buf, rule).to_bits(),
            expected.to_bits()
        );
        let (mut m, mut v) = (vec![0.0; 37], vec![0.0; 37]);
        let rule = Adam::new(0.1, 0.9, 0.999, 1e-8, 0.0, (0.1, 0.001));
        assert_eq!(
            adam(&mut p, &grads, &mut m, &mut v, rule).to_bits(),
            expected.to_bits()
        );
    }

    #[test]
    fn simd_builds_agree_bit_for_bit_with_the_baseline() {
        let grads: Vec<f32> = (0..45)
            .map(|i| ((i * 31) % 17) as f32 * 0.07 - 0.5)
            .collect();
        let start: Vec<f32> = (0..45).map(|i| (i as f32 * 0.37).sin()).collect();
        let (mut fast, mut base) = (start.clone(), start.clone());
        let a = sgd(&mut fast, &grads, 0.1, 0.01);
        let b = sgd_kernel(&mut base, &grads, 0.1, 0.01);
        assert_eq!((fast.clone(), a.to_bits()), (base.clone(), b.to_bits()));
        let rule = Momentum {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.01,
        };
        let (mut buf_fast, mut buf_base) = (vec![0.1; 45], vec![0.1; 45]);
        let a = momentum(&mut fast, &grads, &mut buf_fast, rule);
        let b = momentum_kernel(&mut base, &grads, &mut buf_base, rule);
        assert_eq!(
            (&fast, &buf_fast, a.to_bits()),
            (&base, &buf_base, b.to_bits())
        );
        let rule = Adam::new(0.01, 0.9, 0.999, 1e-8, 0.01, (0.19, 0.002));
        let (mut m_fast, mut v_fast) = (vec![0.01; 45], vec![0.001; 45]);
        let (mut m_base, mut v_base) = (m_fast.clone(), v_fast.clone());
        let a = adam(&mut fast, &grads, &mut m_fast, &mut v_fast, rule);
        let b = adam_kernel(&mut base, &grads, &mut m_base, &mut v_base, rule);
        assert_eq!((&fast, &m_fast, &v_fast), (&base, &m_base, &v_base));
        assert_eq!(a.to_bits(), b.to_bits());
    }

    #[test]
    fn decaying_adam_moments_reach_zero_instead_of_subnormals() {
        let (mut p, mut m, mut v) = (vec![1.0f32; 20], vec![1e-3f32; 20], vec![1e-6f32; 20]);
        let rule = Adam::new(0.001, 0.9, 0.999, 1e-8, 0.0, (1.0, 1.0));
        for _ in 0..100_000 {
            adam(&mut p, &[0.0; 20], &mut m, &mut v, rule);
        }
        assert!(m.iter().chain(&v).all(|&x| x == 0.0 || x.is_normal()));
        assert!(m.iter().all(|&x| x == 0.0));
    }
}
