//! The fused training operator: the model a Batch → layers → Loss chain describes, trained on
//! the batches that arrive (epochs over bounded data, or prequential test-then-train on a
//! stream), evaluated on held-out batches, reporting a Metrics stream and model snapshots.
//! With replicas it meets the other replicas in an all-reduce before every optimizer step.

use super::allreduce::{AllReduce, Reduced};
use super::insight::{InsightSlot, PointSample, TrainerInsight};
use super::ranking::{HitRateTracker, RankingSpec};
use super::{FeatureSpec, LiveParams, MiniBatch, ModelSnapshot, PausePoint, StepPlace};
use crate::nn::{BatchStats, LossKind, Model, ModelConfig, NnError};
use crate::stream::{Item, Key, OpError, OpResult, Operator, Outputs, Record, Values};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// Fields of a trainer's Metrics records, in order. NaN where a value does not apply.
pub const METRIC_FIELDS: &[&str] = &[
    "step",
    "epoch",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "lr",
    "grad_norm",
    "samples_per_s",
    "progressive_loss",
    "progressive_accuracy",
];

/// Metrics fields added when the trainer ranks ids (hit rate@k of the model and of the
/// popularity baseline, over the last `window` batches).
pub const RANKING_FIELDS: &[&str] = &["hit_rate", "popular_hit_rate"];

/// The metrics fields of a trainer with `config`.
pub fn metric_fields(config: &TrainerConfig) -> Vec<String> {
    let ranking = if config.ranking.is_some() {
        RANKING_FIELDS
    } else {
        &[]
    };
    METRIC_FIELDS
        .iter()
        .chain(ranking)
        .map(|f| (*f).to_owned())
        .collect()
}

/// Input port of training batches (the chain's Batch or Shard node).
pub const TRAIN: usize = 0;
/// Input port of held-out batches.
pub const TEST: usize = 1;
/// Output port of metrics records.
pub const METRICS: usize = 0;
/// Output port of model snapshots.
pub const MODEL: usize = 1;

/// How the trainer learns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainingMode {
    /// Learn each batch as it comes, then replay the buffered batches for the other epochs.
    Epochs(u32),
    /// Score each batch, then learn it; report a progressive metric over the last `window`.
    Prequential { window: usize },
}

/// Everything a trainer instance needs, decided by the planner.
#[derive(Clone, Debug)]
pub struct TrainerConfig {
    /// The trainer node's name: the key of its metrics records.
    pub name: String,
    pub model: ModelConfig,
    pub features: FeatureSpec,
    pub mode: TrainingMode,
    pub eval_every: u64,
    pub publish_every: u64,
    pub seed: u64,
    /// A test input is wired: receiving no test batch is then an error.
    pub expects_test: bool,
    /// Prequential ranking: before each batch is learned, its clicks are ranked against every
    /// candidate id (hit rate@k) and against the most popular ids so far.
    pub ranking: Option<RankingSpec>,
}

/// One replica of a trainer (replica 0 reports metrics, evaluates and publishes).
pub struct TrainerOperator {
    config: TrainerConfig,
    model: Model,
    replica: usize,
    allreduce: Option<Arc<AllReduce>>,
    train: Vec<Arc<MiniBatch>>,
    test: Vec<Arc<MiniBatch>>,
    step: u64,
    epoch: u32,
    samples: u64,
    busy_s: f64,
    last_test: Option<(f32, f32)>,
    progressive: Progressive,
    ranking: Option<HitRateTracker>,
    /// Bytes of the training and test batches kept (for later epochs and evaluations).
    kept_bytes: usize,
    /// Loss, accuracy and gradient norm of the last step, repeated in the closing record.
    last_step: (f32, f64, f32),
    /// Live parameter changes from the outside, and the version last applied.
    live: Option<Arc<LiveParams>>,
    live_seen: u64,
    /// This replica's gradients, for the all-reduce.
    flat: Vec<f32>,
    /// Where the live views read the model, layer statistics and recent points.
    insight: Option<Arc<InsightSlot>>,
    points: PointSample,
    /// Where the trainer waits while the run is paused (also during replayed epochs).
    pause: Option<Box<dyn PausePoint>>,
    /// Epochs still to replay once the input ended.
    replay: Option<Replay>,
    /// The final evaluation and snapshot are done.
    ended: bool,
    /// Replicas only: some replica saw Finish at the last all-reduce (all of them learn it there).
    finish_agreed: bool,
}

