//! Gradient checks of the layers for images, sequences and recommenders — Conv2d, MaxPool2d,
//! Flatten, Conv1d, Embedding (sparse), GRU (with and without masking, last state or every
//! state), Dot, Concat — against five-point central finite differences, and of whole models
//! wired as DAGs (a CNN, two towers, a fan-out, a masked sequence model). The checker and its
//! tolerance (relative error < 1e-2 in f32) live in `common/gradcheck.rs`; each check prints
//! its worst relative error (`cargo test --test nn_gradcheck_deep -- --nocapture`).

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/gradcheck.rs"]
mod gradcheck;

use flowbook::nn::{
    Combine, CombineLayer, Conv1dGeometry, Conv1dLayer, Conv2dGeometry, Conv2dLayer,
    EmbeddingLayer, FlattenLayer, GruLayer, Init, Layer, LayerInput, LayerKind, LayerSpec,
    LossKind, MaxPool2dLayer, ModelConfig, OptimizerConfig, PoolGeometry, Shape, Targets,
};
use gradcheck::{check_layer, check_layer_with, check_model, distinct_matrix, random_matrix};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(17)
}

fn image(channels: usize, height: usize, width: usize) -> Shape {
    Shape::Image {
        channels,
        height,
        width,
    }
}

fn sequence(steps: usize, features: usize) -> Shape {
    Shape::Sequence { steps, features }
}

/// Gives every parameter a non-trivial value (biases start at zero otherwise).
fn randomise(mut layer: Layer, seed: u64) -> Layer {
    let count = layer.param_count();
    let values = random_matrix(1, count, seed, 0.0) * 0.5;
    let mut values = values.iter();
    for param in layer.params_mut() {
        for v in param.value.iter_mut() {
            *v = *values.next().unwrap();
        }
    }
    layer
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    // Two channels, padding and stride 1; then a strided, unpadded, non-square case.
    let g = Conv2dGeometry::new("conv", image(2, 5, 5), 3, 3, 1, 1).unwrap();
    let conv = Conv2dLayer::new("conv", g, Init::HeUniform, &mut rng()).unwrap();
    check_layer(
        "conv2d 2×5×5 k3 p1",
        randomise(Layer::Conv2d(conv), 1),
        random_matrix(3, 50, 2, 0.0),
    );
    let g = Conv2dGeometry::new("conv", image(1, 6, 5), 2, 2, 2, 0).unwrap();
    let conv = Conv2dLayer::new("conv", g, Init::XavierUniform, &mut rng()).unwrap();
    check_layer(
        "conv2d 1×6×5 k2 s2",
        randomise(Layer::Conv2d(conv), 3),
        random_matrix(2, 30, 4, 0.0),
    );
}

#[test]
fn max_pool_and_flatten_gradients_match_finite_differences() {
    let g = PoolGeometry::new("pool", image(2, 4, 4), 2, 0).unwrap();
    let pool = Layer::MaxPool2d(MaxPool2dLayer::new("pool", g));
    check_layer("maxpool2d 2×4×4 k2", pool, distinct_matrix(3, 32, 5));
    let g = PoolGeometry::new("pool", image(1, 5, 5), 3, 2).unwrap();
    let overlapping = Layer::MaxPool2d(MaxPool2dLayer::new("pool", g));
    check_layer(
        "maxpool2d 1×5×5 k3 s2",
        overlapping,
        distinct_matrix(2, 25, 6),
    );
    let flatten = Layer::Flatten(FlattenLayer::new("flat", 12));
    check_layer("flatten", flatten, random_matrix(3, 12, 7, 0.0));
}

