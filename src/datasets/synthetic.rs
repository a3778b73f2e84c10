//! Synthetic data sets drawn from a seed (two moons, three-arm spiral, XOR, noisy regression).
//! Pure functions: same arguments → same rows bit for bit; no I/O, no global state.

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Dataset;
use crate::nn::Labels;
use crate::nn::init::standard_normal;

/// Two interleaving half circles (as scikit-learn's `make_moons`): ⌊n/2⌋ points on the upper
/// moon (class 0), the rest on the lower one (class 1), Gaussian noise of std `noise` on both
/// coordinates, rows shuffled.
pub fn moons(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let outer = n / 2;
    let inner = n - outer;
    let mut points = Vec::with_capacity(n);
    for i in 0..outer {
        let t = std::f64::consts::PI * fraction(i, outer);
        points.push(([t.cos(), t.sin()], 0));
    }
    for i in 0..inner {
        let t = std::f64::consts::PI * fraction(i, inner);
        points.push(([1.0 - t.cos(), 0.5 - t.sin()], 1));
    }
    points.shuffle(&mut rng);
    let noisy = add_noise(points, noise, &mut rng);
    classification("moons", noisy, 2)
}

/// Three interleaved spiral arms (CS231n's spiral): arm k has radius r from 0 to 1 and angle
/// 4k + 4r plus Gaussian noise of std `noise`; x = (r·sin θ, r·cos θ). `n` points in total.
pub fn spiral(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let arms = 3;
    let mut points = Vec::with_capacity(n);
    for arm in 0..arms {
        let count = n / arms + usize::from(arm < n % arms);
        for i in 0..count {
            let r = fraction(i, count);
            let theta = 4.0 * (arm as f64 + r) + standard_normal(&mut rng) * noise as f64;
            points.push(([r * theta.sin(), r * theta.cos()], arm));
        }
    }
    points.shuffle(&mut rng);
    classification("spiral", points, arms)
}

/// XOR: points uniform in [−1, 1]², class 1 when the coordinates have opposite signs; then
/// Gaussian noise of std `noise` is added to the coordinates (labels stay).
pub fn xor(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = (0..n)
        .map(|_| {
            let a = rng.random_range(-1.0..1.0);
            let b = rng.random_range(-1.0..1.0);
            ([a, b], usize::from((a >= 0.0) != (b >= 0.0)))
        })
        .collect();
    let noisy = add_noise(points, noise, &mut rng);
    classification("xor", noisy, 2)
}

/// Regression target y = sin(x1) + 0.5·x2² + N(0, noise²) with x1 uniform in [−3, 3] and x2
/// in [−2, 2]; y is a (n, 1) value array.
pub fn regression(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, 2));
    let mut y = Array2::zeros((n, 1));
    for (mut row, target) in x.rows_mut().into_iter().zip(y.iter_mut()) {
        let x1: f64 = rng.random_range(-3.0..3.0);
        let x2: f64 = rng.random_range(-2.0..2.0);
        let clean = x1.sin() + 0.5 * x2 * x2;
        row.assign(&ndarray::arr1(&[x1 as f32, x2 as f32]));
        *target = (clean + standard_normal(&mut rng) * noise as f64) as f32;
    }
    Dataset {
        name: "regression".into(),
        x,
        y: Labels::Values(y),
        feature_names: vec!["x1".into(), "x2".into()],
        class_count: 0,
    }
}

/// i/(count − 1), i.e. `linspace(0, 1, count)`; 0 for a single point.
fn fraction(i: usize, count: usize) -> f64 {
    if count <= 1 {
        0.0
    } else {
        i as f64 / (count - 1) as f64
    }
}

fn add_noise(
    points: Vec<([f64; 2], usize)>,
    noise: f32,
    rng: &mut ChaCha8Rng,
) -> Vec<([f64; 2], usize)> {
    points
        .into_iter()
        .map(|([a, b], label)| {
            let da = standard_normal(rng) * noise as f64;
            let db = standard_normal(rng) * noise as f64;
            ([a + da, b + db], label)
        })
        .collect()
}

fn classification(name: &str, points: Vec<([f64; 2], usize)>, class_count: usize) -> Dataset {
    let mut x = Array2::zeros((points.len(), 2));
    let mut labels = Vec::with_capacity(points.len());
    for (mut row, ([a, b], label)) in x.rows_mut().into_iter().zip(points) {
        row.assign(&ndarray::arr1(&[a as f32, b as f32]));
        labels.push(label);
    }
    Dataset {
        name: name.into(),
        x,
        y: Labels::Classes(labels),
        feature_names: vec!["x1".into(), "x2".into()],
        class_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_reproducible_from_the_seed() {
        assert_eq!(moons(50, 0.1, 7), moons(50, 0.1, 7));
        assert_eq!(spiral(50, 0.2, 7), spiral(50, 0.2, 7));
        assert_eq!(xor(50, 0.1, 7), xor(50, 0.1, 7));
        assert_eq!(regression(50, 0.1, 7), regression(50, 0.1, 7));
        assert_ne!(moons(50, 0.1, 7), moons(50, 0.1, 8));
    }

    #[test]
    fn classes_are_balanced() {
        let data = spiral(301, 0.2, 1);
        let labels = data.class_labels().unwrap();
        let counts: Vec<usize> = (0..3)
            .map(|c| labels.iter().filter(|&&l| l == c).count())
            .collect();
        assert_eq!(counts, vec![101, 100, 100]);
        let moons = moons(11, 0.0, 1);
        assert_eq!(
            moons
                .class_labels()
                .unwrap()
                .iter()
                .filter(|&&l| l == 0)
                .count(),
            5
        );
    }

    #[test]
    fn noiseless_moons_lie_on_their_circles() {
        let data = moons(40, 0.0, 2);
        for (row, &label) in data.x.rows().into_iter().zip(data.class_labels().unwrap()) {
            let centre = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((row[0] - centre.0).powi(2) + (row[1] - centre.1).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-5, "radius {r}");
        }
    }

    #[test]
    fn noiseless_xor_labels_follow_the_quadrant() {
        let data = xor(200, 0.0, 3);
        for (row, &label) in data.x.rows().into_iter().zip(data.class_labels().unwrap()) {
            assert_eq!(label == 1, (row[0] >= 0.0) != (row[1] >= 0.0));
        }
    }

    #[test]
    fn noiseless_regression_targets_follow_the_formula() {
        let data = regression(20, 0.0, 4);
        let Labels::Values(y) = &data.y else {
            panic!("regression has value targets")
        };
        for (row, &t) in data.x.rows().into_iter().zip(y.iter()) {
            let expected = row[0].sin() + 0.5 * row[1] * row[1];
            assert!((t - expected).abs() < 1e-5);
        }
    }
}
