//! Training that really learns: small networks on the seeded data sets must reach the stated
//! held-out accuracy (or MSE), each with a different optimizer/schedule so that every update
//! rule is exercised end to end. Each test runs in about a second in the dev profile.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::datasets::{self, Dataset};
use flowbook::nn::{
    EpochTrainer, LayerKind, LayerSpec, LossKind, LrSchedule, Model, ModelConfig, OptimizerConfig,
};

/// Trains for `epochs` and returns (test loss, test accuracy).
fn fit(
    config: ModelConfig,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
    batch_size: usize,
) -> (f32, f32) {
    let mut model = Model::new(config).unwrap();
    let mut trainer = EpochTrainer::new(batch_size, 11).unwrap();
    for _ in 0..epochs {
        trainer
            .train_epoch(&mut model, train.x.view(), &train.y)
            .unwrap();
    }
    let stats = model.evaluate(test.x.view(), test.y.as_targets()).unwrap();
    eprintln!(
        "{}: test loss {:.4}, accuracy {:.4}",
        train.name,
        stats.loss,
        stats.accuracy()
    );
    (stats.loss, stats.accuracy())
}

#[test]
fn moons_reach_95_percent_with_nesterov_momentum() {
    let (train, test) = datasets::moons(1000, 0.15, 1).split(0.8, 2).unwrap();
    let config = ModelConfig::mlp(2, &[32, 32], 2)
        .with_optimizer(OptimizerConfig::momentum(0.9, true))
        .with_schedule(LrSchedule::step_decay(0.05, 1000, 0.5))
        .with_seed(3);
    let (_, accuracy) = fit(config, &train, &test, 60, 32);
    assert!(accuracy >= 0.95, "moons test accuracy {accuracy}");
}

#[test]
fn moons_reach_95_percent_with_binary_cross_entropy() {
    let (train, test) = datasets::moons(1000, 0.1, 4).split(0.8, 5).unwrap();
    let config = ModelConfig::mlp(2, &[32, 32], 1)
        .with_loss(LossKind::BinaryCrossEntropy)
        .with_lr(0.01)
        .with_seed(6);
    let (_, accuracy) = fit(config, &train, &test, 40, 32);
    assert!(accuracy >= 0.95, "moons (BCE) test accuracy {accuracy}");
}

#[test]
fn three_arm_spiral_reaches_95_percent_with_adam_and_cosine_warmup() {
    let (train, test) = datasets::spiral(1500, 0.2, 7).split(0.8, 8).unwrap();
    let epochs = 150;
    let steps = (epochs * 1200 / 32) as u64;
    let config = ModelConfig::mlp(2, &[64, 64], 3)
        .with_schedule(LrSchedule::cosine(0.01, steps, 1e-4).with_warmup(100))
        .with_seed(9);
    let (_, accuracy) = fit(config, &train, &test, epochs, 32);
    assert!(accuracy >= 0.95, "spiral test accuracy {accuracy}");
}

#[test]
fn xor_reaches_95_percent_with_adamw_and_clipping() {
    let (train, test) = datasets::xor(1000, 0.02, 10).split(0.8, 11).unwrap();
    let config = ModelConfig::mlp(2, &[16, 16], 2)
        .with_optimizer(OptimizerConfig::adamw(1e-4))
        .with_lr(0.01)
        .with_clip_grad_norm(Some(1.0))
        .with_seed(12);
    let (_, accuracy) = fit(config, &train, &test, 60, 32);
    assert!(accuracy >= 0.95, "xor test accuracy {accuracy}");
}

/// Noise std 0.1 gives an irreducible MSE of 0.01; the target's variance is about 0.8, so a
/// test MSE below 0.03 means the function was learned.
#[test]
fn regression_test_mse_is_below_0_03() {
    let (train, test) = datasets::regression(2000, 0.1, 13).split(0.8, 14).unwrap();
    let layers = vec![
        LayerSpec::dense("dense1", 64),
        LayerSpec::tanh("tanh1"),
        LayerSpec::dense("dense2", 64),
        LayerSpec::tanh("tanh2"),
        LayerSpec::dense("dense3", 1),
    ];
    let config = ModelConfig::new(2, layers)
        .with_loss(LossKind::Mse)
        .with_lr(0.005)
        .with_seed(15);
    let (mse, _) = fit(config, &train, &test, 100, 32);
    assert!(mse < 0.03, "regression test MSE {mse}");
}

#[test]
fn layer_norm_and_dropout_network_learns_the_spiral() {
    let (train, test) = datasets::spiral(900, 0.1, 16).split(0.8, 17).unwrap();
    let layers = vec![
        LayerSpec::dense("dense1", 64),
        LayerSpec::new("norm1", LayerKind::LayerNorm { eps: 1e-5 }),
        LayerSpec::new("leaky1", LayerKind::LeakyRelu { slope: 0.01 }),
        LayerSpec::new("drop1", LayerKind::Dropout { p: 0.05 }),
        LayerSpec::dense("dense2", 64),
        LayerSpec::relu("relu2"),
        LayerSpec::dense("dense3", 3),
    ];
    let config = ModelConfig::new(2, layers).with_lr(0.01).with_seed(18);
    let (_, accuracy) = fit(config, &train, &test, 120, 32);
    assert!(
        accuracy >= 0.95,
        "spiral (layer norm, dropout) test accuracy {accuracy}"
    );
}

#[test]
fn digits_mlp_reaches_95_percent_in_20_epochs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-graphs/data/digits.csv"
    );
    let (train, test) = datasets::load_digits_csv(path)
        .unwrap()
        .split(0.8, 42)
        .unwrap();
    let config = ModelConfig::mlp(64, &[128, 64], 10)
        .with_lr(1e-3)
        .with_seed(7);
    let (_, accuracy) = fit(config, &train, &test, 20, 32);
    assert!(accuracy >= 0.95, "digits test accuracy {accuracy}");
}
