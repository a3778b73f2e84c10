//! Ranking quality of a recommender measured test-then-train: before a batch is learned, each
//! click in it (a row labelled 1) is ranked against every candidate id of one input column —
//! the model scores them all — and counts as a hit when its id is among the k best. The
//! popularity baseline (the k ids clicked most so far) is scored on the same clicks.

use std::collections::VecDeque;

use ndarray::Array2;

use crate::nn::payload::MiniBatch;
use crate::nn::{Labels, LossKind, Model, NnError};

/// Which column holds the ranked ids, how many candidate ids there are, and the cut-off k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RankingSpec {
    /// Column of the model input holding the item id.
    pub column: usize,
    /// Candidate ids are 0..candidates.
    pub candidates: usize,
    /// A click is a hit when its id ranks among the best k.
    pub k: usize,
}

/// Hits of one batch's clicks, by the model and by popularity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchHits {
    pub clicks: usize,
    pub model: usize,
    pub popular: usize,
}

/// Running hit-rate@k of a model and of the popularity baseline.
#[derive(Clone, Debug)]
pub struct HitRateTracker {
    spec: RankingSpec,
    /// Clicks per id learned so far.
    popularity: Vec<u64>,
    /// The k most clicked ids so far (ties to the lower id).
    popular: Vec<usize>,
    /// Recent batches' hits, for a progressive rate over the last `window` batches.
    recent: VecDeque<BatchHits>,
    window: usize,
    candidates: Array2<f32>,
    totals: BatchHits,
}

impl HitRateTracker {
    /// Rates over the last `window` batches (at least 1).
    pub fn new(spec: RankingSpec, window: usize) -> Self {
        HitRateTracker {
            popularity: vec![0; spec.candidates],
            popular: Vec::with_capacity(spec.k),
            recent: VecDeque::new(),
            window: window.max(1),
            candidates: Array2::zeros((0, 0)),
            totals: BatchHits::default(),
            spec,
        }
    }

    pub fn spec(&self) -> RankingSpec {
        self.spec
    }

    /// Ranks every click of `batch` with `model` (which has not learned the batch yet) and
    /// with popularity, then counts the batch's clicks into the popularity.
    pub fn score_then_count(
        &mut self,
        model: &mut Model,
        batch: &MiniBatch,
    ) -> Result<BatchHits, NnError> {
        let clicks = click_rows(&batch.labels);
        let mut hits = BatchHits {
            clicks: clicks.len(),
            ..BatchHits::default()
        };
        for &row in &clicks {
            let id = self.id_of(batch, row)?;
            hits.model += usize::from(self.model_ranks_in_top_k(model, batch, row, id)?);
            hits.popular += usize::from(self.popular.contains(&id));
        }
        for &row in &clicks {
            let id = self.id_of(batch, row)?;
            if let Some(count) = self.popularity.get_mut(id) {
                *count += 1;
            }
        }
        self.refresh_popular();
        self.recent.push_back(hits);
        while self.recent.len() > self.window {
            self.recent.pop_front();
        }
        self.totals.clicks += hits.clicks;
        self.totals.model += hits.model;
        self.totals.popular += hits.popular;
        Ok(hits)
    }

    /// (model, popularity) hit rates over the last `window` batches; NaN before any click.
    pub fn recent_rates(&self) -> (f64, f64) {
        let sum = self
            .recent
            .iter()
            .fold(BatchHits::default(), |a, h| BatchHits {
                clicks: a.clicks + h.clicks,
                model: a.model + h.model,
                popular: a.popular + h.popular,
            });
        rates(sum)
    }

    /// (model, popularity) hit rates over every click so far.
    pub fn total_rates(&self) -> (f64, f64) {
        rates(self.totals)
    }

    fn id_of(&self, batch: &MiniBatch, row: usize) -> Result<usize, NnError> {
        let value = batch
            .x
            .get((row, self.spec.column))
            .copied()
            .unwrap_or(f32::NAN);
        let id = value as usize;
        if value >= 0.0 && value.fract() == 0.0 && id < self.spec.candidates {
            Ok(id)
        } else {
            Err(NnError::IdOutOfRange {
                layer: "ranking".into(),
                row,
                value,
                vocab: self.spec.candidates,
            })
        }
    }

    /// Scores the row with every candidate id in the ranked column; true when fewer than k
    /// candidates score strictly higher than the clicked id.
    fn model_ranks_in_top_k(
        &mut self,
        model: &mut Model,
        batch: &MiniBatch,
        row: usize,
        id: usize,
    ) -> Result<bool, NnError> {
        let n = self.spec.candidates;
        let width = batch.x.ncols();
        if self.candidates.dim() != (n, width) {
            self.candidates = Array2::zeros((n, width));
        }
        let features = batch.x.row(row);
        for (candidate, mut out) in self.candidates.rows_mut().into_iter().enumerate() {
            out.assign(&features);
            if let Some(v) = out.get_mut(self.spec.column) {
                *v = candidate as f32;
            }
        }
        let loss = model.loss_kind();
        let scores = model.predict(self.candidates.view())?;
        let score = |r: usize| -> f32 {
            let logits = scores.row(r);
            match (loss, logits.len()) {
                // Two-class cross-entropy: how much more likely a click than none.
                (LossKind::CrossEntropy, 2..) => {
                    logits.get(1).copied().unwrap_or(f32::NAN)
                        - logits.get(0).copied().unwrap_or(f32::NAN)
                }
                _ => logits.get(0).copied().unwrap_or(f32::NAN),
            }
        };
        let clicked = score(id);
        let better = (0..n).filter(|&c| score(c) > clicked).count();
        Ok(better < self.spec.k)
    }

