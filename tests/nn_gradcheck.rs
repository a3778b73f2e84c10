//! Gradient checks: the dense, activation, dropout and layer-norm layers' input and parameter
//! gradients and every loss's gradient against five-point central finite differences, plus
//! whole models end to end (the checker and its tolerance: `common/gradcheck.rs`; the newer
//! layers: `nn_gradcheck_deep.rs`). `checker_rejects_*` shows that a 5 % error or a single
//! flipped sign fails the check, so a passing check means something.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/gradcheck.rs"]
mod gradcheck;

use flowbook::nn::{
    Activation, ActivationLayer, DenseLayer, DropoutLayer, Init, Layer, LayerKind, LayerNormLayer,
    LayerSpec, Loss, LossKind, ModelConfig, OptimizerConfig, Targets,
};
use gradcheck::{
    TOLERANCE, assert_gradients_match, check_layer, five_point, max_relative_error, random_matrix,
    set_param,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn dense(inputs: usize, units: usize, init: Init) -> Layer {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut layer = DenseLayer::new("dense", inputs, units, init, &mut rng).unwrap();
    // Non-zero bias so that its gradient path is exercised with realistic values.
    for (i, b) in layer.bias_mut().iter_mut().enumerate() {
        *b = 0.1 * i as f32 - 0.2;
    }
    Layer::Dense(layer)
}

#[test]
fn dense_gradients_match_finite_differences_on_the_small_batch_path() {
    // One and two rows take the slice kernels (batches of at most 2 rows).
    check_layer(
        "dense batch 1",
        dense(5, 4, Init::HeUniform),
        random_matrix(1, 5, 1, 0.0),
    );
    check_layer(
        "dense batch 2",
        dense(5, 4, Init::HeUniform),
        random_matrix(2, 5, 13, 0.0),
    );
}

#[test]
fn dense_gradients_match_finite_differences_on_the_matrix_multiply_path() {
    check_layer(
        "dense batch 9",
        dense(6, 7, Init::XavierNormal),
        random_matrix(9, 6, 2, 0.0),
    );
}

fn activation(kind: Activation, width: usize) -> Layer {
    Layer::Activation(ActivationLayer::new("act", kind, width).unwrap())
}

#[test]
fn relu_gradients_match_finite_differences() {
    check_layer(
        "relu",
        activation(Activation::Relu, 5),
        random_matrix(3, 5, 3, 0.1),
    );
}

#[test]
fn leaky_relu_gradients_match_finite_differences() {
    let layer = activation(Activation::LeakyRelu { slope: 0.2 }, 5);
    check_layer("leaky relu", layer, random_matrix(6, 5, 4, 0.1));
}

#[test]
fn tanh_gradients_match_finite_differences() {
    check_layer(
        "tanh",
        activation(Activation::Tanh, 4),
        random_matrix(5, 4, 5, 0.0),
    );
}

#[test]
fn sigmoid_gradients_match_finite_differences() {
    check_layer(
        "sigmoid",
        activation(Activation::Sigmoid, 4),
        random_matrix(5, 4, 6, 0.0),
    );
}

#[test]
fn softmax_gradients_match_finite_differences() {
    check_layer(
        "softmax",
        activation(Activation::Softmax, 5),
        random_matrix(4, 5, 7, 0.0),
    );
}

#[test]
fn dropout_gradients_match_finite_differences_in_training_mode() {
    let layer = Layer::Dropout(DropoutLayer::new("drop", 0.4, 6, 0).unwrap());
    check_layer("dropout", layer, random_matrix(5, 6, 8, 0.0));
}

#[test]
fn layer_norm_gradients_match_finite_differences() {
    let mut norm = LayerNormLayer::new("ln", 6, 1e-5).unwrap();
    // Non-trivial gain and bias, set through the parameter views.
    let mut layer = Layer::LayerNorm(norm.clone());
    let values = random_matrix(1, 12, 9, 0.5);
    for (i, &v) in values.iter().enumerate() {
        set_param(&mut layer, i, v);
    }
    check_layer("layer norm", layer, random_matrix(4, 6, 10, 0.0));
    // And at the initial gain 1 / bias 0.
    norm.forward(random_matrix(2, 6, 11, 0.0).view()).unwrap();
    check_layer(
        "layer norm at init",
        Layer::LayerNorm(norm),
        random_matrix(3, 6, 12, 0.0),
    );
}

/// Checks ∂(mean loss)/∂logits.
fn check_loss(what: &str, kind: LossKind, z: Array2<f32>, targets: Targets) {
    let mut loss = Loss::new(kind);
    loss.forward_backward(z.view(), targets).unwrap();
    let analytic = loss.grad().clone();
    let numeric: Vec<f64> = (0..z.len())
        .map(|i| {
            let base = z.iter().nth(i).copied().unwrap();
            five_point(
                |v| {
                    let mut zp = z.clone();
                    *zp.iter_mut().nth(i).unwrap() = v;
                    loss.evaluate(zp.view(), targets).unwrap().loss as f64
                },
                base,
            )
        })
        .collect();
    assert_gradients_match(what, analytic.as_slice().unwrap(), &numeric);
}

#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let z = random_matrix(4, 5, 20, 0.0) * 3.0;
    check_loss(
        "cross-entropy",
        LossKind::CrossEntropy,
        z.clone(),
        Targets::Classes(&[0, 4, 2, 2]),
    );
    let soft = Array2::from_shape_fn((4, 5), |(r, c)| if c == r { 0.7 } else { 0.075 });
    check_loss(
        "cross-entropy soft",
        LossKind::CrossEntropy,
        z,
        Targets::OneHot(soft.view()),
    );
}

