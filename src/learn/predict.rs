//! The Predict operator: scores records (port 0) with model snapshots from a Trainer (port 1),
//! appending `prediction`, `score` and `error`, in batched forward passes.
//! It never trains, never reorders records, and never lets a record out behind a watermark
//! that already passed it: watermarks wait while records are held.

use ndarray::{ArrayView1, ArrayView2};

use super::{FeatureSpec, ModelSnapshot};
use crate::nn::{LossKind, Model};
use crate::stream::{Item, OpError, OpResult, Operator, Outputs, Record};

/// Input port of the records to score.
pub const RECORDS_PORT: usize = 0;
/// Input port of model snapshots.
pub const MODEL_PORT: usize = 1;
/// The fields appended to every record, in order.
pub const OUTPUT_FIELDS: &[&str] = &["prediction", "score", "error"];

/// Rows scored per forward pass.
const SCORE_CHUNK_ROWS: usize = 256;

/// Scores records with the newest model snapshot (or, with `wait_for_final`, the final one).
///
/// Appended fields: classes: `prediction` = the most likely class, `score` = its probability
/// (a one-output binary model: the probability of class 1, and class 1 when it is ≥ 0.5),
/// `error` = 1 when the prediction differs from the label, else 0. Regression: `prediction` =
/// `score` = the first output, `error` = |prediction − label|. `error` is NaN when the record
/// has no label (no label field, or NaN); all three are NaN when the model's output is not
/// finite (e.g. a NaN feature).
pub struct PredictOperator {
    wait_for_final: bool,
    model: Option<ScoringModel>,
    final_arrived: bool,
    /// Records not yet scored, in arrival order.
    pending: Vec<Record>,
    /// The newest watermark held back because records were held.
    held_watermark: Option<i64>,
    /// Feature rows of one forward pass, reused.
    x_buffer: Vec<f32>,
}

impl PredictOperator {
    pub fn new(wait_for_final: bool) -> Self {
        Self {
            wait_for_final,
            model: None,
            final_arrived: false,
            pending: Vec::new(),
            held_watermark: None,
            x_buffer: Vec::new(),
        }
    }

    /// Whether arriving records may be scored now (else they are held).
    fn ready(&self) -> bool {
        self.model.is_some() && (self.final_arrived || !self.wait_for_final)
    }

    fn on_model(&mut self, snapshot: &ModelSnapshot, out: &mut Outputs) -> OpResult {
        let expected = snapshot.model.input_width();
        let listed = snapshot.features.features.len();
        if expected != listed {
            return Err(OpError::new(format!(
                "model snapshot at step {} expects {expected} inputs, but its feature spec lists \
                 {listed} fields",
                snapshot.step
            )));
        }
        // Records that arrived while the previous snapshot was the newest are scored by it.
        if self.ready() {
            self.flush(out)?;
        }
        self.model = Some(ScoringModel {
            model: snapshot.model.clone(),
            features: snapshot.features.clone(),
            step: snapshot.step,
        });
        self.final_arrived |= snapshot.is_final;
        if self.ready() {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Scores and emits every held record, then releases a held watermark.
    fn flush(&mut self, out: &mut Outputs) -> OpResult {
        if !self.pending.is_empty() {
            let Some(scoring) = self.model.as_mut() else {
                return Err(no_model());
            };
            let mut records = std::mem::take(&mut self.pending);
            for chunk in records.chunks_mut(SCORE_CHUNK_ROWS) {
                scoring.score(chunk, &mut self.x_buffer)?;
            }
            for record in records.drain(..) {
                out.push(0, Item::Record(record));
            }
            // Keep a chunk's worth of capacity, not everything a long wait accumulated.
            records.shrink_to(SCORE_CHUNK_ROWS);
            self.pending = records;
        }
        if let Some(watermark) = self.held_watermark.take() {
            out.watermark(watermark);
        }
        Ok(())
    }
}

impl Operator for PredictOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        match item {
            Item::Record(record) => {
                self.pending.push(record);
                if self.ready() && self.pending.len() >= SCORE_CHUNK_ROWS {
                    self.flush(out)?;
                }
                Ok(())
            }
            Item::Model(snapshot) => self.on_model(&snapshot, out),
            Item::Watermark(w) => self.on_watermark(w, out),
            Item::Window(_) | Item::Batch(_) => Err(OpError::new(
                "Predict takes records and model snapshots, got a window result or batch",
            )),
        }
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if self.ready() {
            self.flush(out)?;
        }
        if self.pending.is_empty() {
            out.watermark(watermark);
        } else {
            self.held_watermark = Some(self.held_watermark.map_or(watermark, |w| w.max(watermark)));
        }
        Ok(())
    }

