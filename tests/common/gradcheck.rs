//! Finite-difference gradient checking for the nn tests: five-point central differences of a
//! probe loss Σ y⊙R (summed in f64) against a layer's analytic input and parameter gradients,
//! and of a model's mean loss against `compute_gradients`.
//!
//! Precision choice: the library computes in f32, so the checks run in f32 with the looser
//! tolerance: per element |analytic − numeric| / max(|analytic|, |numeric|, 1e-2) < 1e-2
//! (below magnitude 1e-2 this is an absolute bound of 1e-4). The five-point stencil
//! (truncation error O(h⁴)) with h = 1e-2 keeps the numeric error near 1e-5.

// Each test crate uses a different part of the checker.
#![allow(dead_code)]

use flowbook::nn::{Layer, LayerInputs, Model, ModelConfig, ModelInput, Targets};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const STEP: f32 = 1e-2;
pub const TOLERANCE: f64 = 1e-2;
pub const FLOOR: f64 = 1e-2;

/// Uniform values in ±[margin, margin + 1): a margin keeps ReLU inputs away from the kink.
pub fn random_matrix(rows: usize, cols: usize, seed: u64, margin: f32) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| {
        let magnitude = margin + rng.random::<f32>();
        if rng.random::<bool>() {
            magnitude
        } else {
            -magnitude
        }
    })
}

/// Distinct values 0.1 apart in a seeded random order: no two are within a finite-difference
/// step of each other, so max pooling never switches its winner during a check.
pub fn distinct_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.1 - 1.0).collect();
    for i in (1..values.len()).rev() {
        values.swap(i, rng.random_range(0..=i));
    }
    Array2::from_shape_vec((rows, cols), values).unwrap()
}

/// Five-point central difference of `f` at `x`.
pub fn five_point(mut f: impl FnMut(f32) -> f64, x: f32) -> f64 {
    let h = STEP;
    (-f(x + 2.0 * h) + 8.0 * f(x + h) - 8.0 * f(x - h) + f(x - 2.0 * h)) / (12.0 * h as f64)
}

/// The worst per-element relative error and where it is.
pub fn max_relative_error(analytic: &[f32], numeric: &[f64]) -> (f64, usize) {
    assert_eq!(analytic.len(), numeric.len(), "gradient lengths");
    let mut worst = (0.0, 0);
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let a = a as f64;
        let err = (a - n).abs() / a.abs().max(n.abs()).max(FLOOR);
        if err > worst.0 {
            worst = (err, i);
        }
    }
    worst
}

/// Asserts the gradients agree and are not all zero; returns the worst relative error.
pub fn assert_gradients_match(what: &str, analytic: &[f32], numeric: &[f64]) -> f64 {
    let (err, at) = max_relative_error(analytic, numeric);
    assert!(
        err < TOLERANCE,
        "{what}: relative error {err:.2e} at element {at}: analytic {} vs numeric {}",
        analytic[at],
        numeric[at]
    );
    // Guard against vacuous checks: the gradient must not be all (near) zero.
    assert!(
        numeric.iter().any(|n| n.abs() > 1e-3),
        "{what}: gradient is all zero"
    );
    err
}

/// Probe loss Σ y ⊙ R, summed in f64.
pub fn probe(y: &Array2<f32>, r: &Array2<f32>) -> f64 {
    y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
}

/// Forward with the same dropout mask every time.
pub fn run_forward(
    layer: &mut Layer,
    inputs: &[Array2<f32>],
    lengths: Option<&[usize]>,
) -> Array2<f32> {
    if let Layer::Dropout(d) = layer {
        d.reseed(5);
    }
    let layer_inputs = LayerInputs {
        first: inputs[0].view(),
        second: inputs.get(1).map(|x| x.view()),
        lengths,
    };
    layer.forward_with(layer_inputs, true).unwrap().clone()
}

pub fn set_param(layer: &mut Layer, mut index: usize, value: f32) {
    for param in layer.params_mut() {
        if let Some(slot) = param.value.get_mut(index) {
            *slot = value;
            return;
        }
        index -= param.value.len();
    }
    panic!("parameter index out of range");
}