    fn refresh_popular(&mut self) {
        let mut order: Vec<usize> = (0..self.popularity.len()).collect();
        order.sort_by(|&a, &b| {
            let (ca, cb) = (self.popularity.get(a), self.popularity.get(b));
            cb.cmp(&ca).then(a.cmp(&b))
        });
        self.popular.clear();
        self.popular.extend(order.into_iter().take(self.spec.k));
    }
}

fn rates(hits: BatchHits) -> (f64, f64) {
    if hits.clicks == 0 {
        return (f64::NAN, f64::NAN);
    }
    let clicks = hits.clicks as f64;
    (hits.model as f64 / clicks, hits.popular as f64 / clicks)
}

/// Rows labelled as clicks: class 1, or a value ≥ 0.5.
fn click_rows(labels: &Labels) -> Vec<usize> {
    match labels {
        Labels::Classes(classes) => (0..classes.len())
            .filter(|&r| classes.get(r) == Some(&1))
            .collect(),
        Labels::Values(values) | Labels::OneHot(values) => values
            .rows()
            .into_iter()
            .enumerate()
            .filter(|(_, row)| match labels {
                Labels::OneHot(_) => row.get(1).is_some_and(|&v| v >= 0.5),
                _ => row.get(0).is_some_and(|&v| v >= 0.5),
            })
            .map(|(r, _)| r)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{LayerInput, LayerKind, LayerSpec, ModelConfig};

    /// A two-tower model whose user 0 vector points at items 3 and 4 (set by hand below).
    fn model() -> Model {
        let column = |c: usize| vec![LayerInput::Input { columns: vec![c] }];
        let layers = vec![
            LayerSpec::new("users", LayerKind::Embedding { vocab: 2, dim: 2 })
                .with_inputs(column(0)),
            LayerSpec::new("items", LayerKind::Embedding { vocab: 6, dim: 2 })
                .with_inputs(column(1)),
            LayerSpec::new("score", LayerKind::Dot).with_inputs(vec![
                LayerInput::Layer("users".into()),
                LayerInput::Layer("items".into()),
            ]),
        ];
        let config = ModelConfig::new(2, layers).with_loss(LossKind::BinaryCrossEntropy);
        let mut model = Model::new(config).unwrap();
        // users: [1, 0] and [0, 1]; items: item i = [i, 5 − i] scaled, so user 0 prefers
        // high ids and user 1 low ids.
        let values: Vec<f32> = [1.0, 0.0, 0.0, 1.0]
            .into_iter()
            .chain((0..6).flat_map(|i| [i as f32, 5.0 - i as f32]))
            .collect();
        model.set_parameters_flat(&values).unwrap();
        model
    }

    fn batch(rows: &[(f32, f32, usize)]) -> MiniBatch {
        let x = Array2::from_shape_fn(
            (rows.len(), 2),
            |(r, c)| if c == 0 { rows[r].0 } else { rows[r].1 },
        );
        MiniBatch {
            x,
            labels: Labels::Classes(rows.iter().map(|r| r.2).collect()),
            first_ts: 0,
            last_ts: 0,
            seq: 0,
            total_rows: rows.len(),
            lengths: None,
        }
    }

    #[test]
    fn a_click_is_a_hit_when_the_model_ranks_its_item_in_the_top_k() {
        let spec = RankingSpec {
            column: 1,
            candidates: 6,
            k: 2,
        };
        let mut tracker = HitRateTracker::new(spec, 10);
        let mut model = model();
        // User 0 ranks items 5, 4 first: item 4 is a hit, item 1 is not; the non-click
        // (label 0) of item 0 is not ranked. Nothing was popular yet.
        let hits = tracker
            .score_then_count(
                &mut model,
                &batch(&[(0.0, 4.0, 1), (0.0, 1.0, 1), (0.0, 0.0, 0)]),
            )
            .unwrap();
        assert_eq!(
            hits,
            BatchHits {
                clicks: 2,
                model: 1,
                popular: 0
            }
        );
        // Items 1 and 4 were clicked once: they are now the two most popular.
        let hits = tracker
            .score_then_count(
                &mut model,
                &batch(&[(1.0, 1.0, 1), (1.0, 0.0, 1), (0.0, 3.0, 1)]),
            )
            .unwrap();
        // User 1 ranks 0, 1 first: both hits; user 0's item 3 is third. Popular {1, 4}: 1 hit.
        assert_eq!(
            hits,
            BatchHits {
                clicks: 3,
                model: 2,
                popular: 1
            }
        );
        assert_eq!(tracker.total_rates(), (3.0 / 5.0, 1.0 / 5.0));
    }
}
