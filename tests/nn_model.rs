//! Model-level behaviour: bit-for-bit reproducibility, data-parallel gradient merging, live
//! learning-rate changes, per-layer statistics, config round trips and clear errors for bad
//! shapes and labels.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::datasets;
use flowbook::nn::{
    EpochTrainer, LayerKind, LayerSpec, LossKind, LrSchedule, Model, ModelConfig, NnError,
    OptimizerConfig, Targets, average_gradients,
};
use ndarray::{Array2, s};

fn digits_batch(rows: usize) -> (Array2<f32>, Vec<usize>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-graphs/data/digits.csv"
    );
    let data = datasets::load_digits_csv(path).unwrap();
    let x = data.x.slice(s![..rows, ..]).to_owned();
    let labels = data.class_labels().unwrap()[..rows].to_vec();
    (x, labels)
}

fn digits_config() -> ModelConfig {
    ModelConfig::mlp(64, &[128, 64], 10).with_seed(5)
}

fn loss_curve(config: ModelConfig) -> Vec<u32> {
    let data = datasets::moons(300, 0.2, 1);
    let mut model = Model::new(config).unwrap();
    let mut trainer = EpochTrainer::new(16, 2).unwrap();
    let mut curve = Vec::new();
    for _ in 0..5 {
        curve.push(
            trainer
                .train_epoch(&mut model, data.x.view(), &data.y)
                .unwrap()
                .mean_loss
                .to_bits(),
        );
    }
    curve
}