fn nn_error(e: NnError) -> OpError {
    OpError::new(e.to_string())
}

impl TrainerOperator {
    pub fn new(
        config: TrainerConfig,
        replica: usize,
        allreduce: Option<Arc<AllReduce>>,
    ) -> Result<Self, String> {
        let model = Model::new(config.model.clone()).map_err(|e| e.to_string())?;
        let ranking = config.ranking.map(|spec| {
            let window = match config.mode {
                TrainingMode::Prequential { window } => window,
                TrainingMode::Epochs(_) => 1,
            };
            HitRateTracker::new(spec, window)
        });
        Ok(Self {
            config,
            model,
            replica,
            allreduce,
            train: Vec::new(),
            test: Vec::new(),
            step: 0,
            epoch: 1,
            samples: 0,
            busy_s: 0.0,
            last_test: None,
            progressive: Progressive::default(),
            ranking,
            kept_bytes: 0,
            last_step: (f32::NAN, f64::NAN, f32::NAN),
            live: None,
            live_seen: 0,
            flat: Vec::new(),
            insight: None,
            points: PointSample::default(),
            pause: None,
            replay: None,
            ended: false,
            finish_agreed: false,
        })
    }

    /// Takes live parameter changes (learning rate, clip norm) from the executor.
    pub fn with_live_params(mut self, live: Arc<LiveParams>) -> Self {
        self.live = Some(live);
        self
    }

    /// Shares the model with the live views through `slot`.
    pub fn with_insight(mut self, slot: Arc<InsightSlot>) -> Self {
        self.insight = Some(slot);
        self
    }

    /// Waits at `pause` before each step while the run is paused.
    pub fn with_pause_point(mut self, pause: Box<dyn PausePoint>) -> Self {
        self.pause = Some(pause);
        self
    }

    /// Leaves the model for the live views when they asked (or, at the end, always).
    fn share_insight(&mut self, batch: Option<&MiniBatch>, is_final: bool) {
        let Some(slot) = &self.insight else {
            return;
        };
        if let Some(batch) = batch {
            self.points.add(batch);
        }
        if !is_final && !slot.wanted() {
            return;
        }
        slot.put(TrainerInsight {
            step: self.step,
            model: self.model.clone(),
            features: self.config.features.clone(),
            layers: self.model.layer_stats(),
            points: self.points.to_vec(),
            is_final,
        });
    }