#[test]
fn binary_cross_entropy_gradient_matches_finite_differences() {
    let z = random_matrix(5, 3, 21, 0.0) * 2.0;
    let t = Array2::from_shape_fn((5, 3), |(r, c)| ((r + c) % 3) as f32 / 2.0);
    check_loss(
        "bce values",
        LossKind::BinaryCrossEntropy,
        z,
        Targets::Values(t.view()),
    );
    let z1 = random_matrix(6, 1, 22, 0.0) * 2.0;
    check_loss(
        "bce labels",
        LossKind::BinaryCrossEntropy,
        z1,
        Targets::Classes(&[0, 1, 1, 0, 1, 0]),
    );
}

#[test]
fn mse_gradient_matches_finite_differences() {
    let z = random_matrix(4, 3, 23, 0.0);
    let t = random_matrix(4, 3, 24, 0.0);
    check_loss("mse", LossKind::Mse, z, Targets::Values(t.view()));
}

#[test]
fn whole_model_gradients_match_finite_differences() {
    let layers = vec![
        LayerSpec::dense("dense1", 6),
        LayerSpec::tanh("tanh1"),
        LayerSpec::new("norm1", LayerKind::LayerNorm { eps: 1e-5 }),
        LayerSpec::dense("dense2", 5),
        LayerSpec::new("sigmoid1", LayerKind::Sigmoid),
        LayerSpec::dense("dense3", 3),
    ];
    let config = ModelConfig::new(4, layers)
        .with_optimizer(OptimizerConfig::sgd())
        .with_seed(3);
    gradcheck::check_model(
        "classifier",
        config.clone(),
        random_matrix(7, 4, 30, 0.0),
        None,
        Targets::Classes(&[0, 1, 2, 2, 1, 0, 1]),
    );
    let t = random_matrix(3, 3, 31, 0.0);
    let regression = config.with_loss(LossKind::Mse);
    gradcheck::check_model(
        "regressor",
        regression,
        random_matrix(3, 4, 32, 0.0),
        None,
        Targets::Values(t.view()),
    );
}

#[test]
fn checker_rejects_a_gradient_that_is_five_percent_off() {
    let numeric = vec![0.5, -0.25, 0.125, 0.8];
    let mut analytic: Vec<f32> = numeric.iter().map(|&v| v as f32).collect();
    assert!(max_relative_error(&analytic, &numeric).0 < 1e-6);
    analytic[2] *= 1.05;
    assert!(max_relative_error(&analytic, &numeric).0 > TOLERANCE);
}

#[test]
fn checker_rejects_a_single_flipped_sign() {
    let z = random_matrix(3, 4, 40, 0.0);
    let mut loss = Loss::new(LossKind::CrossEntropy);
    loss.forward_backward(z.view(), Targets::Classes(&[1, 2, 3]))
        .unwrap();
    let mut wrong: Vec<f32> = loss.grad().iter().copied().collect();
    let right: Vec<f64> = wrong.iter().map(|&v| v as f64).collect();
    wrong[5] = -wrong[5];
    assert!(max_relative_error(&wrong, &right).0 > TOLERANCE);
}