#[test]
fn same_seed_gives_the_same_loss_curve_bit_for_bit() {
    let layers = vec![
        LayerSpec::dense("dense1", 32),
        LayerSpec::relu("relu1"),
        LayerSpec::new("drop1", LayerKind::Dropout { p: 0.2 }),
        LayerSpec::dense("dense2", 2),
    ];
    let config = ModelConfig::new(2, layers).with_lr(0.01).with_seed(77);
    let first = loss_curve(config.clone());
    assert_eq!(first, loss_curve(config.clone()));
    assert_ne!(
        first,
        loss_curve(config.with_seed(78)),
        "another seed must give another curve"
    );
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Two replicas on shards of `split` and `rows − split` rows, merged weighted by size, must
/// give the whole-batch gradient.
fn check_data_parallel(rows: usize, split: usize) {
    let (x, labels) = digits_batch(rows);
    let mut whole = Model::new(digits_config()).unwrap();
    let mut replicas = vec![whole.clone(), whole.clone()];
    whole
        .compute_gradients(x.view(), Targets::Classes(&labels))
        .unwrap();
    let mut expected = Vec::new();
    whole.gradients_flat(&mut expected);

    let shards = [(0, split), (split, rows)];
    for (replica, &(start, end)) in replicas.iter_mut().zip(&shards) {
        let shard = x.slice(s![start..end, ..]);
        replica
            .compute_gradients(shard, Targets::Classes(&labels[start..end]))
            .unwrap();
    }
    // The executor's merge: every replica's flat gradients weighted by its share of rows.
    let flats: Vec<Vec<f32>> = replicas
        .iter()
        .map(|r| {
            let mut flat = Vec::new();
            r.gradients_flat(&mut flat);
            flat
        })
        .collect();
    let mut weighted = replicas[0].clone();
    let share = |n: usize| n as f32 / rows as f32;
    weighted
        .set_gradients_weighted(&[(&flats[0], share(split)), (&flats[1], share(rows - split))])
        .unwrap();
    let mut merged = Vec::new();
    weighted.gradients_flat(&mut merged);
    let diff = max_abs_diff(&merged, &expected);
    assert!(
        diff < 1e-5,
        "weighted merge, rows {rows} split {split}: {diff}"
    );
    // Three parts (the general path) and a wrong length.
    let third = [
        (&flats[0][..], 0.5),
        (&flats[1][..], 0.25),
        (&flats[1][..], 0.25),
    ];
    weighted.set_gradients_weighted(&third).unwrap();
    weighted.gradients_flat(&mut merged);
    for ((m, a), b) in merged.iter().zip(&flats[0]).zip(&flats[1]) {
        assert!((m - (0.5 * a + 0.5 * b)).abs() < 1e-6);
    }
    assert!(
        weighted
            .set_gradients_weighted(&[(&flats[0][1..], 1.0)])
            .is_err()
    );
    average_gradients(&mut replicas, &[split, rows - split]).unwrap();
    for replica in &replicas {
        let mut merged = Vec::new();
        replica.gradients_flat(&mut merged);
        let diff = max_abs_diff(&merged, &expected);
        assert!(
            diff < 1e-5,
            "rows {rows} split {split}: max difference {diff}"
        );
    }
    // One step on each side keeps the weights together.
    whole.apply_gradients().unwrap();
    let [leader, _] = &mut replicas[..] else {
        unreachable!()
    };
    leader.apply_gradients().unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    whole.parameters_flat(&mut a);
    leader.parameters_flat(&mut b);
    assert!(max_abs_diff(&a, &b) < 1e-5);
}

#[test]
fn data_parallel_gradient_merge_equals_the_whole_batch_gradient() {
    check_data_parallel(32, 16);
    check_data_parallel(32, 20);
    // Shards of 2 rows take the slice kernels, the whole batch of 4 the matrix multiply.
    check_data_parallel(4, 2);
    // A 1-row shard (slice kernels) against a 31-row shard (matrix multiply).
    check_data_parallel(32, 1);
}

#[test]
fn flat_gradients_can_be_shipped_and_merged_by_hand() {
    let (x, labels) = digits_batch(8);
    let mut a = Model::new(digits_config()).unwrap();
    let mut b = a.clone();
    let mut whole = a.clone();
    a.compute_gradients(x.slice(s![..4, ..]), Targets::Classes(&labels[..4]))
        .unwrap();
    b.compute_gradients(x.slice(s![4.., ..]), Targets::Classes(&labels[4..]))
        .unwrap();
    let mut from_b = Vec::new();
    b.gradients_flat(&mut from_b);
    a.scale_gradients(0.5);
    a.add_scaled_gradients_flat(&from_b, 0.5).unwrap();
    whole
        .compute_gradients(x.view(), Targets::Classes(&labels))
        .unwrap();
    let (mut merged, mut expected) = (Vec::new(), Vec::new());
    a.gradients_flat(&mut merged);
    whole.gradients_flat(&mut expected);
    assert!(max_abs_diff(&merged, &expected) < 1e-5);
    assert!(matches!(
        a.set_gradients_flat(&from_b[1..]),
        Err(NnError::ReplicaMismatch(_))
    ));
}

#[test]
fn shape_mismatch_between_layers_names_both_layers() {
    let layers = vec![
        LayerSpec::dense("dense1", 64),
        LayerSpec::relu("relu1"),
        LayerSpec::new(
            "dense2",
            LayerKind::Dense {
                units: 10,
                inputs: Some(128),
                init: Default::default(),
            },
        ),
    ];
    let err = Model::new(ModelConfig::new(8, layers)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dense2 expects 128 inputs, but relu1 produces 64"
    );
}

#[test]
fn batch_of_the_wrong_width_names_the_first_layer() {
    let mut model = Model::new(digits_config()).unwrap();
    let x = Array2::zeros((4, 32));
    let err = model
        .train_step(x.view(), Targets::Classes(&[0, 1, 2, 3]))
        .unwrap_err();
    assert_eq!(err.to_string(), "dense1 expects 64 inputs, got 32");
}

#[test]
fn label_outside_the_class_count_is_an_error_and_changes_nothing() {
    let (x, mut labels) = digits_batch(6);
    labels[4] = 10;
    let mut model = Model::new(digits_config()).unwrap();
    let mut before = Vec::new();
    model.parameters_flat(&mut before);
    let err = model
        .train_step(x.view(), Targets::Classes(&labels))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label 10 in row 4 is outside the 10 classes (0..10)"
    );
    let mut after = Vec::new();
    model.parameters_flat(&mut after);
    assert_eq!(before, after);
    assert_eq!(model.apply_gradients(), Err(NnError::StaleGradients));
}

#[test]
fn invalid_architectures_are_rejected_with_reasons() {
    let dup = vec![LayerSpec::dense("a", 4), LayerSpec::dense("a", 2)];
    assert_eq!(
        Model::new(ModelConfig::new(3, dup))
            .unwrap_err()
            .to_string(),
        "layer name `a` is used twice"
    );
    let single = ModelConfig::mlp(3, &[4], 1);
    assert!(
        Model::new(single.clone())
            .unwrap_err()
            .to_string()
            .contains("cross-entropy needs at least 2 outputs")
    );
    assert!(Model::new(single.with_loss(LossKind::Mse)).is_ok());
    assert_eq!(
        Model::new(ModelConfig::new(3, vec![])).unwrap_err(),
        NnError::EmptyModel
    );
    let bad_dropout = vec![
        LayerSpec::new("drop", LayerKind::Dropout { p: 1.0 }),
        LayerSpec::dense("d", 2),
    ];
    assert!(
        Model::new(ModelConfig::new(3, bad_dropout))
            .unwrap_err()
            .to_string()
            .starts_with("drop: ")
    );
}

