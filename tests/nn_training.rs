//! Training that really learns: small networks on the seeded data sets must reach the stated
//! held-out accuracy (or MSE), each with a different optimizer/schedule so that every update
//! rule is exercised end to end. Each test runs in about a second in the dev profile.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::datasets::{self, Dataset};
use flowbook::nn::{
    EpochTrainer, Init, LayerKind, LayerSpec, LossKind, LrSchedule, Model, ModelConfig,
    OptimizerConfig,
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

/// The digits CNN of `example-graphs/digits-cnn.ron`: two 3×3 convolutions with 2×2 max
/// pooling, then a 64-unit dense layer.
fn digits_cnn(seed: u64) -> ModelConfig {
    let conv = |filters| LayerKind::Conv2d {
        filters,
        kernel: 3,
        stride: 1,
        padding: 1,
        init: Init::HeUniform,
    };
    let pool = |name: &str| {
        LayerSpec::new(
            name,
            LayerKind::MaxPool2d {
                kernel: 2,
                stride: 0,
            },
        )
    };
    let layers = vec![
        LayerSpec::new("conv1", conv(16)),
        LayerSpec::relu("relu1"),
        pool("pool1"),
        LayerSpec::new("conv2", conv(32)),
        LayerSpec::relu("relu2"),
        pool("pool2"),
        LayerSpec::new("flatten", LayerKind::Flatten),
        LayerSpec::dense("dense1", 64),
        LayerSpec::relu("relu3"),
        LayerSpec::dense("dense2", 10),
    ];
    ModelConfig::new(64, layers).with_lr(2e-3).with_seed(seed)
}

/// Over three seeds, the CNN's mean held-out accuracy beats the MLP's (64-128-64-10, as in
/// `digits_mlp_reaches_95_percent_in_20_epochs`) by at least half a percentage point; both
/// train 20 epochs with Adam. Measured: CNN 98.4 %, MLP 97.4 % (mean of seeds 7, 8, 9).
#[test]
fn digits_cnn_beats_the_mlp_on_held_out_digits() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-graphs/data/digits.csv"
    );
    let (train, test) = datasets::load_digits_csv(path)
        .unwrap()
        .split(0.8, 42)
        .unwrap();
    let seeds = [7, 8, 9];
    let mean = |make: &dyn Fn(u64) -> ModelConfig| {
        let total: f32 = seeds
            .iter()
            .map(|&seed| fit(make(seed), &train, &test, 20, 32).1)
            .sum();
        total / seeds.len() as f32
    };
    let mlp = mean(&|seed| {
        ModelConfig::mlp(64, &[128, 64], 10)
            .with_lr(1e-3)
            .with_seed(seed)
    });
    let cnn = mean(&digits_cnn);
    eprintln!("digits held-out accuracy: CNN {cnn:.4}, MLP {mlp:.4}");
    assert!(cnn >= mlp + 0.005, "CNN {cnn} vs MLP {mlp}");
    assert!(cnn >= 0.975, "CNN accuracy {cnn}");
}

