//! The Batch operator: stacks records (port 0) or a window firing's records (port 1) into
//! mini-batches of features and labels, as a [`FeatureSpec`] reads them.
//! It validates every label and feature and never emits a batch with a bad row in it; it
//! allocates per batch, never per record.

use std::sync::Arc;

use ndarray::Array2;

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
    /// The batch being filled from port 0.
    filling: RowBuffer,
    next_seq: u64,
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
        }
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
            Item::Record(record) => {
                self.filling.push(&self.spec, &record)?;
                if self.filling.rows >= self.size {
                    self.flush(out)?;
                }
                Ok(())
            }
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

    /// The label is read first, so a failure leaves only features to roll back.
    fn push_row(&mut self, spec: &FeatureSpec, record: &Record) -> Result<(), String> {
        let label = match spec.label {
            Some(index) => Some(read_label(spec.label_kind, index, record)?),
            None => None,
        };
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
            self.x.push(scaled);
        }
        match label {
            Some(Label::Class(class)) => self.classes.push(class),
            Some(Label::Value(value)) => self.values.push(value),
            None => {}
        }
        Ok(())
    }

    fn into_batch(self, spec: &FeatureSpec, seq: u64) -> Result<MiniBatch, OpError> {
        let rows = self.rows;
        let x = Array2::from_shape_vec((rows, spec.features.len()), self.x)
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
        })
    }
}

enum Label {
    Class(usize),
    Value(f32),
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
