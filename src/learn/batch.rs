//! The Batch operator: stacks records (port 0) or a window firing's records (port 1) into
//! mini-batches of features and labels, as a [`FeatureSpec`] reads them. In sequence mode each
//! window firing becomes one sample (its records are the steps, short windows padded on the
//! left and masked); with negative sampling each record is followed by rows with a random id.
//! It validates every label and feature and never emits a batch with a bad row in it; it
//! allocates per batch, never per record.

use std::sync::Arc;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{FeatureSpec, LabelKind, MiniBatch};
use crate::nn::Labels;
use crate::stream::{Item, OpError, OpResult, Operator, Outputs, Record, WindowResult};

/// Input port of single records.
pub const RECORDS_PORT: usize = 0;
/// Input port of window firings (each firing's rows become one batch).
pub const WINDOWS_PORT: usize = 1;

/// Rows whose buffer space is reserved up front; larger batches grow their buffers as they fill.
const MAX_PREALLOCATED_ROWS: usize = 4096;

/// Stacks every `size` records from port 0 into one [`MiniBatch`] (the last, partial one at the
/// end of input), and each window firing from port 1 into one batch of its rows. Batches go out
/// on port 0 as `Item::Batch`, numbered by `seq` from 0 in emission order. Watermarks pass.
///
/// Labels by `spec.label_kind`: `Class` → `Labels::Classes`, `OneHot` → `Labels::OneHot`
/// (rows × classes), `Value` → `Labels::Values` (rows × 1). Without a label field
/// (`spec.label == None`) the labels are `Labels::Values` of shape (rows × 0).
pub struct BatchOperator {
    spec: FeatureSpec,
    size: usize,
    /// The batch being filled from port 0 (or, in sequence mode, from window firings).
    filling: RowBuffer,
    next_seq: u64,
    sequence: Option<SequenceSpec>,
    negatives: Option<(NegativeSampling, ChaCha8Rng)>,
}

/// Sequence mode: each window firing is one sample of `steps` steps (its records, oldest
/// first; the last `steps` of a longer window; a shorter one padded with zeros on the left and
/// its real length kept so the model masks the padding), labelled as `label` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceSpec {
    pub steps: usize,
    pub label: SequenceLabel,
}

/// Which label a sequence sample gets from its window's records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SequenceLabel {
    /// The newest record's (what happens now, given what came before).
    #[default]
    Last,
    /// The largest over the window's records (for 0/1 flags: did any record have it).
    Max,
}

/// Negative sampling for implicit feedback (clicks): after each record, `per_record` rows
/// that copy its features with feature `column` replaced by an id drawn uniformly from
/// 0..ids, labelled 0 (class 0, or the value 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NegativeSampling {
    /// Position among the features (not the record's fields).
    pub column: usize,
    pub ids: usize,
    pub per_record: usize,
    pub seed: u64,
}

impl BatchOperator {
    /// `size` is at least 1.
    pub fn new(spec: FeatureSpec, size: usize) -> Self {
        let size = size.max(1);
        let filling = RowBuffer::with_rows(&spec, size.min(MAX_PREALLOCATED_ROWS));
        Self {
            spec,
            size,
            filling,
            next_seq: 0,
            sequence: None,
            negatives: None,
        }
    }

    /// Each window firing becomes one sequence sample; `size` samples form a batch.
    pub fn with_sequence(mut self, sequence: SequenceSpec) -> Self {
        self.sequence = Some(SequenceSpec {
            steps: sequence.steps.max(1),
            label: sequence.label,
        });
        self
    }