#[test]
fn generated_names_follow_kind_and_position() {
    let layers = vec![
        LayerSpec::new(
            "",
            LayerKind::Dense {
                units: 4,
                inputs: None,
                init: Default::default(),
            },
        ),
        LayerSpec::new("", LayerKind::Relu),
        LayerSpec::dense("", 2),
    ];
    let model = Model::new(ModelConfig::new(3, layers)).unwrap();
    let names: Vec<&str> = model.layers().iter().map(|l| l.name()).collect();
    assert_eq!(names, ["dense1", "relu2", "dense3"]);
}

#[test]
fn learning_rate_can_change_between_steps() {
    let (x, labels) = digits_batch(4);
    let config = digits_config()
        .with_optimizer(OptimizerConfig::sgd())
        .with_lr(0.1);
    let mut model = Model::new(config).unwrap();
    assert_eq!(model.lr(), 0.1);
    model.set_lr(0.0).unwrap();
    let mut before = Vec::new();
    model.parameters_flat(&mut before);
    let stats = model
        .train_step(x.view(), Targets::Classes(&labels))
        .unwrap();
    assert_eq!(stats.lr, 0.0);
    let mut after = Vec::new();
    model.parameters_flat(&mut after);
    assert_eq!(before, after, "lr 0 must not move the weights");

    // With plain SGD the step is exactly lr · gradient.
    model.set_lr(0.5).unwrap();
    model
        .compute_gradients(x.view(), Targets::Classes(&labels))
        .unwrap();
    let mut grads = Vec::new();
    model.gradients_flat(&mut grads);
    model.apply_gradients().unwrap();
    model.parameters_flat(&mut after);
    for ((b, a), g) in before.iter().zip(&after).zip(&grads) {
        assert!((b - 0.5 * g - a).abs() < 1e-6);
    }
    assert!(model.set_lr(f32::NAN).is_err());
}

#[test]
fn schedule_scales_the_live_base_rate() {
    let config = digits_config().with_schedule(LrSchedule::constant(0.1).with_warmup(4));
    let mut model = Model::new(config).unwrap();
    assert!((model.lr() - 0.025).abs() < 1e-9);
    model.set_lr(0.2).unwrap();
    assert!((model.lr() - 0.05).abs() < 1e-9);
    assert_eq!(model.base_lr(), 0.2);
}

#[test]
fn grad_norm_is_reported_before_clipping() {
    let (x, labels) = digits_batch(8);
    let mut unclipped = Model::new(digits_config()).unwrap();
    let mut clipped = Model::new(digits_config().with_clip_grad_norm(Some(1e-3))).unwrap();
    let a = unclipped
        .train_step(x.view(), Targets::Classes(&labels))
        .unwrap();
    let b = clipped
        .train_step(x.view(), Targets::Classes(&labels))
        .unwrap();
    assert_eq!(a.grad_norm, b.grad_norm);
    assert!(a.grad_norm > 1e-3);
    // After clipping the stored gradients have the maximum norm.
    let mut grads = Vec::new();
    clipped.gradients_flat(&mut grads);
    let norm = grads.iter().map(|g| g * g).sum::<f32>().sqrt();
    assert!((norm - 1e-3).abs() < 1e-6, "clipped norm {norm}");
}

#[test]
fn layer_stats_describe_every_layer_after_a_step() {
    let (x, labels) = digits_batch(16);
    let mut model = Model::new(digits_config()).unwrap();
    model
        .train_step(x.view(), Targets::Classes(&labels))
        .unwrap();
    let stats = model.layer_stats();
    let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["dense1", "relu1", "dense2", "relu2", "dense3"]);
    for s in &stats {
        assert!(
            s.activation_rms > 0.0 && s.activation_rms.is_finite(),
            "{s:?}"
        );
        assert!(
            s.output_grad_rms > 0.0 && s.output_grad_rms.is_finite(),
            "{s:?}"
        );
        assert_eq!(
            s.param_grad_norm.is_some(),
            s.name.starts_with("dense"),
            "{s:?}"
        );
    }
}

