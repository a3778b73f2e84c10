//! Taps: cheap looks at what passes through a node, for the live views of the UI. A data
//! preview keeps the last records of each output port, but only while someone watches (one
//! relaxed load per batch otherwise); a skew tap counts a partition's records per sub-stream and
//! its hottest keys; late records are sampled as they go to a window's `late` port.

use crate::catalog::PortType;
use crate::format::event_time;
use crate::stream::{Item, Key, Schema};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Rows a data preview keeps per port.
pub const PREVIEW_ROWS: usize = 50;
/// Keys a skew tap tracks (space-saving: the heaviest keys stay, rare ones are replaced).
/// Enough that a stream over a thousand keys in turn rarely prunes: pruning a full summary
/// every batch was a tenth of a source thread's time in `bench-window-dense.ron`.
const TRACKED_KEYS: usize = 512;
/// A skew tap looks at every n-th record's key.
pub const KEY_SAMPLE_EVERY: u64 = 8;

/// The last records that left one output port, as text cells under their headers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortPreview {
    pub port: usize,
    pub headers: Vec<String>,
    /// Oldest first.
    pub rows: Vec<Vec<String>>,
}

/// Column headers of a preview of a port of this type and schema.
pub fn preview_headers(ty: PortType, schema: &Schema) -> Vec<String> {
    let fixed: &[&str] = match ty {
        PortType::Records | PortType::Metrics => &["key", "time"],
        PortType::Windows => &["key", "start", "end", "count", "mean", "min", "max"],
        PortType::Batches => &["rows", "first time", "last time", "seq"],
        PortType::Model => &["step", "final"],
        PortType::Tensor => &["item"],
    };
    let mut headers: Vec<String> = fixed.iter().map(|s| (*s).to_owned()).collect();
    if matches!(ty, PortType::Records | PortType::Metrics) {
        headers.extend(schema.fields.iter().cloned());
    }
    headers
}

/// A number as a preview shows it: integers without a fraction, others to 6 significant digits.
pub fn format_value(v: f64) -> String {
    crate::format::value(v)
}

/// One item as preview cells (watermarks are not rows).
pub fn preview_cells(item: &Item) -> Option<Vec<String>> {
    match item {
        Item::Record(r) => {
            let mut cells = vec![r.key.to_string(), event_time(r.ts)];
            cells.extend(r.values.iter().map(|v| format_value(*v)));
            Some(cells)
        }
        Item::Window(w) => {
            let s = &w.first_stats;
            Some(vec![
                w.key.to_string(),
                event_time(w.start),
                event_time(w.end),
                s.count.to_string(),
                format_value(s.mean()),
                format_value(s.min),
                format_value(s.max),
            ])
        }
        Item::Batch(b) => Some(vec![
            b.rows().to_string(),
            event_time(b.first_ts),
            event_time(b.last_ts),
            b.seq.to_string(),
        ]),
        Item::Model(m) => Some(vec![m.step.to_string(), m.is_final.to_string()]),
        Item::Watermark(_) => None,
    }
}

/// The preview of one node: off until the UI asks for it.
#[derive(Debug, Default)]
pub struct PreviewTap {
    on: AtomicBool,
    headers: Vec<Vec<String>>,
    rows: Mutex<Vec<VecDeque<Vec<String>>>>,
}

impl PreviewTap {
    /// A tap for a node with these port headers.
    pub fn new(headers: Vec<Vec<String>>) -> Self {
        let rows = headers.iter().map(|_| VecDeque::new()).collect();
        Self {
            on: AtomicBool::new(false),
            headers,
            rows: Mutex::new(rows),
        }
    }

    pub fn set_watching(&self, on: bool) {
        self.on.store(on, Relaxed);
    }

    pub fn watching(&self) -> bool {
        self.on.load(Relaxed)
    }

    /// Keeps the newest rows of a batch leaving `port` (called only while watching).
    pub fn record(&self, port: usize, batch: &[Item]) {
        let newest: Vec<Vec<String>> = batch
            .iter()
            .rev()
            .filter_map(preview_cells)
            .take(PREVIEW_ROWS)
            .collect();
        let Ok(mut rows) = self.rows.lock() else {
            return;
        };
        let Some(ring) = rows.get_mut(port) else {
            return;
        };
        ring.extend(newest.into_iter().rev());
        while ring.len() > PREVIEW_ROWS {
            ring.pop_front();
        }
    }

