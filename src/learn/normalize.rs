//! The Normalize operator: standardises chosen fields with their running mean and variance
//! (Welford's method), one pass, each record scaled by statistics that already include it.
//! It never reorders, drops or delays records, and never touches fields it was not given.

use crate::stream::{Item, OpError, OpResult, Operator, Outputs, Record};

/// Running mean and variance of one field by Welford's method (stable without a second pass).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WelfordStats {
    pub count: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
}

impl WelfordStats {
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Population standard deviation (divides by n, as scikit-learn's `StandardScaler`);
    /// 0 before any value.
    pub fn std(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.m2 / self.count as f64).max(0.0).sqrt()
        }
    }

    /// (x − mean) / std, or 0 when the standard deviation is 0 (e.g. the first value).
    pub fn standardise(&self, x: f64) -> f64 {
        let std = self.std();
        if std > 0.0 {
            (x - self.mean) / std
        } else {
            0.0
        }
    }
}

/// Standardises the listed fields of every record: the field's statistics are first updated
/// with the record's value, then the value is replaced by (x − mean) / std (0 while std = 0).
/// An empty list standardises every field. A non-finite value (NaN, ±∞) passes unchanged and
/// is left out of the statistics, so one bad reading cannot poison the rest of the stream.
pub struct NormalizeOperator {
    /// Fields to standardise; empty = all.
    field_indices: Vec<usize>,
    /// Statistics per listed field (in `field_indices` order), or per field when all are.
    stats: Vec<WelfordStats>,
}

impl NormalizeOperator {
    /// A field listed twice is standardised once.
    pub fn new(mut field_indices: Vec<usize>) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        field_indices.retain(|&i| seen.insert(i));
        let stats = vec![WelfordStats::default(); field_indices.len()];
        Self {
            field_indices,
            stats,
        }
    }

    /// The running statistics, in the order of the listed fields (or of all fields).
    pub fn stats(&self) -> &[WelfordStats] {
        &self.stats
    }

    fn normalise(&mut self, record: &mut Record) -> OpResult {
        if self.field_indices.is_empty() {
            if self.stats.len() < record.values.len() {
                self.stats
                    .resize(record.values.len(), WelfordStats::default());
            }
            for (value, stats) in record.values.iter_mut().zip(&mut self.stats) {
                update_and_scale(value, stats);
            }
            return Ok(());
        }
        // Check every field first so a bad record leaves the statistics untouched.
        if let Some(&missing) = self
            .field_indices
            .iter()
            .find(|&&i| i >= record.values.len())
        {
            return Err(OpError::new(format!(
                "record key={} ts={}: has no field {missing} to normalize (it has {} fields)",
                record.key,
                record.ts,
                record.values.len()
            )));
        }
        for (&index, stats) in self.field_indices.iter().zip(&mut self.stats) {
            if let Some(value) = record.values.get_mut(index) {
                update_and_scale(value, stats);
            }
        }
        Ok(())
    }
}

fn update_and_scale(value: &mut f64, stats: &mut WelfordStats) {
    if value.is_finite() {
        stats.add(*value);
        *value = stats.standardise(*value);
    }
}