#[test]
fn conv1d_gradients_match_finite_differences() {
    let g = Conv1dGeometry::new("conv", sequence(7, 3), 4, 3, 1, 1).unwrap();
    let conv = Conv1dLayer::new("conv", g, Init::HeUniform, &mut rng()).unwrap();
    check_layer(
        "conv1d 7×3 k3 p1",
        randomise(Layer::Conv1d(conv), 8),
        random_matrix(3, 21, 9, 0.0),
    );
    let g = Conv1dGeometry::new("conv", Shape::Flat(9), 2, 4, 2, 0).unwrap();
    let conv = Conv1dLayer::new("conv", g, Init::HeUniform, &mut rng()).unwrap();
    check_layer(
        "conv1d 9×1 k4 s2",
        randomise(Layer::Conv1d(conv), 10),
        random_matrix(2, 9, 11, 0.0),
    );
}

#[test]
fn embedding_gradients_match_finite_differences_and_touch_only_rows_seen() {
    let emb = EmbeddingLayer::new("emb", 3, 10, 4, &mut rng()).unwrap();
    // Ids 1, 3, 3 (a repeat), 7, 0, 7 in two rows: rows 2, 4, 5, 6, 8, 9 must get no gradient.
    let ids = ndarray::array![[1.0, 3.0, 3.0], [7.0, 0.0, 7.0]];
    check_layer_with(
        "embedding 10×4",
        Layer::Embedding(emb.clone()),
        std::slice::from_ref(&ids),
        None,
        false,
    );
    let mut layer = Layer::Embedding(emb);
    layer.forward(ids.view(), true).unwrap();
    layer
        .backward(random_matrix(2, 12, 12, 0.0).view())
        .unwrap();
    let Layer::Embedding(emb) = &layer else {
        unreachable!()
    };
    assert_eq!(emb.touched_rows(), &[0, 1, 3, 7]);
    let grads = layer.params().next().unwrap().grad.to_vec();
    for row in [2, 4, 5, 6, 8, 9] {
        assert!(
            grads[row * 4..row * 4 + 4].iter().all(|&g| g == 0.0),
            "row {row}"
        );
    }
}

fn gru(input: Shape, hidden: usize, return_sequence: bool) -> Layer {
    Layer::Gru(Box::new(
        GruLayer::new("gru", input, hidden, return_sequence, &mut rng()).unwrap(),
    ))
}

#[test]
fn gru_gradients_match_finite_differences_through_time() {
    let x = random_matrix(3, 5 * 2, 13, 0.0);
    check_layer(
        "gru 5×2 → 4 (last state)",
        gru(sequence(5, 2), 4, false),
        x.clone(),
    );
    check_layer("gru 5×2 → 4 (every state)", gru(sequence(5, 2), 4, true), x);
}

#[test]
fn masked_gru_gradients_match_and_padding_gets_none() {
    // Row 0 is whole, row 1 has 2 real steps of 5, row 2 none at all.
    let lengths = [5, 2, 0];
    let x = random_matrix(3, 5 * 2, 14, 0.0);
    let layer = gru(sequence(5, 2), 3, false);
    check_layer_with(
        "gru masked (5, 2, 0 steps)",
        layer.clone(),
        std::slice::from_ref(&x),
        Some(&lengths),
        true,
    );
    let mut analytic = layer;
    gradcheck::run_forward(&mut analytic, &[x], Some(&lengths));
    analytic
        .backward(random_matrix(3, 3, 15, 0.0).view())
        .unwrap();
    let dx = analytic.input_grads();
    assert!(
        dx.row(1).iter().take(3 * 2).all(|&g| g == 0.0),
        "padded steps of row 1"
    );
    assert!(dx.row(2).iter().all(|&g| g == 0.0), "row 2 is all padding");
    assert!(dx.row(1).iter().skip(3 * 2).any(|&g| g != 0.0));
}

#[test]
fn dot_and_concat_gradients_match_finite_differences_for_both_inputs() {
    let a = random_matrix(4, 5, 16, 0.0);
    let b = random_matrix(4, 5, 17, 0.0);
    let dot = Layer::Combine(CombineLayer::new("dot", Combine::Dot, (5, 5)));
    check_layer_with("dot", dot, &[a.clone(), b], None, true);
    let c = random_matrix(4, 2, 18, 0.0);
    let concat = Layer::Combine(CombineLayer::new("concat", Combine::Concat, (5, 2)));
    check_layer_with("concat", concat, &[a, c], None, true);
}