    /// Adds sampled negatives after every record (they count towards `size`).
    pub fn with_negatives(mut self, negatives: NegativeSampling) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(negatives.seed);
        self.negatives = Some((negatives, rng));
        self
    }

    /// Appends one record (and its sampled negatives); emits the batch once it is full.
    fn push_record(&mut self, record: &Record, out: &mut Outputs) -> OpResult {
        if self.sequence.is_some() {
            return Err(OpError::new(
                "in sequence mode a Batch node takes window firings (wire a window into `windows`)",
            ));
        }
        self.filling.push(&self.spec, record)?;
        if let Some((negatives, rng)) = &mut self.negatives {
            self.filling.push_negatives(&self.spec, negatives, rng);
        }
        if self.filling.rows >= self.size {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Appends a window firing as one sequence sample; emits the batch once it is full.
    fn push_sequence(
        &mut self,
        sequence: SequenceSpec,
        records: &[Record],
        out: &mut Outputs,
    ) -> OpResult {
        self.filling.push_sequence(&self.spec, sequence, records)?;
        if self.filling.rows >= self.size {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Emits the rows being filled as one batch (nothing when empty).
    fn flush(&mut self, out: &mut Outputs) -> OpResult {
        if self.filling.rows == 0 {
            return Ok(());
        }
        let fresh = RowBuffer::with_rows(&self.spec, self.size.min(MAX_PREALLOCATED_ROWS));
        let full = std::mem::replace(&mut self.filling, fresh);
        self.emit(full, out)
    }

    fn emit(&mut self, rows: RowBuffer, out: &mut Outputs) -> OpResult {
        let batch = rows.into_batch(&self.spec, self.next_seq)?;
        self.next_seq += 1;
        out.push(0, Item::Batch(Arc::new(batch)));
        Ok(())
    }

    fn on_window(&mut self, window: &WindowResult, out: &mut Outputs) -> OpResult {
        let records = window.rows();
        if records.is_empty() {
            if window.first_stats.count > 0 {
                return Err(OpError::new(format!(
                    "window key={} ts={} has {} records but carried none of them \
                     (the window must keep its rows for a Batch node)",
                    window.key, window.ts, window.first_stats.count
                )));
            }
            return Ok(());
        }
        if let Some(sequence) = self.sequence {
            return self.push_sequence(sequence, records, out);
        }
        let mut rows = RowBuffer::with_rows(&self.spec, records.len());
        for record in records {
            rows.push(&self.spec, record)?;
        }
        self.emit(rows, out)
    }
}

impl Operator for BatchOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        match item {
            Item::Record(record) => self.push_record(&record, out),
            Item::Window(window) => self.on_window(&window, out),
            Item::Watermark(w) => self.on_watermark(w, out),
            Item::Batch(_) | Item::Model(_) => Err(OpError::new(
                "Batch takes records or window firings, got a batch or model",
            )),
        }
    }

    fn on_end(&mut self, out: &mut Outputs) -> OpResult {
        self.flush(out)
    }

    fn state_entries(&self) -> usize {
        self.filling.rows
    }
}

/// Rows of one batch being built: features row-major, labels beside them.
struct RowBuffer {
    x: Vec<f32>,
    /// Class indices (`Class` and `OneHot` labels).
    classes: Vec<usize>,
    /// Real labels (`Value`).
    values: Vec<f32>,
    /// Real steps per sample (sequence mode only).
    lengths: Vec<usize>,
    rows: usize,
    first_ts: i64,
    last_ts: i64,
}

impl RowBuffer {
    fn with_rows(spec: &FeatureSpec, rows: usize) -> Self {
        let (classes, values) = match (spec.label, spec.label_kind) {
            (None, _) => (0, 0),
            (Some(_), LabelKind::Class { .. } | LabelKind::OneHot { .. }) => (rows, 0),
            (Some(_), LabelKind::Value) => (0, rows),
        };
        Self {
            x: Vec::with_capacity(rows.saturating_mul(spec.features.len())),
            classes: Vec::with_capacity(classes),
            values: Vec::with_capacity(values),
            lengths: Vec::new(),
            rows: 0,
            first_ts: 0,
            last_ts: 0,
        }
    }

    /// Appends one record's features and label; on error nothing is appended.
    fn push(&mut self, spec: &FeatureSpec, record: &Record) -> OpResult {
        let start = self.x.len();
        if let Err(problem) = self.push_row(spec, record) {
            self.x.truncate(start);
            return Err(OpError::new(format!(
                "record key={} ts={}: {problem}",
                record.key, record.ts
            )));
        }
        if self.rows == 0 {
            self.first_ts = record.ts;
        }
        self.last_ts = record.ts;
        self.rows += 1;
        Ok(())
    }

    /// Copies of the last row with a random id in the sampled column, labelled 0.
    fn push_negatives(
        &mut self,
        spec: &FeatureSpec,
        negatives: &NegativeSampling,
        rng: &mut ChaCha8Rng,
    ) {
        let width = spec.features.len();
        let Some(start) = self.x.len().checked_sub(width) else {
            return;
        };
        for _ in 0..negatives.per_record {
            let id = rng.random_range(0..negatives.ids.max(1)) as f32;
            let copy = self.x.len();
            self.x.extend_from_within(start..start + width);
            if let Some(v) = self.x.get_mut(copy + negatives.column) {
                *v = id;
            }
            match (spec.label, spec.label_kind) {
                (None, _) => {}
                (Some(_), LabelKind::Class { .. } | LabelKind::OneHot { .. }) => {
                    self.classes.push(0)
                }
                (Some(_), LabelKind::Value) => self.values.push(0.0),
            }
            self.rows += 1;
        }
    }

    /// Appends a window's records as one sample of `steps` steps, padded on the left, with
    /// the label `sequence.label` picks. On error nothing is appended.
    fn push_sequence(
        &mut self,
        spec: &FeatureSpec,
        sequence: SequenceSpec,
        records: &[Record],
    ) -> OpResult {
        let steps = sequence.steps;
        let width = spec.features.len();
        let kept = records
            .get(records.len().saturating_sub(steps)..)
            .unwrap_or_default();
        let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
            return Ok(());
        };
        let start = self.x.len();
        self.x.resize(start + (steps - kept.len()) * width, 0.0);
        let label = match (spec.label, sequence.label) {
            (None, _) => Ok(None),
            (Some(index), SequenceLabel::Last) => {
                read_label(spec.label_kind, index, last).map(Some)
            }
            (Some(index), SequenceLabel::Max) => {
                let labels = kept
                    .iter()
                    .map(|r| read_label(spec.label_kind, index, r))
                    .collect::<Result<Vec<_>, _>>();
                labels.map(|labels| labels.into_iter().reduce(Label::max))
            }
        };
        let filled = label.and_then(|label| {
            for record in kept {
                push_features(&mut self.x, spec, record).map_err(|problem| {
                    format!("record key={} ts={}: {problem}", record.key, record.ts)
                })?;
            }
            Ok(label)
        });
        let label = match filled {
            Ok(label) => label,
            Err(problem) => {
                self.x.truncate(start);
                return Err(OpError::new(format!(
                    "window of {} records ending at key={} ts={}: {problem}",
                    records.len(),
                    last.key,
                    last.ts
                )));
            }
        };
        match label {
            Some(Label::Class(class)) => self.classes.push(class),
            Some(Label::Value(value)) => self.values.push(value),
            None => {}
        }
        if self.rows == 0 {
            self.first_ts = first.ts;
        }
        self.last_ts = last.ts;
        self.lengths.push(kept.len());
        self.rows += 1;
        Ok(())
    }

    /// The label is read first, so a failure leaves only features to roll back.
    fn push_row(&mut self, spec: &FeatureSpec, record: &Record) -> Result<(), String> {
        let label = match spec.label {
            Some(index) => Some(read_label(spec.label_kind, index, record)?),
            None => None,
        };
        push_features(&mut self.x, spec, record)?;
        match label {
            Some(Label::Class(class)) => self.classes.push(class),
            Some(Label::Value(value)) => self.values.push(value),
            None => {}
        }
        Ok(())
    }

    fn into_batch(self, spec: &FeatureSpec, seq: u64) -> Result<MiniBatch, OpError> {
        let rows = self.rows;
        let width = self
            .x
            .len()
            .checked_div(rows)
            .unwrap_or(spec.features.len());
        let x = Array2::from_shape_vec((rows, width), self.x)
            .map_err(|e| OpError::new(format!("Batch: feature matrix of {rows} rows: {e}")))?;
        let labels = match (spec.label, spec.label_kind) {
            (None, _) => Labels::Values(Array2::zeros((rows, 0))),
            (Some(_), LabelKind::Class { .. }) => Labels::Classes(self.classes),
            (Some(_), LabelKind::OneHot { classes }) => Labels::one_hot(&self.classes, classes)
                .map_err(|e| OpError::new(format!("Batch: one-hot labels: {e}")))?,
            (Some(_), LabelKind::Value) => Labels::Values(
                Array2::from_shape_vec((rows, 1), self.values)
                    .map_err(|e| OpError::new(format!("Batch: labels of {rows} rows: {e}")))?,
            ),
        };
        Ok(MiniBatch {
            x,
            labels,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            seq,
            total_rows: rows,
            lengths: (!self.lengths.is_empty()).then_some(self.lengths),
        })
    }
}

