//! Training-throughput benchmarks of the digits MLP (64-128-64-10, ReLU, cross-entropy) and of
//! the digits CNN (conv 16@3×3, pool, conv 32@3×3, pool, dense 64, dense 10) on the 80/20 split
//! of example-graphs/data/digits.csv. Ignored in normal runs; measure in release with
//! `cargo test --release --test nn_bench -- --ignored --nocapture`.
//! Times the training loop only (shuffle, batch copy, forward, backward, step).
//! `NN_BENCH_CASE="batch 1, adam"` runs the cases whose name contains it. The PyTorch reference
//! of the CNN is `scripts/bench-pytorch-cnn.py` (same network, data and loop, one thread).

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use flowbook::datasets::{self, Dataset};
use flowbook::nn::{EpochTrainer, Init, LayerKind, LayerSpec, Model, ModelConfig, OptimizerConfig};

const RUNS: usize = 7;

fn digits_train() -> Dataset {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-graphs/data/digits.csv"
    );
    let (train, _test) = datasets::load_digits_csv(path)
        .unwrap()
        .split(0.8, 42)
        .unwrap();
    train
}

/// Median samples/s over `RUNS` runs of `epochs` epochs, each on a fresh MLP.
fn samples_per_s(
    train: &Dataset,
    optimizer: OptimizerConfig,
    lr: f32,
    batch_size: usize,
    epochs: usize,
) -> f64 {
    let config = ModelConfig::mlp(64, &[128, 64], 10)
        .with_optimizer(optimizer)
        .with_lr(lr)
        .with_seed(1);
    median_rate(train, &config, batch_size, epochs)
}

/// Median samples/s over `RUNS` runs of `epochs` epochs, each on a fresh model of `config`.
fn median_rate(train: &Dataset, config: &ModelConfig, batch_size: usize, epochs: usize) -> f64 {
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|run| {
            let mut model = Model::new(config.clone()).unwrap();
            let mut trainer = EpochTrainer::new(batch_size, run as u64).unwrap();
            let start = Instant::now();
            let mut samples = 0;
            for _ in 0..epochs {
                samples += trainer
                    .train_epoch(&mut model, train.x.view(), &train.y)
                    .unwrap()
                    .samples;
            }
            samples as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn digits_mlp_training_throughput() {
    let train = digits_train();
    let cases = [
        (
            "batch 32, Adam",
            OptimizerConfig::adam(),
            1e-3,
            32,
            40,
            190_000.0,
        ),
        (
            "batch 1, Adam",
            OptimizerConfig::adam(),
            1e-3,
            1,
            8,
            39_000.0,
        ),
        ("batch 1, SGD", OptimizerConfig::sgd(), 1e-2, 1, 8, 73_000.0),
    ];
    println!(
        "digits MLP 64-128-64-10, {} training rows, median of {RUNS} runs",
        train.len()
    );
    // NN_BENCH_CASE=adam (for example) runs only the cases whose name contains it.
    let only = std::env::var("NN_BENCH_CASE")
        .unwrap_or_default()
        .to_lowercase();
    for (name, optimizer, lr, batch_size, epochs, target) in cases {
        if !name.to_lowercase().contains(&only) {
            continue;
        }
        let rate = samples_per_s(&train, optimizer, lr, batch_size, epochs);
        let verdict = if rate >= target { "meets" } else { "MISSES" };
        println!("{name:>15}: {rate:>10.0} samples/s ({verdict} target {target:.0})");
    }
}

/// The CNN of `example-graphs/digits-cnn.ron` (13,706 parameters).
fn digits_cnn() -> ModelConfig {
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
    ModelConfig::new(64, layers).with_lr(2e-3).with_seed(1)
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn digits_cnn_training_throughput() {
    let train = digits_train();
    let only = std::env::var("NN_BENCH_CASE")
        .unwrap_or_default()
        .to_lowercase();
    println!(
        "digits CNN (conv16-pool-conv32-pool-64-10), {} training rows, median of {RUNS} runs",
        train.len()
    );
    for (name, batch_size, epochs) in [("cnn batch 32, Adam", 32, 10), ("cnn batch 1, Adam", 1, 1)]
    {
        if !name.to_lowercase().contains(&only) {
            continue;
        }
        let rate = median_rate(&train, &digits_cnn(), batch_size, epochs);
        println!("{name:>18}: {rate:>10.0} samples/s");
    }
}