pub fn param_values(layer: &Layer) -> Vec<f32> {
    layer.params().flat_map(|p| p.value.to_vec()).collect()
}

/// Worst relative errors of one check (0 where nothing was checked).
#[derive(Clone, Copy, Debug, Default)]
pub struct Worst {
    pub input: f64,
    pub params: f64,
}

/// Checks ∂(Σ y⊙R)/∂x and ∂/∂θ of a one-input `layer` at `x`.
pub fn check_layer(what: &str, layer: Layer, x: Array2<f32>) -> Worst {
    check_layer_with(what, layer, &[x], None, true)
}

/// Checks ∂(Σ y⊙R)/∂(each input) (when `input_grads`) and ∂/∂θ of `layer` at `inputs`, with
/// sequence `lengths` if given. Prints the worst errors (see them with `--nocapture`).
pub fn check_layer_with(
    what: &str,
    layer: Layer,
    inputs: &[Array2<f32>],
    lengths: Option<&[usize]>,
    input_grads: bool,
) -> Worst {
    let r = random_matrix(inputs[0].nrows(), layer.output_width(), 99, 0.0);
    let mut analytic = layer.clone();
    run_forward(&mut analytic, inputs, lengths);
    analytic.backward(r.view()).unwrap();
    let mut worst = Worst::default();
    if input_grads {
        for (slot, x) in inputs.iter().enumerate() {
            let grads = analytic.input_grads_of(slot).clone();
            let numeric: Vec<f64> = (0..x.len())
                .map(|i| {
                    let base = x.iter().nth(i).copied().unwrap();
                    five_point(
                        |v| {
                            let mut perturbed = inputs.to_vec();
                            *perturbed[slot].iter_mut().nth(i).unwrap() = v;
                            probe(&run_forward(&mut layer.clone(), &perturbed, lengths), &r)
                        },
                        base,
                    )
                })
                .collect();
            let err = assert_gradients_match(
                &format!("{what} input {slot}"),
                grads.as_slice().unwrap(),
                &numeric,
            );
            worst.input = worst.input.max(err);
        }
    }
    let params = param_values(&layer);
    if !params.is_empty() {
        let param_grads: Vec<f32> = analytic.params().flat_map(|p| p.grad.to_vec()).collect();
        let numeric: Vec<f64> = params
            .iter()
            .enumerate()
            .map(|(i, &base)| {
                five_point(
                    |v| {
                        let mut perturbed = layer.clone();
                        set_param(&mut perturbed, i, v);
                        probe(&run_forward(&mut perturbed, inputs, lengths), &r)
                    },
                    base,
                )
            })
            .collect();
        worst.params = assert_gradients_match(&format!("{what} params"), &param_grads, &numeric);
    }
    println!(
        "gradient check {what:<28} worst relative error: input {:.2e}, parameters {:.2e}",
        worst.input, worst.params
    );
    worst
}

/// Compares `compute_gradients` with finite differences of `evaluate` over every parameter;
/// returns the worst relative error.
pub fn check_model(
    what: &str,
    config: ModelConfig,
    x: Array2<f32>,
    lengths: Option<&[usize]>,
    targets: Targets,
) -> f64 {
    fn input<'a>(x: &'a Array2<f32>, lengths: Option<&'a [usize]>) -> ModelInput<'a> {
        ModelInput {
            x: x.view(),
            lengths,
        }
    }
    let mut model = Model::new(config).unwrap();
    model
        .compute_gradients(input(&x, lengths), targets)
        .unwrap();
    let mut analytic = Vec::new();
    model.gradients_flat(&mut analytic);
    let mut params = Vec::new();
    model.parameters_flat(&mut params);
    let numeric: Vec<f64> = (0..params.len())
        .map(|i| {
            five_point(
                |v| {
                    let mut perturbed = params.clone();
                    perturbed[i] = v;
                    let mut m = model.clone();
                    m.set_parameters_flat(&perturbed).unwrap();
                    m.evaluate(input(&x, lengths), targets).unwrap().loss as f64
                },
                params[i],
            )
        })
        .collect();
    let err = assert_gradients_match(what, &analytic, &numeric);
    println!("gradient check {what:<28} worst relative error: parameters {err:.2e}");
    err
}