/// Appends a record's features, scaled; on error some may have been appended.
fn push_features(x: &mut Vec<f32>, spec: &FeatureSpec, record: &Record) -> Result<(), String> {
    let scale = f64::from(spec.scale);
    for &index in &spec.features {
        let Some(&value) = record.values.get(index) else {
            return Err(format!(
                "has no feature field {index} (it has {} fields)",
                record.values.len()
            ));
        };
        if !value.is_finite() {
            return Err(format!("feature field {index} is {value}"));
        }
        let scaled = (value * scale) as f32;
        if !scaled.is_finite() {
            return Err(format!(
                "feature field {index} = {value} times scale {scale} is too large for f32"
            ));
        }
        x.push(scaled);
    }
    Ok(())
}

enum Label {
    Class(usize),
    Value(f32),
}

impl Label {
    /// The larger of two labels of one kind.
    fn max(self, other: Label) -> Label {
        match (self, other) {
            (Label::Class(a), Label::Class(b)) => Label::Class(a.max(b)),
            (Label::Value(a), Label::Value(b)) => Label::Value(a.max(b)),
            (first, _) => first,
        }
    }
}

/// The record's label, or what is wrong with it.
fn read_label(kind: LabelKind, index: usize, record: &Record) -> Result<Label, String> {
    let Some(&label) = record.values.get(index) else {
        return Err(format!(
            "has no label field {index} (it has {} fields)",
            record.values.len()
        ));
    };
    if label.is_nan() {
        return Err("label is NaN".into());
    }
    match kind {
        LabelKind::Class { classes } | LabelKind::OneHot { classes } => {
            class_index(label, classes).map(Label::Class)
        }
        LabelKind::Value => {
            let value = label as f32;
            if value.is_finite() {
                Ok(Label::Value(value))
            } else {
                Err(format!("label {label} is not a finite f32 value"))
            }
        }
    }
}

