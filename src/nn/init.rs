//! Seeded weight initialisers (He, Xavier; uniform or normal) on `ChaCha8Rng`, so a seed gives
//! the same weights bit for bit. Only draws numbers: never decides shapes or layer order.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::Init;

/// The random stream of the layer at `position`: the model seed picks the key and each layer
/// gets its own ChaCha stream, so adding a layer does not change the others' weights.
pub fn layer_rng(seed: u64, position: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(position as u64);
    rng
}

/// A (fan_in, fan_out) weight matrix drawn from `init`.
pub fn init_weights(
    init: Init,
    fan_in: usize,
    fan_out: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    init_tensor(init, (fan_in, fan_out), fan_in, fan_out, rng)
}

/// A `shape` tensor drawn from `init` with the given fans, for layers whose weight matrix is
/// not (fan_in, fan_out): a convolution's fan-in is channels·kernel, its fan-out
/// filters·kernel (as PyTorch's `_calculate_fan_in_and_fan_out`).
pub fn init_tensor(
    init: Init,
    shape: (usize, usize),
    fan_in: usize,
    fan_out: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    let fan_in_f = fan_in.max(1) as f64;
    let fan_sum = (fan_in + fan_out).max(1) as f64;
    let mut weights = Array2::zeros(shape);
    match init {
        Init::HeUniform => fill_uniform(&mut weights, (6.0 / fan_in_f).sqrt(), rng),
        Init::XavierUniform => fill_uniform(&mut weights, (6.0 / fan_sum).sqrt(), rng),
        Init::HeNormal => fill_normal(&mut weights, (2.0 / fan_in_f).sqrt(), rng),
        Init::XavierNormal => fill_normal(&mut weights, (2.0 / fan_sum).sqrt(), rng),
    }
    weights
}

fn fill_uniform(weights: &mut Array2<f32>, limit: f64, rng: &mut ChaCha8Rng) {
    for w in weights.iter_mut() {
        let unit: f64 = rng.random();
        *w = ((2.0 * unit - 1.0) * limit) as f32;
    }
}

fn fill_normal(weights: &mut Array2<f32>, std_dev: f64, rng: &mut ChaCha8Rng) {
    for w in weights.iter_mut() {
        *w = (standard_normal(rng) * std_dev) as f32;
    }
}

/// One N(0, 1) draw by the Box–Muller transform (one of the pair is discarded for simplicity).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_identical_weights() {
        let a = init_weights(Init::HeNormal, 16, 8, &mut layer_rng(7, 2));
        let b = init_weights(Init::HeNormal, 16, 8, &mut layer_rng(7, 2));
        assert_eq!(a, b);
        let c = init_weights(Init::HeNormal, 16, 8, &mut layer_rng(7, 3));
        assert_ne!(a, c, "another layer position must draw other weights");
    }

    #[test]
    fn uniform_initialisers_stay_within_their_limits() {
        let he = init_weights(Init::HeUniform, 50, 20, &mut layer_rng(1, 0));
        let he_limit = (6.0f32 / 50.0).sqrt();
        assert!(he.iter().all(|w| w.abs() <= he_limit));
        let xavier = init_weights(Init::XavierUniform, 50, 20, &mut layer_rng(1, 0));
        let xavier_limit = (6.0f32 / 70.0).sqrt();
        assert!(xavier.iter().all(|w| w.abs() <= xavier_limit));
        // Spread: the largest draw of 1000 is close to the limit.
        let max = he.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        assert!(max > 0.95 * he_limit);
    }

    #[test]
    fn normal_initialisers_have_the_requested_spread() {
        let he = init_weights(Init::HeNormal, 200, 100, &mut layer_rng(3, 0));
        let n = he.len() as f64;
        let mean = he.iter().map(|&w| w as f64).sum::<f64>() / n;
        let var = he.iter().map(|&w| (w as f64 - mean).powi(2)).sum::<f64>() / n;
        let expected_var = 2.0 / 200.0;
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!(
            (var / expected_var - 1.0).abs() < 0.05,
            "variance {var} vs {expected_var}"
        );
        let xavier = init_weights(Init::XavierNormal, 200, 100, &mut layer_rng(3, 0));
        let var_x = xavier.iter().map(|&w| (w as f64).powi(2)).sum::<f64>() / n;
        assert!(
            (var_x / (2.0 / 300.0) - 1.0).abs() < 0.05,
            "variance {var_x}"
        );
    }
}