impl Operator for NormalizeOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        match item {
            Item::Record(mut record) => {
                self.normalise(&mut record)?;
                out.push(0, Item::Record(record));
                Ok(())
            }
            Item::Watermark(w) => self.on_watermark(w, out),
            Item::Window(_) | Item::Batch(_) | Item::Model(_) => Err(OpError::new(
                "Normalize takes records, got a window result, batch or model",
            )),
        }
    }

    fn state_entries(&self) -> usize {
        self.stats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Key;

    fn record(ts: i64, values: &[f64]) -> Item {
        Item::Record(Record {
            key: Key::text("k"),
            ts,
            values: values.iter().copied().collect(),
        })
    }

    fn run(op: &mut NormalizeOperator, items: Vec<Item>) -> Vec<Vec<f64>> {
        let mut out = Outputs::new(1);
        op.on_batch(0, items, &mut out).unwrap();
        out.settle();
        out.ports[0]
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r.values.to_vec()),
                _ => None,
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn listed_field_is_scaled_by_statistics_that_include_it() {
        // Field 1 sees 2, 4, 9. By hand (population variance):
        //   after 2: mean 2, std 0 → 0
        //   after 4: mean 3, var ((1 + 1) / 2) = 1 → (4 − 3) / 1 = 1
        //   after 9: mean 5, var ((9 + 1 + 16) / 3) = 26/3 → (9 − 5) / √(26/3)
        let mut op = NormalizeOperator::new(vec![1]);
        let rows = run(
            &mut op,
            vec![
                record(1, &[10.0, 2.0]),
                record(2, &[20.0, 4.0]),
                record(3, &[30.0, 9.0]),
            ],
        );
        assert_eq!(rows[0], vec![10.0, 0.0]);
        assert_eq!(rows[1], vec![20.0, 1.0]);
        assert_eq!(rows[2][0], 30.0);
        assert!(
            close(rows[2][1], 4.0 / (26.0f64 / 3.0).sqrt()),
            "{}",
            rows[2][1]
        );
    }

    #[test]
    fn welford_matches_the_two_pass_formula() {
        let values: Vec<f64> = (0..1000).map(|i| 1e6 + (i as f64 * 0.37).sin()).collect();
        let mut stats = WelfordStats::default();
        values.iter().for_each(|&v| stats.add(v));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        assert!((stats.mean - mean).abs() < 1e-6);
        assert!((stats.std() - var.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn constant_field_standardises_to_zero() {
        let mut op = NormalizeOperator::new(vec![0]);
        let rows = run(&mut op, (0..5).map(|t| record(t, &[3.5])).collect());
        assert!(rows.iter().all(|r| r[0] == 0.0));
    }

    #[test]
    fn empty_list_standardises_every_field_separately() {
        let mut op = NormalizeOperator::new(vec![]);
        let rows = run(
            &mut op,
            vec![record(1, &[1.0, 100.0]), record(2, &[3.0, 300.0])],
        );
        assert_eq!(rows, vec![vec![0.0, 0.0], vec![1.0, 1.0]]);
        assert_eq!(op.stats().len(), 2);
    }

    #[test]
    fn nan_passes_unchanged_and_leaves_the_statistics_alone() {
        let mut op = NormalizeOperator::new(vec![0]);
        let rows = run(
            &mut op,
            vec![record(1, &[2.0]), record(2, &[f64::NAN]), record(3, &[4.0])],
        );
        assert!(rows[1][0].is_nan());
        assert_eq!(rows[2][0], 1.0);
        assert_eq!(op.stats()[0].count, 2);
    }

    #[test]
    fn missing_field_is_an_error_naming_the_record() {
        let mut op = NormalizeOperator::new(vec![0, 2]);
        let err = op
            .on_item(0, record(7, &[1.0, 2.0]), &mut Outputs::new(1))
            .unwrap_err();
        assert_eq!(
            err.0,
            "record key=k ts=7: has no field 2 to normalize (it has 2 fields)"
        );
        assert_eq!(op.stats()[0].count, 0);
    }

    #[test]
    fn field_listed_twice_is_standardised_once() {
        let mut op = NormalizeOperator::new(vec![0, 0]);
        let rows = run(&mut op, vec![record(1, &[1.0]), record(2, &[3.0])]);
        assert_eq!(rows, vec![vec![0.0], vec![1.0]]);
    }

    #[test]
    fn watermarks_pass_through() {
        let mut op = NormalizeOperator::new(vec![0]);
        let mut out = Outputs::new(1);
        op.on_batch(0, vec![record(1, &[1.0]), Item::Watermark(1)], &mut out)
            .unwrap();
        out.settle();
        assert_eq!(out.ports[0].last(), Some(&Item::Watermark(1)));
    }
}