/// Users and items in 5 hidden taste groups; a user clicks items of its group. Two embedding
/// towers joined by a dot product, trained with binary cross-entropy on clicks and random
/// non-clicks, must rank the user's own group first: of each user's 8 best-scored items at
/// least 90 % (on average) belong to its group, against 20 % by chance.
#[test]
fn two_embedding_towers_learn_hidden_user_item_affinity() {
    use flowbook::nn::{LayerInput, Targets};
    use rand::{Rng, SeedableRng};
    let (users, items, groups) = (60usize, 40usize, 5usize);
    let column = |c: usize| vec![LayerInput::Input { columns: vec![c] }];
    let layers = vec![
        LayerSpec::new(
            "users",
            LayerKind::Embedding {
                vocab: users,
                dim: 8,
            },
        )
        .with_inputs(column(0)),
        LayerSpec::new(
            "items",
            LayerKind::Embedding {
                vocab: items,
                dim: 8,
            },
        )
        .with_inputs(column(1)),
        LayerSpec::new("score", LayerKind::Dot).with_inputs(vec![
            LayerInput::Layer("users".into()),
            LayerInput::Layer("items".into()),
        ]),
    ];
    let config = ModelConfig::new(2, layers)
        .with_loss(LossKind::BinaryCrossEntropy)
        .with_lr(0.05)
        .with_seed(21);
    let mut model = Model::new(config).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
    let (mut x, mut labels) = (ndarray::Array2::zeros((64, 2)), vec![0usize; 64]);
    for _ in 0..600 {
        for (row, label) in labels.iter_mut().enumerate() {
            let user = rng.random_range(0..users);
            let positive = row % 2 == 0;
            let item = if positive {
                // An item of the user's group: same residue modulo `groups`.
                (rng.random_range(0..items / groups) * groups + user % groups) % items
            } else {
                rng.random_range(0..items)
            };
            x[[row, 0]] = user as f32;
            x[[row, 1]] = item as f32;
            *label = usize::from(item % groups == user % groups);
        }
        model
            .train_step(x.view(), Targets::Classes(&labels))
            .unwrap();
    }
    let mut in_group = 0;
    for user in 0..users {
        let candidates =
            ndarray::Array2::from_shape_fn(
                (items, 2),
                |(i, c)| if c == 0 { user as f32 } else { i as f32 },
            );
        let scores = model.predict(candidates.view()).unwrap();
        let mut order: Vec<usize> = (0..items).collect();
        order.sort_by(|&a, &b| scores[[b, 0]].total_cmp(&scores[[a, 0]]));
        in_group += order[..8]
            .iter()
            .filter(|&&i| i % groups == user % groups)
            .count();
    }
    let share = in_group as f32 / (users * 8) as f32;
    eprintln!(
        "two towers: {:.1} % of the top 8 in the user's group",
        100.0 * share
    );
    assert!(share >= 0.9, "share in group {share}");
}

/// A GRU over 12 steps learns whether the last reading is a spike against the readings
/// before it — something the window's mean and spread cannot tell, since a spike anywhere
/// in the window moves them alike. Half the windows hold a spike, half of those at the end.
#[test]
fn gru_tells_where_in_the_window_a_spike_is() {
    use flowbook::nn::{Shape, Targets};
    use rand::{Rng, SeedableRng};
    let steps = 12;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let mut sample = |n: usize| {
        let mut x = ndarray::Array2::zeros((n, steps));
        let mut labels = vec![0usize; n];
        for (row, label) in labels.iter_mut().enumerate() {
            let level: f32 = rng.random_range(-1.0..1.0);
            for t in 0..steps {
                x[[row, t]] = level + rng.random_range(-0.3..0.3);
            }
            // Half the windows hold a spike: at the last step (label 1) or earlier (label 0).
            if rng.random_bool(0.5) {
                let last = rng.random_bool(0.5);
                let at = if last {
                    steps - 1
                } else {
                    rng.random_range(0..steps - 1)
                };
                x[[row, at]] += 3.0;
                *label = usize::from(last);
            }
        }
        (x, labels)
    };
    let (train_x, train_y) = sample(2000);
    let (test_x, test_y) = sample(500);
    let layers = vec![
        LayerSpec::new(
            "gru",
            LayerKind::Gru {
                hidden: 16,
                return_sequence: false,
            },
        ),
        LayerSpec::dense("out", 2),
    ];
    let config = ModelConfig::new(steps, layers)
        .with_input_shape(Shape::Sequence { steps, features: 1 })
        .with_lr(5e-3)
        .with_seed(32);
    let mut model = Model::new(config).unwrap();
    let y = flowbook::nn::Labels::Classes(train_y);
    let mut trainer = EpochTrainer::new(32, 33).unwrap();
    for _ in 0..15 {
        trainer.train_epoch(&mut model, train_x.view(), &y).unwrap();
    }
    let stats = model
        .evaluate(test_x.view(), Targets::Classes(&test_y))
        .unwrap();
    eprintln!("GRU spike position: test accuracy {:.4}", stats.accuracy());
    assert!(
        stats.accuracy() >= 0.95,
        "GRU accuracy {}",
        stats.accuracy()
    );
}