    /// The rows of every port, while watching; empty otherwise.
    pub fn snapshot(&self) -> Vec<PortPreview> {
        if !self.watching() {
            return Vec::new();
        }
        let Ok(rows) = self.rows.lock() else {
            return Vec::new();
        };
        self.headers
            .iter()
            .zip(rows.iter())
            .enumerate()
            .map(|(port, (headers, ring))| PortPreview {
                port,
                headers: headers.clone(),
                rows: ring.iter().cloned().collect(),
            })
            .collect()
    }
}

/// Records per sub-stream and the hottest keys of a partition node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkewStats {
    /// Records sent to each downstream instance.
    pub per_substream: Vec<u64>,
    /// Estimated records per key (sampled every `KEY_SAMPLE_EVERY`-th record, scaled back up),
    /// heaviest first.
    pub hot_keys: Vec<(String, u64)>,
}

/// A partition exchange's counts, gathered locally over a batch and merged once per batch.
/// Keys are sampled at a stride of `KEY_SAMPLE_EVERY` from a random offset that changes every
/// batch, so periodic streams (keys in turn) do not alias with the stride and the hot path
/// costs one increment per record.
#[derive(Debug)]
pub struct SkewTap {
    per_target: Vec<u64>,
    /// Xorshift state for the per-batch offset.
    state: u64,
    offset: usize,
    keys: FxHashMap<Key, u64>,
}

impl SkewTap {
    /// A tap for an exchange to `targets` downstream instances.
    pub fn new(targets: usize) -> Self {
        Self {
            per_target: vec![0; targets.max(1)],
            state: 0x9e37_79b9_7f4a_7c15,
            offset: 0,
            keys: FxHashMap::default(),
        }
    }

    /// Counts the record at position `index` of its batch, sent to `target`.
    pub fn count(&mut self, target: usize, key: &Key, index: usize) {
        if let Some(c) = self.per_target.get_mut(target) {
            *c += 1;
        }
        if index % KEY_SAMPLE_EVERY as usize == self.offset {
            *self.keys.entry(key.clone()).or_insert(0) += 1;
        }
    }

    /// Counts a whole batch sent to one target.
    pub fn count_batch(&mut self, batch: &[Item]) {
        let mut records = 0;
        for (index, item) in batch.iter().enumerate() {
            if let Item::Record(r) = item {
                records += 1;
                if index % KEY_SAMPLE_EVERY as usize == self.offset {
                    *self.keys.entry(r.key.clone()).or_insert(0) += 1;
                }
            }
        }
        if let Some(c) = self.per_target.first_mut() {
            *c += records;
        }
    }

    /// Adds this batch's counts to the node's shared totals and starts afresh.
    pub fn merge_into(&mut self, shared: &Mutex<SkewTotals>) {
        if self.per_target.iter().all(|c| *c == 0) {
            return;
        }
        let Ok(mut totals) = shared.lock() else {
            return;
        };
        totals.add(&self.per_target, self.keys.drain());
        self.per_target.iter_mut().for_each(|c| *c = 0);
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.offset = (self.state % KEY_SAMPLE_EVERY) as usize;
    }
}

/// Running totals of a partition node, shared by its instances.
#[derive(Debug, Default)]
pub struct SkewTotals {
    per_substream: Vec<u64>,
    /// Space-saving summary: at most 2 × `TRACKED_KEYS` keys with (over-)estimated sample counts.
    keys: FxHashMap<Key, u64>,
    /// The heaviest count of a key dropped so far: a key not tracked had at most this many.
    floor: u64,
}

impl SkewTotals {
    fn add(&mut self, per_target: &[u64], keys: impl Iterator<Item = (Key, u64)>) {
        if self.per_substream.len() < per_target.len() {
            self.per_substream.resize(per_target.len(), 0);
        }
        for (total, add) in self.per_substream.iter_mut().zip(per_target) {
            *total += add;
        }
        for (key, count) in keys {
            if let Some(c) = self.keys.get_mut(&key) {
                *c += count;
                continue;
            }
            if self.keys.len() >= 2 * TRACKED_KEYS {
                self.prune();
            }
            // A key seen before may have been dropped with up to `floor` counts: the estimate
            // stays an upper bound, as in space-saving.
            self.keys.insert(key, self.floor + count);
        }
    }