    fn apply_live_params(&mut self) -> OpResult {
        let Some(changes) = self
            .live
            .as_ref()
            .and_then(|l| l.changed_since(&mut self.live_seen))
        else {
            return Ok(());
        };
        for (name, value) in changes {
            match name.as_str() {
                "lr" => self.model.set_lr(value as f32).map_err(nn_error)?,
                "clip_norm" => self
                    .model
                    .set_clip_grad_norm((value > 0.0).then_some(value as f32))
                    .map_err(nn_error)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn reports(&self) -> bool {
        self.replica == 0
    }

    fn accuracy(&self, correct: usize, rows: usize) -> f64 {
        if self.model.loss_kind() == LossKind::Mse || rows == 0 {
            f64::NAN
        } else {
            correct as f64 / rows as f64
        }
    }

    /// One optimizer step on a batch (or this replica's shard of it). Returns (mean loss over
    /// the whole batch, correct, rows of the whole batch, gradient norm, lr used).
    fn learn(&mut self, batch: &MiniBatch) -> Result<(f32, usize, usize, f32, f32), OpError> {
        let lr = self.model.lr();
        let Some(allreduce) = self.allreduce.clone() else {
            let stats = self
                .model
                .train_step(batch.input(), batch.labels.as_targets())
                .map_err(nn_error)?;
            return Ok((
                stats.loss,
                stats.correct,
                stats.samples,
                stats.grad_norm,
                lr,
            ));
        };
        let (loss, correct) = if batch.rows() > 0 {
            let stats = self
                .model
                .compute_gradients(batch.input(), batch.labels.as_targets())
                .map_err(nn_error)?;
            self.model.gradients_flat(&mut self.flat);
            (stats.loss, stats.correct)
        } else {
            self.flat.clear();
            (0.0, 0)
        };
        let mine = Reduced {
            rows: batch.rows(),
            loss,
            correct,
            finishing: self.pause.as_ref().is_some_and(|p| p.finish_requested()),
        };
        let model = &mut self.model;
        let (reduced, merged) = allreduce
            .reduce(self.replica, &mut self.flat, mine, |parts| {
                model.set_gradients_weighted(parts)
            })
            .map_err(|_| OpError::new("stopped while waiting for the other replicas"))?;
        merged.map_err(nn_error)?;
        self.finish_agreed |= reduced.finishing;
        let grad_norm = self.model.apply_gradients().map_err(nn_error)?;
        Ok((reduced.loss, reduced.correct, reduced.rows, grad_norm, lr))
    }

    fn evaluate_test(&mut self) -> Result<Option<(f32, f32)>, OpError> {
        if self.test.is_empty() {
            return Ok(None);
        }
        let mut total = BatchStats::default();
        for batch in &self.test {
            let stats = self
                .model
                .evaluate(batch.input(), batch.labels.as_targets())
                .map_err(nn_error)?;
            total = total.merge(stats);
        }
        let accuracy = self.accuracy(total.correct, total.samples) as f32;
        Ok(Some((total.loss, accuracy)))
    }

    /// Whether the run asked to end: replicas take the answer agreed at their last all-reduce,
    /// so that every replica replays exactly the same steps.
    fn finish_requested(&self) -> bool {
        if self.allreduce.is_some() {
            self.finish_agreed
        } else {
            self.pause.as_ref().is_some_and(|p| p.finish_requested())
        }
    }

    /// Whether the test batches kept are all there will be, so an evaluation now gives the
    /// same figure on every run. During the first pass of an epochs run the test input is
    /// still arriving, from another thread, at its own speed: evaluating on the part that has
    /// arrived made the first test figures differ from run to run, so they wait for the
    /// replayed epochs (every input has ended by then). A prequential stream has no end to
    /// wait for: it evaluates on what has arrived.
    fn test_set_complete(&self) -> bool {
        match self.config.mode {
            TrainingMode::Epochs(_) => self.replay.is_some(),
            TrainingMode::Prequential { .. } => true,
        }
    }

    /// Where the next step stands, for the run's pace.
    fn step_place(&self) -> StepPlace {
        StepPlace {
            epochs: match self.config.mode {
                TrainingMode::Epochs(e) => Some(e),
                TrainingMode::Prequential { .. } => None,
            },
            epoch_steps: self.replay.as_ref().map(|r| r.order.len()),
            replaying: self.replay.is_some(),
        }
    }

    /// A training step with its bookkeeping, NaN check, metrics and snapshots.
    fn train_on(&mut self, batch: &MiniBatch, out: &mut Outputs) -> OpResult {
        let place = self.step_place();
        if let Some(pause) = &mut self.pause {
            pause.pause_point(&place)?;
        }
        self.apply_live_params()?;
        let started = Instant::now();
        let prequential = match self.config.mode {
            TrainingMode::Prequential { window } if self.reports() || self.allreduce.is_none() => {
                let before = self
                    .model
                    .evaluate(batch.input(), batch.labels.as_targets())
                    .map_err(nn_error)?;
                self.progressive.push(
                    (
                        f64::from(before.loss) * before.samples as f64,
                        before.correct,
                        before.samples,
                    ),
                    window,
                );
                if let Some(ranking) = &mut self.ranking {
                    ranking
                        .score_then_count(&mut self.model, batch)
                        .map_err(nn_error)?;
                }
                Some(before)
            }
            _ => None,
        };
        let (loss, correct, rows, grad_norm, lr) = self.learn(batch)?;
        self.step += 1;
        self.samples += rows as u64;
        self.busy_s += started.elapsed().as_secs_f64();
        if !loss.is_finite() {
            return Err(OpError::new(format!(
                "the loss became {loss} at step {} (epoch {}): training diverged; the learning rate {lr} is probably too high — try a smaller one (e.g. {}), or set clip_norm",
                self.step,
                self.epoch,
                lr / 10.0
            )));
        }
        if !self.reports() {
            return Ok(());
        }
        if self.step.is_multiple_of(self.config.eval_every.max(1)) && self.test_set_complete() {
            self.last_test = self.evaluate_test()?;
        }
        let (step_loss, step_correct, step_rows) = match prequential {
            Some(p) => (p.loss, p.correct, p.samples),
            None => (loss, correct, rows),
        };
        let (p_loss, p_acc) = self.progressive_metrics();
        let step_accuracy = self.accuracy(step_correct, step_rows);
        self.last_step = (step_loss, step_accuracy, grad_norm);
        self.emit_metrics(
            step_loss,
            step_accuracy,
            lr,
            grad_norm,
            (p_loss, p_acc),
            out,
        );
        if self.step.is_multiple_of(self.config.publish_every.max(1)) {
            self.publish(false, out);
        }
        self.share_insight(Some(batch), false);
        Ok(())
    }

    fn progressive_metrics(&self) -> (f64, f64) {
        if self.progressive.batches.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let (loss_sum, correct, rows) = self.progressive.sums;
        (loss_sum / rows.max(1) as f64, self.accuracy(correct, rows))
    }

    /// Keeps a batch for later epochs or evaluations, within [`MAX_KEPT_BYTES`].
    fn keep(&mut self, batch: &Arc<MiniBatch>, test: bool) -> OpResult {
        self.kept_bytes = self.kept_bytes.saturating_add(batch_bytes(batch));
        if self.kept_bytes > MAX_KEPT_BYTES {
            let why = if test {
                "every test batch is kept to evaluate on"
            } else {
                "with epochs > 1 every training batch is kept for the later epochs"
            };
            return Err(OpError::new(format!(
                "{why}, and {} MB are kept already ({} training and {} test batches): the input looks endless; train a stream with mode 'prequential', or bound the source",
                self.kept_bytes >> 20,
                self.train.len(),
                self.test.len()
            )));
        }
        if test {
            self.test.push(Arc::clone(batch));
        } else {
            self.train.push(Arc::clone(batch));
        }
        Ok(())
    }

    fn emit_metrics(
        &self,
        loss: f32,
        accuracy: f64,
        lr: f32,
        grad_norm: f32,
        progressive: (f64, f64),
        out: &mut Outputs,
    ) {
        let (test_loss, test_accuracy) = self
            .last_test
            .map_or((f64::NAN, f64::NAN), |(l, a)| (f64::from(l), f64::from(a)));
        let samples_per_s = if self.busy_s > 0.0 {
            self.samples as f64 / self.busy_s
        } else {
            f64::NAN
        };
        let values: Values = [
            self.step as f64,
            f64::from(self.epoch),
            f64::from(loss),
            accuracy,
            test_loss,
            test_accuracy,
            f64::from(lr),
            f64::from(grad_norm),
            samples_per_s,
            progressive.0,
            progressive.1,
        ]
        .into_iter()
        .collect();
        let mut values = values;
        if let Some(ranking) = &self.ranking {
            let (model, popular) = ranking.recent_rates();
            values.push(model);
            values.push(popular);
        }
        out.push(
            METRICS,
            Item::Record(Record {
                key: Key::text(&self.config.name),
                ts: self.step as i64,
                values,
            }),
        );
    }

    fn publish(&self, is_final: bool, out: &mut Outputs) {
        out.push(
            MODEL,
            Item::Model(Arc::new(ModelSnapshot {
                model: self.model.clone(),
                features: self.config.features.clone(),
                step: self.step,
                is_final,
            })),
        );
    }
}

impl Operator for TrainerOperator {
    fn on_item(&mut self, port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Batch(batch) = item else {
            return Ok(());
        };
        if port == TEST {
            return self.keep(&batch, true);
        }
        if matches!(self.config.mode, TrainingMode::Epochs(e) if e > 1) {
            self.keep(&batch, false)?;
        }
        self.train_on(&batch, out)
    }

    /// Metrics are keyed by step, not event time: the input watermark is not forwarded.
    fn on_watermark(&mut self, _watermark: i64, _out: &mut Outputs) -> OpResult {
        Ok(())
    }

    fn on_end(&mut self, _out: &mut Outputs) -> OpResult {
        if self.step == 0 && self.reports() {
            return Err(OpError::new(
                "received no training batches: is the training input empty (e.g. a split ratio of 0)?",
            ));
        }
        if let TrainingMode::Epochs(epochs) = self.config.mode {
            let batches = std::mem::take(&mut self.train);
            self.replay = Some(Replay {
                order: (0..batches.len()).collect(),
                batches,
                epoch: 2,
                pos: 0,
                epochs,
            });
        }
        Ok(())
    }

    /// Replays one step per call (so each step's metrics leave at once and a paused run
    /// holds between steps); after the last epoch, evaluates and publishes the final model.
    fn on_end_more(&mut self, out: &mut Outputs) -> Result<bool, OpError> {
        if self.replay.is_some() && self.finish_requested() {
            // The run is asked to end (`--max-seconds`, Finish): the epochs left are skipped;
            // the final evaluation and model still come.
            self.replay = None;
        }
        if let Some(mut replay) = self.replay.take()
            && replay.epoch <= replay.epochs
            && !replay.batches.is_empty()
        {
            if replay.pos == 0 {
                self.epoch = replay.epoch;
                let mut rng = ChaCha8Rng::seed_from_u64(
                    self.config.seed ^ u64::from(replay.epoch).wrapping_mul(0x9e37_79b9),
                );
                replay.order.shuffle(&mut rng);
            }
            let batch = replay
                .order
                .get(replay.pos)
                .and_then(|&i| replay.batches.get(i))
                .cloned();
            replay.pos += 1;
            if replay.pos >= replay.order.len() {
                replay.pos = 0;
                replay.epoch += 1;
            }
            self.replay = Some(replay);
            if let Some(batch) = batch {
                self.train_on(&batch, out)?;
            }
            return Ok(true);
        }
        if self.ended || !self.reports() {
            return Ok(false);
        }
        self.ended = true;
        if self.config.expects_test && self.test.is_empty() {
            return Err(OpError::new(
                "the test input received no batches: is the split's test share empty (train_ratio 1.0)?",
            ));
        }
        self.last_test = self.evaluate_test()?;
        if self.last_test.is_some() {
            let (p_loss, p_acc) = self.progressive_metrics();
            let lr = self.model.lr();
            let (loss, accuracy, grad_norm) = self.last_step;
            self.emit_metrics(loss, accuracy, lr, grad_norm, (p_loss, p_acc), out);
        }
        self.publish(true, out);
        self.share_insight(None, true);
        Ok(false)
    }
}

/// Most bytes of batches a trainer keeps (training batches for epochs 2.., test batches): an
/// endless input would otherwise grow them until memory runs out.
pub const MAX_KEPT_BYTES: usize = 1 << 30;

/// Memory a mini-batch holds (features and labels).
fn batch_bytes(batch: &MiniBatch) -> usize {
    let labels = match &batch.labels {
        crate::nn::Labels::Classes(c) => c.len() * std::mem::size_of::<usize>(),
        crate::nn::Labels::OneHot(v) | crate::nn::Labels::Values(v) => {
            v.len() * std::mem::size_of::<f32>()
        }
    };
    batch.x.len() * std::mem::size_of::<f32>() + labels
}

/// The last `window` batches' (loss × rows, correct, rows) and their sums, kept as they move:
/// the progressive metric costs O(1) per step, not O(window).
#[derive(Default)]
struct Progressive {
    batches: VecDeque<(f64, usize, usize)>,
    sums: (f64, usize, usize),
    /// Steps since the loss sum was last recomputed exactly (adding and subtracting floats
    /// drifts; a fresh sum every `window` steps keeps it exact enough and O(1) amortised).
    since_resum: usize,
}

impl Progressive {
    fn push(&mut self, batch: (f64, usize, usize), window: usize) {
        self.batches.push_back(batch);
        self.sums = (
            self.sums.0 + batch.0,
            self.sums.1 + batch.1,
            self.sums.2 + batch.2,
        );
        while self.batches.len() > window.max(1) {
            if let Some((l, c, r)) = self.batches.pop_front() {
                self.sums = (self.sums.0 - l, self.sums.1 - c, self.sums.2 - r);
            }
        }
        self.since_resum += 1;
        if self.since_resum >= window.max(1) {
            self.since_resum = 0;
            self.sums.0 = self.batches.iter().map(|b| b.0).sum();
        }
    }
}

/// Epochs 2.. of an epoch-mode trainer, replayed from the buffered batches after the input ends.
struct Replay {
    batches: Vec<Arc<MiniBatch>>,
    order: Vec<usize>,
    /// The epoch being replayed and the position in its shuffled order.
    epoch: u32,
    pos: usize,
    epochs: u32,
}