    /// Feeds the items, then scores what is ready so records wait at most one input batch.
    fn on_batch(&mut self, port: usize, items: Vec<Item>, out: &mut Outputs) -> OpResult {
        for item in items {
            self.on_item(port, item, out)?;
        }
        if self.ready() {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Scores everything still held with the last snapshot, final or not.
    fn on_end(&mut self, out: &mut Outputs) -> OpResult {
        if self.model.is_none() {
            return Err(no_model());
        }
        self.flush(out)
    }

    fn state_entries(&self) -> usize {
        self.pending.len()
    }
}

fn no_model() -> OpError {
    OpError::new("no model arrived: is the trainer's `model` port wired and did training run?")
}

/// A snapshot's model, owned so it can run forward passes, with how it reads records.
struct ScoringModel {
    model: Model,
    features: FeatureSpec,
    step: u64,
}

impl ScoringModel {
    /// Appends prediction, score and error to each record, in one forward pass.
    fn score(&mut self, records: &mut [Record], x_buffer: &mut Vec<f32>) -> OpResult {
        x_buffer.clear();
        let scale = f64::from(self.features.scale);
        for record in records.iter() {
            for &index in &self.features.features {
                let Some(&value) = record.values.get(index) else {
                    return Err(OpError::new(format!(
                        "record key={} ts={}: has no feature field {index} (it has {} fields) \
                         for the model of step {}",
                        record.key,
                        record.ts,
                        record.values.len(),
                        self.step
                    )));
                };
                x_buffer.push((value * scale) as f32);
            }
        }
        let shape = (records.len(), self.features.features.len());
        let x = ArrayView2::from_shape(shape, x_buffer.as_slice())
            .map_err(|e| OpError::new(format!("Predict: feature matrix {shape:?}: {e}")))?;
        let outputs = self
            .model
            .predict(x)
            .map_err(|e| OpError::new(format!("model of step {}: {e}", self.step)))?;
        let loss = self.model.loss_kind();
        for (record, row) in records.iter_mut().zip(outputs.rows()) {
            let (prediction, score) = interpret(loss, row);
            let label = self
                .features
                .label
                .and_then(|i| record.values.get(i).copied())
                .filter(|l| !l.is_nan());
            let error = match (label, loss) {
                (None, _) => f64::NAN,
                _ if prediction.is_nan() => f64::NAN,
                (Some(label), LossKind::Mse) => (prediction - label).abs(),
                (Some(label), LossKind::CrossEntropy | LossKind::BinaryCrossEntropy) => {
                    if prediction == label {
                        0.0
                    } else {
                        1.0
                    }
                }
            };
            record.values.extend([prediction, score, error]);
        }
        Ok(())
    }
}

/// (prediction, score) of one output row; NaN for both when an output is not finite.
fn interpret(loss: LossKind, row: ArrayView1<f32>) -> (f64, f64) {
    if row.is_empty() || row.iter().any(|z| !z.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    match loss {
        LossKind::Mse => {
            let value = row.first().map_or(f64::NAN, |&z| f64::from(z));
            (value, value)
        }
        LossKind::CrossEntropy | LossKind::BinaryCrossEntropy if row.len() == 1 => {
            let probability = row.first().map_or(f64::NAN, |&z| sigmoid(f64::from(z)));
            (if probability >= 0.5 { 1.0 } else { 0.0 }, probability)
        }
        LossKind::CrossEntropy | LossKind::BinaryCrossEntropy => {
            let (best, max) =
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |(bi, bz), (i, &z)| {
                        let z = f64::from(z);
                        if z > bz { (i, z) } else { (bi, bz) }
                    });
            // Softmax of the largest logit: e^0 / Σ e^(z − max).
            let sum: f64 = row.iter().map(|&z| (f64::from(z) - max).exp()).sum();
            (best as f64, 1.0 / sum)
        }
    }
}

/// 1 / (1 + e^−z), without overflow for large |z|.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::LabelKind;
    use crate::nn::{ModelConfig, argmax};
    use crate::stream::Key;
    use ndarray::Array2;
    use std::sync::Arc;

    fn model(outputs: usize, loss: LossKind, seed: u64) -> Model {
        let config = ModelConfig::mlp(2, &[4], outputs).with_loss(loss);
        Model::new(config.with_seed(seed)).unwrap()
    }

    /// Features: fields 0 and 1 (scaled by 0.5); label: field 2.
    fn spec(label_kind: LabelKind) -> FeatureSpec {
        FeatureSpec {
            features: vec![0, 1],
            scale: 0.5,
            label: Some(2),
            label_kind,
        }
    }

    const CLASSES_3: LabelKind = LabelKind::Class { classes: 3 };

    fn snapshot(model: &Model, spec: &FeatureSpec, step: u64, is_final: bool) -> Item {
        Item::Model(Arc::new(ModelSnapshot {
            model: model.clone(),
            features: spec.clone(),
            step,
            is_final,
        }))
    }

    fn record(ts: i64, values: &[f64]) -> Item {
        Item::Record(Record {
            key: Key::Int(ts % 3),
            ts,
            values: values.iter().copied().collect(),
        })
    }

    /// Record i: features (4 sin i, 4 cos 2i), label i mod `classes`, event time i.
    fn records(range: std::ops::Range<i64>, classes: i64) -> Vec<Item> {
        range
            .map(|i| {
                let f = i as f64;
                record(
                    i,
                    &[4.0 * f.sin(), 4.0 * (2.0 * f).cos(), (i % classes) as f64],
                )
            })
            .collect()
    }

    fn emitted(out: &mut Outputs) -> Vec<Record> {
        out.settle();
        out.ports[0]
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    /// `items` scored by a streaming operator that got `model` (final) first.
    fn scored_by(model: &Model, spec: &FeatureSpec, items: Vec<Item>) -> Vec<Record> {
        let mut op = PredictOperator::new(false);
        let mut out = Outputs::new(1);
        op.on_item(MODEL_PORT, snapshot(model, spec, 1, true), &mut out)
            .unwrap();
        op.on_batch(RECORDS_PORT, items, &mut out).unwrap();
        emitted(&mut out)
    }

    /// Scored rows rescored by `model` alone, from their first three fields.
    fn rescored(model: &Model, spec: &FeatureSpec, rows: &[Record]) -> Vec<Record> {
        let originals = rows.iter().map(|r| {
            let mut r = r.clone();
            r.values.truncate(3);
            Item::Record(r)
        });
        scored_by(model, spec, originals.collect())
    }

    /// The model's raw outputs for the rows' features: the reference for the scores.
    fn logits(model: &Model, rows: &[Record]) -> Array2<f32> {
        let x = Array2::from_shape_fn((rows.len(), 2), |(r, c)| (rows[r].values[c] * 0.5) as f32);
        model.clone().predict(x.view()).unwrap()
    }

    #[test]
    fn multiclass_prediction_is_the_argmax_and_score_its_softmax_probability() {
        let m = model(3, LossKind::CrossEntropy, 2);
        let rows = scored_by(&m, &spec(CLASSES_3), records(0..20, 3));
        // Records keep their order and gain the three fields.
        assert_eq!(OUTPUT_FIELDS, &["prediction", "score", "error"]);
        let ts: Vec<i64> = rows.iter().map(|r| r.ts).collect();
        assert_eq!(ts, (0..20).collect::<Vec<i64>>());
        for (r, z) in rows.iter().zip(logits(&m, &rows).rows()) {
            let e: Vec<f64> = z.iter().map(|&v| f64::from(v).exp()).collect();
            let best = argmax(z.as_slice().unwrap());
            assert_eq!(r.values[3], best as f64);
            assert!((r.values[4] - e[best] / e.iter().sum::<f64>()).abs() < 1e-9);
            assert_eq!(
                r.values[5],
                if best as f64 == r.values[2] { 0.0 } else { 1.0 }
            );
        }
    }

    #[test]
    fn binary_score_is_the_probability_of_class_one() {
        let m = model(1, LossKind::BinaryCrossEntropy, 3);
        let rows = scored_by(
            &m,
            &spec(LabelKind::Class { classes: 2 }),
            records(0..40, 2),
        );
        for (r, z) in rows.iter().zip(logits(&m, &rows).iter()) {
            let p = 1.0 / (1.0 + (-f64::from(*z)).exp());
            assert!((r.values[4] - p).abs() < 1e-12);
            assert_eq!(r.values[3], if p >= 0.5 { 1.0 } else { 0.0 });
            assert_eq!(
                r.values[5],
                if r.values[3] == r.values[2] { 0.0 } else { 1.0 }
            );
        }
    }

    #[test]
    fn regression_prediction_is_the_output_and_error_its_distance_to_the_label() {
        let m = model(1, LossKind::Mse, 4);
        let rows = scored_by(&m, &spec(LabelKind::Value), records(0..10, 7));
        for (r, z) in rows.iter().zip(logits(&m, &rows).iter()) {
            let z = f64::from(*z);
            assert_eq!(r.values[3..], [z, z, (z - r.values[2]).abs()]);
        }
    }

    #[test]
    fn error_is_nan_without_a_label_and_all_are_nan_for_nan_features() {
        let m = model(1, LossKind::Mse, 4);
        let items = vec![
            record(1, &[1.0, 2.0]),
            record(2, &[1.0, 2.0, f64::NAN]),
            record(3, &[f64::NAN, 2.0, 1.0]),
        ];
        let rows = scored_by(&m, &spec(LabelKind::Value), items);
        let appended: Vec<&[f64]> = rows
            .iter()
            .map(|r| &r.values[r.values.len() - 3..])
            .collect();
        assert!(
            appended[..2]
                .iter()
                .all(|v| v[0].is_finite() && v[2].is_nan())
        );
        assert!(appended[2].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn many_records_are_scored_in_chunks_like_one_at_a_time() {
        let m = model(3, LossKind::CrossEntropy, 5);
        let mut op = PredictOperator::new(true);
        let mut out = Outputs::new(1);
        op.on_batch(RECORDS_PORT, records(0..600, 3), &mut out)
            .unwrap();
        op.on_item(
            MODEL_PORT,
            snapshot(&m, &spec(CLASSES_3), 9, true),
            &mut out,
        )
        .unwrap();
        let rows = emitted(&mut out);
        assert_eq!(rows.len(), 600);
        for (r, z) in rows.iter().zip(logits(&m, &rows).rows()) {
            assert_eq!(r.values[3], argmax(z.as_slice().unwrap()) as f64);
        }
    }

    #[test]
    fn waiting_for_final_holds_records_and_scores_all_with_the_final_model() {
        let (early, last) = (
            model(3, LossKind::CrossEntropy, 10),
            model(3, LossKind::CrossEntropy, 11),
        );
        let spec = spec(CLASSES_3);
        let mut op = PredictOperator::new(true);
        let mut out = Outputs::new(1);
        op.on_batch(RECORDS_PORT, records(0..5, 3), &mut out)
            .unwrap();
        op.on_item(MODEL_PORT, snapshot(&early, &spec, 100, false), &mut out)
            .unwrap();
        op.on_batch(RECORDS_PORT, records(5..30, 3), &mut out)
            .unwrap();
        assert!(emitted(&mut out).is_empty());
        assert_eq!(op.state_entries(), 30);
        op.on_item(MODEL_PORT, snapshot(&last, &spec, 200, true), &mut out)
            .unwrap();
        let rows = emitted(&mut out);
        assert_eq!(rows.len(), 30);
        assert_eq!(rows, rescored(&last, &spec, &rows));
        assert_ne!(rows, rescored(&early, &spec, &rows));
    }

    #[test]
    fn waiting_without_a_final_snapshot_scores_with_the_last_one_at_end() {
        let m = model(3, LossKind::CrossEntropy, 12);
        let spec = spec(CLASSES_3);
        let mut op = PredictOperator::new(true);
        let mut out = Outputs::new(1);
        op.on_item(MODEL_PORT, snapshot(&m, &spec, 7, false), &mut out)
            .unwrap();
        op.on_batch(RECORDS_PORT, records(0..4, 3), &mut out)
            .unwrap();
        assert!(emitted(&mut out).is_empty());
        op.on_end(&mut out).unwrap();
        let rows = emitted(&mut out);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows, rescored(&m, &spec, &rows));
    }

    #[test]
    fn without_waiting_each_record_is_scored_by_the_newest_snapshot() {
        let (first, second) = (
            model(3, LossKind::CrossEntropy, 20),
            model(3, LossKind::CrossEntropy, 21),
        );
        let spec = spec(CLASSES_3);
        let mut op = PredictOperator::new(false);
        let mut out = Outputs::new(1);
        // Held until the first snapshot, then scored by it, as are the records that follow it.
        op.on_batch(RECORDS_PORT, records(0..10, 3), &mut out)
            .unwrap();
        assert!(emitted(&mut out).is_empty());
        let mut items = vec![snapshot(&first, &spec, 1, false)];
        items.extend(records(10..20, 3));
        items.push(snapshot(&second, &spec, 2, false));
        items.extend(records(20..30, 3));
        op.on_batch(RECORDS_PORT, items, &mut out).unwrap();
        let rows = emitted(&mut out);
        assert_eq!(rows.len(), 30);
        assert_eq!(rows[..20], rescored(&first, &spec, &rows[..20])[..]);
        assert_eq!(rows[20..], rescored(&second, &spec, &rows[20..])[..]);
    }

    #[test]
    fn watermarks_wait_behind_held_records() {
        let m = model(3, LossKind::CrossEntropy, 30);
        let mut op = PredictOperator::new(true);
        let mut out = Outputs::new(1);
        // Nothing held yet: the watermark passes.
        op.on_watermark(-1, &mut out).unwrap();
        let mut items = records(0..3, 3);
        items.push(Item::Watermark(2));
        items.extend(records(3..4, 3));
        items.push(Item::Watermark(3));
        op.on_batch(RECORDS_PORT, items, &mut out).unwrap();
        out.settle();
        assert_eq!(std::mem::take(&mut out.ports[0]), vec![Item::Watermark(-1)]);
        op.on_item(
            MODEL_PORT,
            snapshot(&m, &spec(CLASSES_3), 5, true),
            &mut out,
        )
        .unwrap();
        out.settle();
        let watermarks: Vec<Option<i64>> = out.ports[0]
            .iter()
            .map(|i| match i {
                Item::Watermark(w) => Some(*w),
                _ => None,
            })
            .collect();
        assert_eq!(watermarks, vec![None, None, None, None, Some(3)]);
    }

    #[test]
    fn end_without_any_model_is_an_error_that_says_what_to_check() {
        let mut op = PredictOperator::new(true);
        let mut out = Outputs::new(1);
        op.on_batch(RECORDS_PORT, records(0..3, 3), &mut out)
            .unwrap();
        assert_eq!(
            op.on_end(&mut out).unwrap_err().0,
            "no model arrived: is the trainer's `model` port wired and did training run?"
        );
    }

    #[test]
    fn a_record_missing_a_feature_is_an_error_naming_it() {
        let m = model(3, LossKind::CrossEntropy, 40);
        let mut op = PredictOperator::new(false);
        let mut out = Outputs::new(1);
        op.on_item(
            MODEL_PORT,
            snapshot(&m, &spec(CLASSES_3), 8, true),
            &mut out,
        )
        .unwrap();
        let err = op.on_batch(RECORDS_PORT, vec![record(4, &[1.0])], &mut out);
        assert_eq!(
            err.unwrap_err().0,
            "record key=1 ts=4: has no feature field 1 (it has 1 fields) for the model of step 8"
        );
    }

    #[test]
    fn a_snapshot_whose_spec_does_not_fit_its_model_is_refused() {
        let m = model(3, LossKind::CrossEntropy, 41);
        let narrow = FeatureSpec {
            features: vec![0],
            ..spec(CLASSES_3)
        };
        let err = PredictOperator::new(false)
            .on_item(
                MODEL_PORT,
                snapshot(&m, &narrow, 3, true),
                &mut Outputs::new(1),
            )
            .unwrap_err();
        assert!(
            err.0
                .contains("expects 2 inputs, but its feature spec lists 1"),
            "{}",
            err.0
        );
    }
}