fn conv(filters: usize) -> LayerKind {
    LayerKind::Conv2d {
        filters,
        kernel: 3,
        stride: 1,
        padding: 1,
        init: Init::HeUniform,
    }
}

#[test]
fn a_whole_cnn_matches_finite_differences() {
    // tanh instead of ReLU keeps the check away from kinks; pooling winners are stable for
    // these inputs and weights (seeded).
    let layers = vec![
        LayerSpec::new("conv1", conv(3)),
        LayerSpec::tanh("tanh1"),
        LayerSpec::new(
            "pool1",
            LayerKind::MaxPool2d {
                kernel: 2,
                stride: 0,
            },
        ),
        LayerSpec::new("conv2", conv(4)),
        LayerSpec::tanh("tanh2"),
        LayerSpec::new("flat", LayerKind::Flatten),
        LayerSpec::dense("out", 3),
    ];
    let config = ModelConfig::new(36, layers)
        .with_optimizer(OptimizerConfig::sgd())
        .with_seed(5);
    check_model(
        "cnn 6×6 → 3 classes",
        config,
        distinct_matrix(4, 36, 19),
        None,
        Targets::Classes(&[0, 2, 1, 2]),
    );
}

#[test]
fn two_towers_and_a_fan_out_match_finite_differences() {
    let column = |c: usize| vec![LayerInput::Input { columns: vec![c] }];
    let layer = |name: &str| LayerInput::Layer(name.to_string());
    let layers = vec![
        LayerSpec::new("users", LayerKind::Embedding { vocab: 6, dim: 4 }).with_inputs(column(0)),
        LayerSpec::new("items", LayerKind::Embedding { vocab: 5, dim: 4 }).with_inputs(column(1)),
        LayerSpec::dense("item_dense", 4).with_inputs(vec![layer("items")]),
        LayerSpec::new("score", LayerKind::Dot)
            .with_inputs(vec![layer("users"), layer("item_dense")]),
        // `users` feeds both `score` and `both`: its gradient is the sum of the two.
        LayerSpec::new("both", LayerKind::Concat).with_inputs(vec![layer("score"), layer("users")]),
        LayerSpec::dense("out", 1),
    ];
    let config = ModelConfig::new(2, layers)
        .with_loss(LossKind::BinaryCrossEntropy)
        .with_optimizer(OptimizerConfig::sgd())
        .with_seed(6);
    let x = ndarray::array![[0.0, 1.0], [3.0, 4.0], [5.0, 1.0], [3.0, 2.0]];
    check_model(
        "two towers + fan-out",
        config,
        x,
        None,
        Targets::Classes(&[1, 0, 1, 1]),
    );
}

#[test]
fn a_masked_sequence_model_matches_finite_differences() {
    let layers = vec![
        LayerSpec::new(
            "conv",
            LayerKind::Conv1d {
                filters: 3,
                kernel: 3,
                stride: 1,
                padding: 1,
                init: Init::HeUniform,
            },
        ),
        LayerSpec::tanh("tanh"),
        LayerSpec::new(
            "gru",
            LayerKind::Gru {
                hidden: 4,
                return_sequence: false,
            },
        ),
        LayerSpec::dense("out", 1),
    ];
    let config = ModelConfig::new(12, layers)
        .with_input_shape(sequence(6, 2))
        .with_loss(LossKind::Mse)
        .with_optimizer(OptimizerConfig::sgd())
        .with_seed(7);
    let x = random_matrix(3, 12, 20, 0.0);
    let t: Array2<f32> = random_matrix(3, 1, 21, 0.0);
    check_model(
        "conv1d → gru, masked",
        config,
        x,
        Some(&[6, 3, 1]),
        Targets::Values(t.view()),
    );
}