    /// Keeps the `TRACKED_KEYS` heaviest keys. Pruning in bulk when twice as many are held
    /// costs O(1) per new key; replacing the lightest key one at a time scanned every tracked
    /// key for each new one (a third of the source thread's time with 1,000 keys in turn).
    fn prune(&mut self) {
        let mut counts: Vec<u64> = self.keys.values().copied().collect();
        let Some(cut) = counts.len().checked_sub(TRACKED_KEYS) else {
            return;
        };
        let (_, threshold, _) = counts.select_nth_unstable(cut);
        let threshold = *threshold;
        let mut ties_to_drop = counts[..cut].iter().filter(|&&c| c == threshold).count();
        let mut dropped_max = self.floor;
        self.keys.retain(|_, c| {
            let keep = if *c < threshold {
                false
            } else if *c == threshold && ties_to_drop > 0 {
                ties_to_drop -= 1;
                false
            } else {
                true
            };
            if !keep {
                dropped_max = dropped_max.max(*c);
            }
            keep
        });
        self.floor = dropped_max;
    }

    pub fn stats(&self) -> SkewStats {
        let mut hot_keys: Vec<(String, u64)> = self
            .keys
            .iter()
            .map(|(k, c)| (k.to_string(), c * KEY_SAMPLE_EVERY))
            .collect();
        hot_keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        hot_keys.truncate(10);
        SkewStats {
            per_substream: self.per_substream.clone(),
            hot_keys,
        }
    }
}

/// A late record as a window timeline marks it.
#[derive(Clone, Debug, PartialEq)]
pub struct LateSample {
    pub key: String,
    pub ts: i64,
}

/// Late records sampled per batch, and how many wait for telemetry at most.
const LATE_PER_BATCH: usize = 16;
const LATE_PENDING: usize = 2048;

/// Keeps a few late records of a batch for the timeline.
pub fn sample_late(pending: &Mutex<Vec<LateSample>>, batch: &[Item]) {
    let Ok(mut pending) = pending.lock() else {
        return;
    };
    if pending.len() >= LATE_PENDING {
        return;
    }
    pending.extend(
        batch
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(LateSample {
                    key: r.key.to_string(),
                    ts: r.ts,
                }),
                _ => None,
            })
            .take(LATE_PER_BATCH),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_for_reading() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(1.0 / 3.0), "0.333333");
        assert_eq!(format_value(f64::NAN), "NaN");
    }

    #[test]
    fn a_hot_key_survives_many_rare_ones() {
        let totals = Mutex::new(SkewTotals::default());
        let mut tap = SkewTap::new(3);
        for i in 0..100_000u64 {
            let key = if i % 2 == 0 {
                Key::Int(7)
            } else {
                Key::Int(i as i64)
            };
            tap.count((i % 3) as usize, &key, (i % 1000) as usize);
            if i % 1000 == 999 {
                tap.merge_into(&totals);
            }
        }
        let stats = totals.lock().map(|t| t.stats()).unwrap_or_default();
        assert!(totals.lock().unwrap().keys.len() <= 2 * TRACKED_KEYS);
        assert_eq!(stats.per_substream.iter().sum::<u64>(), 100_000);
        assert_eq!(stats.per_substream.len(), 3);
        let (hottest, count) = stats.hot_keys.first().cloned().unwrap_or_default();
        assert_eq!(hottest, "7");
        // Half of the records, estimated from a 1-in-8 sample.
        assert!((40_000..=60_000).contains(&count), "{count}");
    }

    #[test]
    fn a_preview_keeps_the_newest_rows_only_while_watched() {
        let tap = PreviewTap::new(vec![vec!["key".into(), "time".into(), "v".into()]]);
        let record = |i: i64| {
            Item::Record(crate::stream::Record {
                key: Key::Int(i),
                ts: i,
                values: smallvec::smallvec![i as f64],
            })
        };
        assert!(tap.snapshot().is_empty());
        tap.set_watching(true);
        let batch: Vec<Item> = (0..120).map(record).collect();
        tap.record(0, &batch);
        let preview = tap.snapshot();
        let rows = &preview[0].rows;
        assert_eq!(rows.len(), PREVIEW_ROWS);
        assert_eq!(rows.first().map(|r| r[0].as_str()), Some("70"));
        assert_eq!(rows.last().map(|r| r[2].as_str()), Some("119"));
        assert_eq!(
            rows.last().map(|r| r[1].as_str()),
            Some("1970-01-01 00:00:00.119"),
            "event time reads as a time"
        );
    }
}
