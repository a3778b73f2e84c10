//! The learning operators wired by hand on generated streams, without the planner: a click
//! stream with a hidden taste model → Batch with sampled negatives → a prequential two-tower
//! trainer that ranks every click before learning it. Proves the recommender learns what the
//! popularity baseline cannot, with the same operators the example graph runs.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::learn::batch::{BatchOperator, NegativeSampling};
use flowbook::learn::ranking::RankingSpec;
use flowbook::learn::trainer::{TrainerConfig, TrainerOperator, TrainingMode, metric_fields};
use flowbook::learn::{FeatureSpec, LabelKind};
use flowbook::nn::{LayerInput, LayerKind, LayerSpec, LossKind, ModelConfig};
use flowbook::stream::sources::{ClickSource, GeneratorOptions};
use flowbook::stream::{Item, Operator, Outputs, Source, SourceStatus};

const USERS: u64 = 200;
const ITEMS: usize = 1000;
const GENRES: u64 = 50;
const AFFINITY: f64 = 0.9;

fn two_towers() -> ModelConfig {
    let column = |c: usize| vec![LayerInput::Input { columns: vec![c] }];
    let layers = vec![
        LayerSpec::new(
            "users",
            LayerKind::Embedding {
                vocab: USERS as usize,
                dim: 16,
            },
        )
        .with_inputs(column(0)),
        LayerSpec::new(
            "items",
            LayerKind::Embedding {
                vocab: ITEMS,
                dim: 16,
            },
        )
        .with_inputs(column(1)),
        LayerSpec::new("score", LayerKind::Dot).with_inputs(vec![
            LayerInput::Layer("users".into()),
            LayerInput::Layer("items".into()),
        ]),
    ];
    ModelConfig::new(2, layers)
        .with_loss(LossKind::BinaryCrossEntropy)
        .with_lr(0.01)
        .with_seed(3)
}

/// Click records with the fields page, dwell_ms, user, item and a `clicked` = 1 label.
fn clicks(count: u64) -> Vec<Item> {
    let options = GeneratorOptions {
        count: Some(count),
        start_ms: 0,
        seed: 1,
    };
    let mut source = ClickSource::new(options, USERS, 10, 2000, 60_000).with_items(
        ITEMS as u64,
        GENRES,
        AFFINITY,
    );
    let mut items = Vec::new();
    while source.fill(1000, &mut items).unwrap() == SourceStatus::More {}
    for item in &mut items {
        if let Item::Record(record) = item {
            record.values.push(1.0);
        }
    }
    items
}

#[test]
fn two_towers_trained_on_clicks_beat_popularity_at_hit_rate_10() {
    let features = FeatureSpec {
        features: vec![2, 3],
        scale: 1.0,
        label: Some(4),
        label_kind: LabelKind::Class { classes: 2 },
    };
    let negatives = NegativeSampling {
        column: 1,
        ids: ITEMS,
        per_record: 8,
        seed: 9,
    };
    let mut batch = BatchOperator::new(features.clone(), 64).with_negatives(negatives);
    let mut out = Outputs::new(1);
    batch.on_batch(0, clicks(40_000), &mut out).unwrap();
    batch.on_end(&mut out).unwrap();
    out.settle();
    let batches = std::mem::take(&mut out.ports[0]);

    let config = TrainerConfig {
        name: "trainer".into(),
        model: two_towers(),
        features,
        mode: TrainingMode::Prequential { window: 100 },
        eval_every: 1_000_000,
        publish_every: 1_000_000,
        seed: 3,
        expects_test: false,
        ranking: Some(RankingSpec {
            column: 1,
            candidates: ITEMS,
            k: 10,
        }),
    };
    let fields = metric_fields(&config);
    let mut trainer = TrainerOperator::new(config, 0, None).unwrap();
    let mut metrics = Outputs::new(2);
    for item in batches {
        trainer.on_item(0, item, &mut metrics).unwrap();
    }
    metrics.settle();
    let rows: Vec<Vec<f64>> = metrics.ports[0]
        .iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(r.values.to_vec()),
            _ => None,
        })
        .collect();
    let at = |name: &str| fields.iter().position(|f| f == name).unwrap();
    let last = rows.last().unwrap();
    let (model, popular) = (last[at("hit_rate")], last[at("popular_hit_rate")]);
    eprintln!(
        "{} steps; hit rate@10 over the last 100 batches: model {model:.3}, popularity {popular:.3}",
        rows.len()
    );
    assert!(popular > 0.05, "the baseline is not trivial: {popular}");
    assert!(
        model >= 2.0 * popular,
        "model {model} vs popularity {popular}"
    );
}
