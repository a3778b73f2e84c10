//! The Split operator: routes each record to `train` (port 0) or `test` (port 1) by a seeded
//! hash of its position or of its key. A router: it never creates, drops or changes a record,
//! and its decisions depend only on (seed, position or key), never on time or thread.

use crate::stream::partition::stable_key_hash;
use crate::stream::{Item, Key, OpError, OpResult, Operator, Outputs};

/// Output port of the training part.
pub const TRAIN_PORT: usize = 0;
/// Output port of the held-out part.
pub const TEST_PORT: usize = 1;

/// Splits records into train and test. Random mode: record n (counted from 0 by this operator
/// instance) goes to train iff a seeded hash of (seed, n), mapped to [0, 1), is below
/// `train_ratio`. By key: a seeded hash of the key decides for every record of that key.
/// Watermarks go to both ports.
pub struct SplitOperator {
    /// In [0, 1]: 0 sends everything to test, 1 everything to train.
    train_ratio: f64,
    by_key: bool,
    seed: u64,
    /// Records seen so far (the position of the next one).
    position: u64,
}

impl SplitOperator {
    /// `train_ratio` is clamped to [0, 1]; NaN counts as 0 (everything to test).
    pub fn new(train_ratio: f64, by_key: bool, seed: u64) -> Self {
        let train_ratio = if train_ratio.is_nan() {
            0.0
        } else {
            train_ratio.clamp(0.0, 1.0)
        };
        Self {
            train_ratio,
            by_key,
            seed,
            position: 0,
        }
    }

    /// Whether the next record (with this key) goes to train; advances the position.
    fn goes_to_train(&mut self, key: &Key) -> bool {
        let hash = if self.by_key {
            splitmix64(stable_key_hash(key) ^ splitmix64(self.seed))
        } else {
            splitmix64(splitmix64(self.seed) ^ self.position)
        };
        self.position += 1;
        unit_interval(hash) < self.train_ratio
    }
}

impl Operator for SplitOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        match item {
            Item::Record(record) => {
                let port = if self.goes_to_train(&record.key) {
                    TRAIN_PORT
                } else {
                    TEST_PORT
                };
                out.push(port, Item::Record(record));
                Ok(())
            }
            Item::Watermark(w) => self.on_watermark(w, out),
            Item::Window(_) | Item::Batch(_) | Item::Model(_) => Err(OpError::new(format!(
                "Split takes records, got {}",
                item_kind(&item)
            ))),
        }
    }
}

fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Record(_) => "a record",
        Item::Window(_) => "a window result",
        Item::Batch(_) => "a mini-batch",
        Item::Model(_) => "a model snapshot",
        Item::Watermark(_) => "a watermark",
    }
}

/// The top 53 bits of `hash` as a uniform number in [0, 1).
fn unit_interval(hash: u64) -> f64 {
    (hash >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Record;
    use std::collections::BTreeMap;

    fn record(key: i64, ts: i64) -> Item {
        Item::Record(Record {
            key: Key::Int(key),
            ts,
            values: smallvec::smallvec![ts as f64],
        })
    }

    /// Event times sent to (train, test).
    fn split(op: &mut SplitOperator, items: Vec<Item>) -> (Vec<i64>, Vec<i64>) {
        let mut out = Outputs::new(2);
        op.on_batch(0, items, &mut out).unwrap();
        out.settle();
        let ts = |port: usize| -> Vec<i64> {
            out.ports[port]
                .iter()
                .filter_map(|i| match i {
                    Item::Record(r) => Some(r.ts),
                    _ => None,
                })
                .collect()
        };
        (ts(TRAIN_PORT), ts(TEST_PORT))
    }

    fn records(n: i64) -> Vec<Item> {
        (0..n).map(|i| record(i % 97, i)).collect()
    }

    #[test]
    fn random_split_respects_the_ratio_and_keeps_every_record() {
        let (train, test) = split(&mut SplitOperator::new(0.8, false, 7), records(20_000));
        assert_eq!(train.len() + test.len(), 20_000);
        let share = train.len() as f64 / 20_000.0;
        assert!((share - 0.8).abs() < 0.01, "train share {share}");
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() {
        let a = split(&mut SplitOperator::new(0.5, false, 3), records(1000));
        let b = split(&mut SplitOperator::new(0.5, false, 3), records(1000));
        let c = split(&mut SplitOperator::new(0.5, false, 4), records(1000));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn position_counts_across_calls() {
        let whole = split(&mut SplitOperator::new(0.5, false, 3), records(1000));
        let mut op = SplitOperator::new(0.5, false, 3);
        let mut items = records(1000);
        let rest = items.split_off(400);
        let (mut train, mut test) = split(&mut op, items);
        let (train2, test2) = split(&mut op, rest);
        train.extend(train2);
        test.extend(test2);
        assert_eq!((train, test), whole);
    }

    #[test]
    fn ratio_zero_sends_all_to_test_and_one_all_to_train() {
        let (train, test) = split(&mut SplitOperator::new(0.0, false, 1), records(500));
        assert_eq!((train.len(), test.len()), (0, 500));
        let (train, test) = split(&mut SplitOperator::new(1.0, false, 1), records(500));
        assert_eq!((train.len(), test.len()), (500, 0));
        let (train, test) = split(&mut SplitOperator::new(1.0, true, 1), records(500));
        assert_eq!((train.len(), test.len()), (500, 0));
        let (train, _) = split(&mut SplitOperator::new(f64::NAN, false, 1), records(50));
        assert!(train.is_empty());
    }

    #[test]
    fn split_by_key_keeps_each_key_on_one_side() {
        let items = records(5000);
        let keys: BTreeMap<i64, i64> = (0..5000).map(|ts| (ts, ts % 97)).collect();
        let (train, test) = split(&mut SplitOperator::new(0.7, true, 11), items);
        let train_keys: std::collections::BTreeSet<i64> = train.iter().map(|t| keys[t]).collect();
        let test_keys: std::collections::BTreeSet<i64> = test.iter().map(|t| keys[t]).collect();
        assert!(train_keys.is_disjoint(&test_keys));
        assert_eq!(train_keys.len() + test_keys.len(), 97);
        let share = train_keys.len() as f64 / 97.0;
        assert!((0.5..0.9).contains(&share), "train key share {share}");
    }

    #[test]
    fn watermarks_go_to_both_ports() {
        let mut op = SplitOperator::new(0.5, false, 1);
        let mut out = Outputs::new(2);
        op.on_batch(0, vec![record(1, 5), Item::Watermark(5)], &mut out)
            .unwrap();
        out.settle();
        for port in [TRAIN_PORT, TEST_PORT] {
            assert_eq!(out.ports[port].last(), Some(&Item::Watermark(5)));
        }
    }

    #[test]
    fn window_results_are_refused_with_a_clear_error() {
        let window = crate::stream::WindowResult {
            key: Key::Int(1),
            tag: crate::stream::WindowTag::Count,
            start: 0,
            end: 1,
            ts: 1,
            first_stats: Default::default(),
            extra: None,
        };
        let err = SplitOperator::new(0.5, false, 1)
            .on_item(0, Item::Window(window), &mut Outputs::new(2))
            .unwrap_err();
        assert_eq!(err.0, "Split takes records, got a window result");
    }
}