#[test]
fn evaluation_and_prediction_leave_the_weights_alone_and_ignore_dropout() {
    let layers = vec![
        LayerSpec::dense("dense1", 16),
        LayerSpec::new("drop1", LayerKind::Dropout { p: 0.5 }),
        LayerSpec::dense("dense2", 3),
    ];
    let mut model = Model::new(ModelConfig::new(2, layers)).unwrap();
    let x = datasets::spiral(30, 0.1, 1).x;
    let first = model.predict(x.view()).unwrap();
    assert_eq!(first, model.predict(x.view()).unwrap());
    let labels = vec![0; 30];
    let a = model.evaluate(x.view(), Targets::Classes(&labels)).unwrap();
    let b = model.evaluate(x.view(), Targets::Classes(&labels)).unwrap();
    assert_eq!(a, b);
    assert_eq!(first, model.predict(x.view()).unwrap());
}

#[test]
fn config_round_trips_through_ron() {
    let config = ModelConfig::new(
        4,
        vec![
            LayerSpec::dense("dense1", 8),
            LayerSpec::new("leaky", LayerKind::LeakyRelu { slope: 0.01 }),
            LayerSpec::new("norm", LayerKind::LayerNorm { eps: 1e-5 }),
            LayerSpec::dense("out", 3),
        ],
    )
    .with_optimizer(OptimizerConfig::adamw(0.01))
    .with_schedule(LrSchedule::cosine(0.01, 1000, 1e-5).with_warmup(50))
    .with_clip_grad_norm(Some(5.0))
    .with_seed(9);
    let text = ron::to_string(&config).unwrap();
    let back: ModelConfig = ron::from_str(&text).unwrap();
    assert_eq!(back, config);
    // Omitted fields take their defaults.
    let minimal: ModelConfig =
        ron::from_str("(input_width: 2, layers: [(name: \"d\", kind: Dense(units: 3))])").unwrap();
    assert_eq!(minimal.optimizer, OptimizerConfig::adam());
    assert!(Model::new(minimal).is_ok());
}

#[test]
fn one_hot_targets_train_like_class_labels() {
    let (x, labels) = digits_batch(8);
    let one_hot = flowbook::nn::Labels::one_hot(&labels, 10).unwrap();
    let mut a = Model::new(digits_config()).unwrap();
    let mut b = a.clone();
    let sa = a.train_step(x.view(), Targets::Classes(&labels)).unwrap();
    let sb = b.train_step(x.view(), one_hot.as_targets()).unwrap();
    assert!((sa.loss - sb.loss).abs() < 1e-6);
    assert_eq!(sa.correct, sb.correct);
}

#[test]
fn models_can_move_to_and_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Model>();
    assert_send_sync::<NnError>();
}

#[test]
fn only_flat_numeric_inputs_count_as_numeric_features() {
    use flowbook::nn::{LayerInput, Shape};
    let mlp = Model::new(ModelConfig::mlp(2, &[4], 2)).unwrap();
    assert!(mlp.reads_numeric_features(), "two numbers: a plane");
    // A user id and an item id are two inputs too, but categories, not a plane.
    let column = |c: usize| vec![LayerInput::Input { columns: vec![c] }];
    let towers = ModelConfig::new(
        2,
        vec![
            LayerSpec::new("users", LayerKind::Embedding { vocab: 6, dim: 4 })
                .with_inputs(column(0)),
            LayerSpec::new("items", LayerKind::Embedding { vocab: 5, dim: 4 })
                .with_inputs(column(1)),
            LayerSpec::new("score", LayerKind::Dot).with_inputs(vec![
                LayerInput::Layer("users".into()),
                LayerInput::Layer("items".into()),
            ]),
        ],
    )
    .with_loss(LossKind::BinaryCrossEntropy);
    assert!(!Model::new(towers).unwrap().reads_numeric_features());
    // Two steps of one reading: a sequence, not two features.
    let sequence = ModelConfig::new(
        2,
        vec![
            LayerSpec::new(
                "gru",
                LayerKind::Gru {
                    hidden: 3,
                    return_sequence: false,
                },
            ),
            LayerSpec::dense("out", 1),
        ],
    )
    .with_input_shape(Shape::Sequence {
        steps: 2,
        features: 1,
    })
    .with_loss(LossKind::BinaryCrossEntropy);
    assert!(!Model::new(sequence).unwrap().reads_numeric_features());
}