/// A label as a class index in 0..classes.
fn class_index(label: f64, classes: usize) -> Result<usize, String> {
    if label.fract() != 0.0 || !label.is_finite() {
        return Err(format!("label {label} is not a whole class index"));
    }
    if label < 0.0 || label >= classes as f64 {
        let range = match classes {
            0 => "none".to_string(),
            n => format!("0..{}", n - 1),
        };
        return Err(format!(
            "label {label} is outside the {classes} classes ({range})"
        ));
    }
    Ok(label as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Key, WindowExtra, WindowTag};

    fn spec(label_kind: LabelKind) -> FeatureSpec {
        FeatureSpec {
            features: vec![0, 1],
            scale: 0.5,
            label: Some(2),
            label_kind,
        }
    }

    fn record(ts: i64, values: &[f64]) -> Record {
        Record {
            key: Key::text("k"),
            ts,
            values: values.iter().copied().collect(),
        }
    }

    /// Record i: features (i, 10·i), label i mod 3, event time 100 + i.
    fn records(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| {
                let f = i as f64;
                Item::Record(record(100 + i as i64, &[f, 10.0 * f, (i % 3) as f64]))
            })
            .collect()
    }

    fn batches(out: &mut Outputs) -> Vec<MiniBatch> {
        out.settle();
        out.ports[0]
            .iter()
            .filter_map(|i| match i {
                Item::Batch(b) => Some((**b).clone()),
                _ => None,
            })
            .collect()
    }

    fn run(op: &mut BatchOperator, items: Vec<Item>) -> Vec<MiniBatch> {
        let mut out = Outputs::new(1);
        op.on_batch(RECORDS_PORT, items, &mut out).unwrap();
        op.on_end(&mut out).unwrap();
        batches(&mut out)
    }

    #[test]
    fn every_size_records_form_a_batch_of_scaled_features_and_class_labels() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 2);
        let got = run(&mut op, records(4));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].x, ndarray::array![[0.0, 0.0], [0.5, 5.0]]);
        assert_eq!(got[1].x, ndarray::array![[1.0, 10.0], [1.5, 15.0]]);
        assert_eq!(got[0].labels, Labels::Classes(vec![0, 1]));
        assert_eq!(got[1].labels, Labels::Classes(vec![2, 0]));
        assert_eq!((got[0].seq, got[1].seq), (0, 1));
        assert_eq!((got[1].first_ts, got[1].last_ts), (102, 103));
        assert_eq!(got[1].total_rows, 2);
    }

    #[test]
    fn partial_last_batch_goes_out_at_end_of_input() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 4);
        let mut out = Outputs::new(1);
        op.on_batch(RECORDS_PORT, records(6), &mut out).unwrap();
        assert_eq!(batches(&mut out).len(), 1);
        assert_eq!(op.state_entries(), 2);
        op.on_end(&mut out).unwrap();
        let got = batches(&mut out);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].rows(), 2);
        assert_eq!((got[1].seq, got[1].first_ts, got[1].last_ts), (1, 104, 105));
    }

    #[test]
    fn nothing_goes_out_at_end_when_no_rows_are_left() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 2);
        assert_eq!(run(&mut op, records(4)).len(), 2);
        assert!(run(&mut op, vec![]).is_empty());
    }

    #[test]
    fn one_hot_labels_are_rows_of_width_classes() {
        let mut op = BatchOperator::new(spec(LabelKind::OneHot { classes: 4 }), 3);
        let got = run(&mut op, records(3));
        let expected = ndarray::array![
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0]
        ];
        assert_eq!(got[0].labels, Labels::OneHot(expected));
    }

    #[test]
    fn value_labels_are_one_column() {
        let mut op = BatchOperator::new(spec(LabelKind::Value), 3);
        let got = run(&mut op, records(3));
        assert_eq!(
            got[0].labels,
            Labels::Values(ndarray::array![[0.0], [1.0], [2.0]])
        );
    }

    #[test]
    fn without_a_label_field_labels_have_no_columns() {
        let spec = FeatureSpec {
            label: None,
            ..spec(LabelKind::Value)
        };
        let got = run(&mut BatchOperator::new(spec, 2), records(2));
        assert_eq!(got[0].labels, Labels::Values(Array2::zeros((2, 0))));
        assert_eq!(got[0].x.dim(), (2, 2));
    }

    fn window(rows: Vec<Record>, count: u64) -> Item {
        let mut first_stats = crate::stream::stats::Stats::default();
        (0..count).for_each(|_| first_stats.add(1.0));
        Item::Window(WindowResult {
            key: Key::text("w"),
            tag: WindowTag::Time,
            start: 0,
            end: 1000,
            ts: 999,
            first_stats,
            extra: Some(Box::new(WindowExtra {
                more_stats: vec![],
                rows,
            })),
        })
    }

    #[test]
    fn each_window_firing_becomes_one_batch_and_empty_ones_none() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 100);
        let three = vec![
            record(5, &[1.0, 2.0, 0.0]),
            record(6, &[3.0, 4.0, 1.0]),
            record(9, &[5.0, 6.0, 2.0]),
        ];
        let items = vec![
            window(three, 3),
            window(vec![], 0),
            window(vec![record(20, &[0.0, 0.0, 1.0])], 1),
        ];
        let mut out = Outputs::new(1);
        op.on_batch(WINDOWS_PORT, items, &mut out).unwrap();
        let got = batches(&mut out);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].x,
            ndarray::array![[0.5, 1.0], [1.5, 2.0], [2.5, 3.0]]
        );
        assert_eq!(got[0].labels, Labels::Classes(vec![0, 1, 2]));
        assert_eq!((got[0].first_ts, got[0].last_ts, got[0].seq), (5, 9, 0));
        assert_eq!((got[1].rows(), got[1].seq), (1, 1));
    }

    #[test]
    fn window_that_dropped_its_rows_is_an_error() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 10);
        let err = op
            .on_item(WINDOWS_PORT, window(vec![], 4), &mut Outputs::new(1))
            .unwrap_err();
        assert!(
            err.0.contains("has 4 records but carried none"),
            "{}",
            err.0
        );
    }

    fn error_for(kind: LabelKind, values: &[f64]) -> String {
        let mut op = BatchOperator::new(spec(kind), 10);
        let item = Item::Record(record(42, values));
        op.on_item(RECORDS_PORT, item, &mut Outputs::new(1))
            .unwrap_err()
            .0
    }

    #[test]
    fn bad_labels_are_errors_that_name_the_record() {
        let ten = LabelKind::Class { classes: 10 };
        assert_eq!(
            error_for(ten, &[0.0, 0.0, 12.0]),
            "record key=k ts=42: label 12 is outside the 10 classes (0..9)"
        );
        assert_eq!(
            error_for(LabelKind::OneHot { classes: 2 }, &[0.0, 0.0, -1.0]),
            "record key=k ts=42: label -1 is outside the 2 classes (0..1)"
        );
        assert_eq!(
            error_for(ten, &[0.0, 0.0, 1.5]),
            "record key=k ts=42: label 1.5 is not a whole class index"
        );
        assert_eq!(
            error_for(LabelKind::Value, &[0.0, 0.0, f64::NAN]),
            "record key=k ts=42: label is NaN"
        );
        assert_eq!(
            error_for(ten, &[0.0, 0.0]),
            "record key=k ts=42: has no label field 2 (it has 2 fields)"
        );
    }

    #[test]
    fn bad_features_are_errors_that_name_the_record() {
        let ten = LabelKind::Class { classes: 10 };
        assert_eq!(
            error_for(ten, &[0.0, f64::NAN, 1.0]),
            "record key=k ts=42: feature field 1 is NaN"
        );
        let spec = FeatureSpec {
            features: vec![0, 5],
            ..spec(ten)
        };
        let mut op = BatchOperator::new(spec, 10);
        let err = op.on_item(
            RECORDS_PORT,
            Item::Record(record(42, &[1.0, 2.0, 3.0])),
            &mut Outputs::new(1),
        );
        assert_eq!(
            err.unwrap_err().0,
            "record key=k ts=42: has no feature field 5 (it has 3 fields)"
        );
    }

    #[test]
    fn a_rejected_record_leaves_no_trace_in_the_batch() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 2);
        let mut out = Outputs::new(1);
        op.on_item(
            RECORDS_PORT,
            Item::Record(record(1, &[1.0, 2.0, 0.0])),
            &mut out,
        )
        .unwrap();
        assert!(
            op.on_item(
                RECORDS_PORT,
                Item::Record(record(2, &[3.0, 4.0, 7.0])),
                &mut out
            )
            .is_err()
        );
        op.on_item(
            RECORDS_PORT,
            Item::Record(record(3, &[5.0, 6.0, 1.0])),
            &mut out,
        )
        .unwrap();
        let got = batches(&mut out);
        assert_eq!(got[0].x, ndarray::array![[0.5, 1.0], [2.5, 3.0]]);
        assert_eq!(got[0].labels, Labels::Classes(vec![0, 1]));
    }

    #[test]
    fn in_sequence_mode_each_window_is_one_sample_padded_on_the_left() {
        let spec = FeatureSpec {
            features: vec![0, 1],
            scale: 1.0,
            label: Some(2),
            label_kind: LabelKind::Class { classes: 3 },
        };
        let mut op = BatchOperator::new(spec, 2).with_sequence(SequenceSpec {
            steps: 3,
            label: SequenceLabel::Last,
        });
        let r = |ts: i64, a: f64, label: f64| record(ts, &[a, -a, label]);
        let items = vec![
            // Four records: the oldest is dropped; the label is the last record's.
            window(
                vec![
                    r(1, 1.0, 0.0),
                    r(2, 2.0, 0.0),
                    r(3, 3.0, 0.0),
                    r(4, 4.0, 2.0),
                ],
                4,
            ),
            // One record: two steps of padding.
            window(vec![r(7, 7.0, 1.0)], 1),
            window(vec![r(9, 9.0, 0.0), r(10, 10.0, 1.0)], 2),
        ];
        let mut out = Outputs::new(1);
        op.on_batch(WINDOWS_PORT, items, &mut out).unwrap();
        op.on_end(&mut out).unwrap();
        let got = batches(&mut out);
        assert_eq!(got.len(), 2, "two samples per batch, the last one partial");
        assert_eq!(
            got[0].x,
            ndarray::array![
                [2.0, -2.0, 3.0, -3.0, 4.0, -4.0],
                [0.0, 0.0, 0.0, 0.0, 7.0, -7.0]
            ]
        );
        assert_eq!(got[0].lengths, Some(vec![3, 1]));
        assert_eq!(got[0].labels, Labels::Classes(vec![2, 1]));
        assert_eq!((got[0].first_ts, got[0].last_ts), (2, 7));
        assert_eq!(got[1].lengths, Some(vec![2]));
        assert_eq!(
            got[1].x,
            ndarray::array![[0.0, 0.0, 9.0, -9.0, 10.0, -10.0]]
        );
    }

    #[test]
    fn in_sequence_mode_records_are_refused_and_a_bad_window_leaves_no_trace() {
        let spec = spec(LabelKind::Class { classes: 3 });
        let mut op = BatchOperator::new(spec, 10).with_sequence(SequenceSpec {
            steps: 2,
            label: SequenceLabel::Last,
        });
        let mut out = Outputs::new(1);
        let err = op
            .on_item(
                RECORDS_PORT,
                Item::Record(record(1, &[0.0, 0.0, 0.0])),
                &mut out,
            )
            .unwrap_err();
        assert!(err.0.contains("takes window firings"), "{}", err.0);
        let bad = window(
            vec![
                record(1, &[1.0, 1.0, 0.0]),
                record(2, &[f64::NAN, 1.0, 1.0]),
            ],
            2,
        );
        let err = op.on_item(WINDOWS_PORT, bad, &mut out).unwrap_err();
        assert_eq!(
            err.0,
            "window of 2 records ending at key=k ts=2: record key=k ts=2: feature field 0 is NaN"
        );
        op.on_item(
            WINDOWS_PORT,
            window(vec![record(3, &[2.0, 4.0, 1.0])], 1),
            &mut out,
        )
        .unwrap();
        op.on_end(&mut out).unwrap();
        let got = batches(&mut out);
        assert_eq!(got[0].x, ndarray::array![[0.0, 0.0, 1.0, 2.0]]);
        assert_eq!(got[0].labels, Labels::Classes(vec![1]));
    }

    #[test]
    fn negative_sampling_adds_rows_with_random_ids_labelled_zero() {
        let spec = FeatureSpec {
            features: vec![0, 1],
            scale: 1.0,
            label: Some(2),
            label_kind: LabelKind::Class { classes: 2 },
        };
        let negatives = NegativeSampling {
            column: 1,
            ids: 50,
            per_record: 3,
            seed: 5,
        };
        let mut op = BatchOperator::new(spec, 8).with_negatives(negatives);
        let clicks = (0..4)
            .map(|i| Item::Record(record(i, &[i as f64, 100.0 + i as f64, 1.0])))
            .collect();
        let got = run(&mut op, clicks);
        // 4 rows per click: two full batches of 8.
        assert_eq!(got.iter().map(MiniBatch::rows).collect::<Vec<_>>(), [8, 8]);
        let x =
            ndarray::concatenate(ndarray::Axis(0), &[got[0].x.view(), got[1].x.view()]).unwrap();
        let mut distinct = std::collections::BTreeSet::new();
        for (row, values) in x.rows().into_iter().enumerate() {
            let click = (row / 4) as f32;
            assert_eq!(values[0], click, "the user column is copied");
            if row % 4 == 0 {
                assert_eq!(values[1], 100.0 + click);
            } else {
                assert!((0.0..50.0).contains(&values[1]) && values[1].fract() == 0.0);
                distinct.insert(values[1] as u32);
            }
        }
        assert!(distinct.len() > 6, "ids are drawn at random: {distinct:?}");
        assert_eq!(got[0].labels, Labels::Classes(vec![1, 0, 0, 0, 1, 0, 0, 0]));
        // Same seed, same negatives.
        let again = BatchOperator::new(op.spec.clone(), 8).with_negatives(negatives);
        let clicks = (0..4)
            .map(|i| Item::Record(record(i, &[i as f64, 100.0 + i as f64, 1.0])))
            .collect();
        assert_eq!(run(&mut { again }, clicks)[1].x, got[1].x);
    }

    #[test]
    fn watermarks_pass_through() {
        let mut op = BatchOperator::new(spec(LabelKind::Class { classes: 3 }), 2);
        let mut out = Outputs::new(1);
        let mut items = records(1);
        items.push(Item::Watermark(100));
        op.on_batch(RECORDS_PORT, items, &mut out).unwrap();
        out.settle();
        assert_eq!(out.ports[0], vec![Item::Watermark(100)]);
    }
}
