//! Synthetic keyed streams: a regular sequence (benchmarks), sensor readings with anomalies,
//! and a clickstream with sessions. All seeded; bounded or endless.

use super::affinity::TasteModel;
use super::rng::SeededRng;
use super::split::{Split, SplitCursor};
use crate::stream::{Item, Key, OpError, Record, Source, SourceStatus, Values};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What every generator shares.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorOptions {
    /// `None` = endless.
    pub count: Option<u64>,
    pub start_ms: i64,
    pub seed: u64,
}

impl GeneratorOptions {
    fn remaining(&self, emitted: u64) -> u64 {
        self.count.map_or(u64::MAX, |c| c.saturating_sub(emitted))
    }

    /// The share of a bounded count emitted.
    fn progress(&self, emitted: u64) -> Option<f64> {
        self.count.map(|c| {
            if c == 0 {
                1.0
            } else {
                emitted as f64 / c as f64
            }
        })
    }
}

/// How a sequence picks record i's key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyOrder {
    /// Key i mod keys: every key in turn.
    #[default]
    Cycle,
    /// A seeded hash of i, mod keys: keys at random, but record i's key never changes.
    Random,
}

/// Record i: key i mod `keys` (or a seeded hash of i), event time start + ⌊i / per_ms⌋·step,
/// value uniform in [0, 100) (the i-th draw of the seeded generator). Every record depends only
/// on its index, so the source splits over parallel instances without changing its stream.
pub struct SequenceSource {
    options: GeneratorOptions,
    keys: u64,
    step_ms: i64,
    /// Records per event-time step (1: one record per step).
    per_step: u64,
    key_order: KeyOrder,
    cursor: SplitCursor,
    /// The index whose value the generator draws next.
    rng_at: u64,
    rng: SeededRng,
}

impl SequenceSource {
    pub const FIELDS: &'static [&'static str] = &["value"];

    pub fn new(options: GeneratorOptions, keys: u64, step_ms: i64) -> Self {
        let rng = SeededRng::new(options.seed);
        Self {
            options,
            keys: keys.max(1),
            step_ms,
            per_step: 1,
            key_order: KeyOrder::Cycle,
            cursor: SplitCursor::new(Split::whole()),
            rng_at: 0,
            rng,
        }
    }

    /// `per_step` records share each event time (Flink's benchmark shape: 100 per ms).
    pub fn with_records_per_step(mut self, per_step: u64) -> Self {
        self.per_step = per_step.max(1);
        self
    }

    pub fn with_key_order(mut self, key_order: KeyOrder) -> Self {
        self.key_order = key_order;
        self
    }

    /// Makes only this instance's share of the records (see [`Split`]).
    pub fn with_split(mut self, split: Split) -> Self {
        self.cursor = SplitCursor::new(split);
        self
    }

    fn limit(&self) -> u64 {
        self.options.count.unwrap_or(u64::MAX)
    }

    #[inline]
    fn key_of(&self, i: u64) -> Key {
        let k = match self.key_order {
            KeyOrder::Cycle => i % self.keys,
            KeyOrder::Random => mix(i ^ self.options.seed.rotate_left(32)) % self.keys,
        };
        Key::Int(k as i64)
    }
}

impl Source for SequenceSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        let limit = self.limit();
        let range = self.cursor.take(max as u64, limit);
        if range.start != self.rng_at {
            self.rng.seek_unit_draw(range.start);
        }
        self.rng_at = range.end;
        out.reserve((range.end - range.start) as usize);
        let (start_ms, step_ms, per_step) = (self.options.start_ms, self.step_ms, self.per_step);
        // i mod keys and i / per_step move by one per record: no division in the loop.
        let mut cycle_key = range.start % self.keys;
        let (mut step, mut in_step) = (range.start / per_step, range.start % per_step);
        for i in range {
            let mut value = [0.0; 8];
            value[0] = self.rng.unit() * 100.0;
            let key = match self.key_order {
                KeyOrder::Cycle => Key::Int(cycle_key as i64),
                KeyOrder::Random => self.key_of(i),
            };
            out.push(Item::Record(Record {
                key,
                ts: start_ms.saturating_add((step as i64).saturating_mul(step_ms)),
                values: Values::from_buf_and_len(value, 1),
            }));
            cycle_key += 1;
            if cycle_key == self.keys {
                cycle_key = 0;
            }
            in_step += 1;
            if in_step == per_step {
                (step, in_step) = (step + 1, 0);
            }
        }
        Ok(if self.cursor.exhausted(limit) {
            SourceStatus::Exhausted
        } else {
            SourceStatus::More
        })
    }

    fn progress(&self) -> Option<f64> {
        let count = self.options.count?;
        let share = self.cursor.share(count);
        Some(if share == 0 {
            1.0
        } else {
            self.cursor.made() as f64 / share as f64
        })
    }

    fn block_ended(&self) -> bool {
        self.cursor.block_ended()
    }

    fn split(&mut self, split: Split) -> bool {
        if self.cursor.made() > 0 {
            return false;
        }
        self.cursor = SplitCursor::new(split);
        true
    }
}

/// splitmix64's finaliser: a cheap, well-spread hash of an index.
#[inline]
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn status(remaining: u64) -> SourceStatus {
    if remaining == 0 {
        SourceStatus::Exhausted
    } else {
        SourceStatus::More
    }
}

/// Sensors report in turn every `interval_ms`; values cycle slowly around each sensor's level
/// with unit noise; anomalies are spikes of 6–10 σ, flagged in the `anomaly` field.
pub struct SensorSource {
    options: GeneratorOptions,
    sensors: u64,
    interval_ms: i64,
    disorder_ms: i64,
    anomaly_rate: f64,
    levels: Vec<f64>,
    names: Vec<Key>,
    emitted: u64,
    rng: SeededRng,
}

impl SensorSource {
    pub const FIELDS: &'static [&'static str] = &["value", "anomaly"];
    /// Period of the slow cycle, in event-time ms (one simulated hour).
    const CYCLE_MS: f64 = 3_600_000.0;

    pub fn new(
        options: GeneratorOptions,
        sensors: u64,
        interval_ms: i64,
        disorder_ms: i64,
        anomaly_rate: f64,
    ) -> Self {
        let mut rng = SeededRng::new(options.seed);
        let sensors = sensors.max(1);
        let levels = (0..sensors).map(|_| 20.0 + 10.0 * rng.unit()).collect();
        let names = (0..sensors)
            .map(|s| Key::text(&format!("sensor-{s}")))
            .collect();
        Self {
            options,
            sensors,
            interval_ms: interval_ms.max(1),
            disorder_ms: disorder_ms.max(0),
            anomaly_rate,
            levels,
            names,
            emitted: 0,
            rng,
        }
    }
}

impl Source for SensorSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        let n = self.options.remaining(self.emitted).min(max as u64);
        for _ in 0..n {
            let j = self.emitted;
            let sensor = (j % self.sensors) as usize;
            let tick = (j / self.sensors) as i64;
            let spread = self.interval_ms * sensor as i64 / self.sensors as i64;
            let on_time = self.options.start_ms + tick * self.interval_ms + spread;
            let jitter = self.rng.below(self.disorder_ms as u64 + 1) as i64;
            let ts = on_time - jitter;
            let level = self.levels.get(sensor).copied().unwrap_or(20.0);
            let cycle = (std::f64::consts::TAU * (ts as f64) / Self::CYCLE_MS).sin();
            let mut value = level + 3.0 * cycle + self.rng.normal();
            let anomaly = self.rng.unit() < self.anomaly_rate;
            if anomaly {
                let sign = if self.rng.unit() < 0.5 { -1.0 } else { 1.0 };
                value += sign * (6.0 + 4.0 * self.rng.unit());
            }
            let key = self.names.get(sensor).cloned().unwrap_or_default();
            let mut values = Values::new();
            values.push(value);
            values.push(if anomaly { 1.0 } else { 0.0 });
            out.push(Item::Record(Record { key, ts, values }));
            self.emitted += 1;
        }
        Ok(status(self.options.remaining(self.emitted)))
    }

    fn progress(&self) -> Option<f64> {
        self.options.progress(self.emitted)
    }
}

/// Users click in sessions: `think_ms` apart on average within one, `idle_ms` between them.
/// With [`ClickSource::with_items`] each click also names the user (a number, for embeddings)
/// and an item, drawn from a hidden taste model (see [`TasteModel`]) with its own random
/// stream, so pages and dwell times do not depend on the item settings.
pub struct ClickSource {
    options: GeneratorOptions,
    pages: u64,
    think_ms: f64,
    idle_ms: f64,
    /// Next click time per user, earliest first, so the stream is in event-time order.
    next: BinaryHeap<Reverse<(i64, u64)>>,
    last_click: Vec<i64>,
    names: Vec<Key>,
    emitted: u64,
    rng: SeededRng,
    /// The hidden taste model and its own random stream, when clicks name items.
    items: Option<(TasteModel, SeededRng)>,
}

impl ClickSource {
    pub const FIELDS: &'static [&'static str] = &["page", "dwell_ms"];
    /// The fields when clicks name their user and item.
    pub const ITEM_FIELDS: &'static [&'static str] = &["page", "dwell_ms", "user", "item"];
    /// Chance that a click is the last of its session.
    const SESSION_END_CHANCE: f64 = 0.15;

    pub fn new(
        options: GeneratorOptions,
        users: u64,
        pages: u64,
        think_ms: i64,
        idle_ms: i64,
    ) -> Self {
        let mut rng = SeededRng::new(options.seed);
        let users = users.max(1);
        let idle = idle_ms.max(1) as f64;
        let next = (0..users)
            .map(|u| Reverse((options.start_ms + rng.exponential(idle) as i64, u)))
            .collect();
        Self {
            pages: pages.max(1),
            think_ms: think_ms.max(1) as f64,
            idle_ms: idle,
            next,
            last_click: vec![i64::MIN; users as usize],
            names: (0..users)
                .map(|u| Key::text(&format!("user-{u}")))
                .collect(),
            emitted: 0,
            rng,
            items: None,
            options,
        }
    }

    /// Seeds the item stream apart from the page/dwell stream.
    const ITEM_STREAM: u64 = 0x5EED_17E5;

    /// `items` items in `genres` genres; a user's click follows their favourite genre with
    /// probability `affinity` (0..=1), else picks any item by popularity.
    pub fn with_items(mut self, items: u64, genres: u64, affinity: f64) -> Self {
        let mut rng = SeededRng::new(self.options.seed ^ Self::ITEM_STREAM);
        let users = self.names.len() as u64;
        let tastes = TasteModel::new(users, items, genres, affinity, &mut rng);
        self.items = Some((tastes, rng));
        self
    }

    /// The hidden taste model the items are drawn from, when clicks name items.
    pub fn tastes(&self) -> Option<&TasteModel> {
        self.items.as_ref().map(|(tastes, _)| tastes)
    }

    /// The record fields: [`Self::ITEM_FIELDS`] when clicks name items.
    pub fn fields(&self) -> &'static [&'static str] {
        if self.items.is_some() {
            Self::ITEM_FIELDS
        } else {
            Self::FIELDS
        }
    }
}

impl Source for ClickSource {
    fn fill(&mut self, max: usize, out: &mut Vec<Item>) -> Result<SourceStatus, OpError> {
        let n = self.options.remaining(self.emitted).min(max as u64);
        for _ in 0..n {
            let Some(Reverse((ts, user))) = self.next.pop() else {
                break;
            };
            let u = user as usize;
            let previous = self.last_click.get(u).copied().unwrap_or(i64::MIN);
            let dwell = if previous == i64::MIN {
                0.0
            } else {
                (ts - previous) as f64
            };
            if let Some(slot) = self.last_click.get_mut(u) {
                *slot = ts;
            }
            let gap = if self.rng.unit() < Self::SESSION_END_CHANCE {
                self.idle_ms
            } else {
                self.think_ms
            };
            let next_ts = ts + 1 + self.rng.exponential(gap) as i64;
            self.next.push(Reverse((next_ts, user)));
            let mut values = Values::new();
            values.push(self.rng.below(self.pages) as f64);
            values.push(dwell);
            if let Some((tastes, rng)) = self.items.as_mut() {
                values.push(user as f64);
                values.push(tastes.next_item(user, rng) as f64);
            }
            let key = self.names.get(u).cloned().unwrap_or_default();
            out.push(Item::Record(Record { key, ts, values }));
            self.emitted += 1;
        }
        Ok(status(self.options.remaining(self.emitted)))
    }

    fn progress(&self) -> Option<f64> {
        self.options.progress(self.emitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(source: &mut dyn Source) -> Vec<Record> {
        let mut out = Vec::new();
        while source.fill(1000, &mut out).unwrap() == SourceStatus::More {}
        out.into_iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn opts(count: u64, seed: u64) -> GeneratorOptions {
        GeneratorOptions {
            count: Some(count),
            start_ms: 1000,
            seed,
        }
    }

    #[test]
    fn sequence_follows_its_formula() {
        let rows = drain(&mut SequenceSource::new(opts(2500, 1), 1000, 1));
        assert_eq!(rows.len(), 2500);
        assert_eq!(rows[1234].key, Key::Int(234));
        assert_eq!(rows[1234].ts, 2234);
        assert!(rows.iter().all(|r| (0.0..100.0).contains(&r.values[0])));
    }

    #[test]
    fn every_record_of_a_split_sequence_follows_the_formula() {
        // Record i: key i mod 7, time 1000 + ⌊i / 3⌋·5, whichever batch or instance makes it.
        let of = 3;
        for k in 0..of {
            let split = Split {
                block: 11,
                ..Split::new(k, of)
            };
            let mut source = SequenceSource::new(opts(1000, 2), 7, 5)
                .with_records_per_step(3)
                .with_split(split);
            let blocks = blocks(&mut source, 4);
            let rows: Vec<&Record> = blocks.iter().flatten().collect();
            assert!(rows.len() > 300, "instance {k}");
            for (b, block) in blocks.iter().filter(|b| !b.is_empty()).enumerate() {
                let first = ((b * of + k) * 11) as i64;
                for (j, r) in block.iter().enumerate() {
                    let i = first + j as i64;
                    assert_eq!(
                        (&r.key, r.ts),
                        (&Key::Int(i % 7), 1000 + i / 3 * 5),
                        "i={i}"
                    );
                }
            }
        }
    }

    /// Fills a split source like exec does: a batch at most, never past a block's end.
    fn blocks(source: &mut dyn Source, max: usize) -> Vec<Vec<Record>> {
        let (blocks, end) = crate::stream::test_support::fill_blocks(source, max);
        end.unwrap();
        blocks
    }

    #[test]
    fn a_split_sequence_read_back_in_block_order_is_the_whole_sequence() {
        let whole = || {
            SequenceSource::new(opts(10_000, 7), 1000, 1)
                .with_records_per_step(100)
                .with_key_order(KeyOrder::Random)
        };
        let expected = drain(&mut whole());
        for of in [2usize, 3] {
            let mut instances: Vec<Vec<Vec<Record>>> = (0..of)
                .map(|k| {
                    let split = Split {
                        block: 700,
                        ..Split::new(k, of)
                    };
                    blocks(&mut whole().with_split(split), 300)
                })
                .collect();
            let mut merged = Vec::new();
            let mut lane = 0;
            while instances.iter().any(|blocks| !blocks.is_empty()) {
                if !instances[lane].is_empty() {
                    merged.extend(instances[lane].remove(0));
                }
                lane = (lane + 1) % of;
            }
            assert_eq!(merged.len(), expected.len(), "p={of}");
            assert!(
                merged == expected,
                "p={of}: the same records in the same order"
            );
        }
    }

    #[test]
    fn dense_sequence_has_many_records_per_millisecond_and_random_keys() {
        let rows = drain(
            &mut SequenceSource::new(opts(100_000, 3), 1000, 1)
                .with_records_per_step(100)
                .with_key_order(KeyOrder::Random),
        );
        assert_eq!(rows[0].ts, 1000);
        assert_eq!(rows[99].ts, 1000);
        assert_eq!(rows[100].ts, 1001);
        assert_eq!(rows[99_999].ts, 1999);
        let mut per_key = std::collections::BTreeMap::new();
        for r in &rows {
            *per_key.entry(r.key.clone()).or_insert(0u32) += 1;
        }
        assert_eq!(per_key.len(), 1000, "every key appears");
        assert!(
            per_key.values().all(|&n| (50..160).contains(&n)),
            "{per_key:?}"
        );
        assert_ne!(rows[0].key, Key::Int(0), "not in turn");
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a = drain(&mut SensorSource::new(opts(500, 3), 4, 100, 50, 0.05));
        let b = drain(&mut SensorSource::new(opts(500, 3), 4, 100, 50, 0.05));
        let c = drain(&mut SensorSource::new(opts(500, 4), 4, 100, 50, 0.05));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sensor_anomalies_are_flagged_and_stand_out() {
        let rows = drain(&mut SensorSource::new(opts(20_000, 5), 4, 100, 0, 0.02));
        let anomalies: Vec<_> = rows.iter().filter(|r| r.values[1] == 1.0).collect();
        let share = anomalies.len() as f64 / rows.len() as f64;
        assert!((0.01..0.03).contains(&share), "anomaly share {share}");
    }

    #[test]
    fn clicks_come_in_event_time_order_with_session_gaps() {
        let rows = drain(&mut ClickSource::new(opts(5000, 9), 20, 10, 2000, 60_000));
        assert!(rows.windows(2).all(|w| w[0].ts <= w[1].ts));
        let long_gaps = rows.iter().filter(|r| r.values[1] > 20_000.0).count();
        assert!(long_gaps > 100, "idle gaps between sessions: {long_gaps}");
    }

    #[test]
    fn clicks_name_their_user_and_an_item_that_follows_the_users_taste() {
        let source =
            ClickSource::new(opts(10_000, 9), 40, 10, 2000, 60_000).with_items(100, 10, 0.9);
        let tastes = source.tastes().cloned().unwrap();
        assert_eq!(source.fields(), ClickSource::ITEM_FIELDS);
        let mut source = source;
        let rows = drain(&mut source);
        let own = rows
            .iter()
            .filter(|r| {
                let (user, item) = (r.values[2] as u64, r.values[3] as u64);
                assert_eq!(r.key, Key::text(&format!("user-{user}")));
                assert!(item < 100);
                tastes.genre_of(item) == tastes.favourite_of(user)
            })
            .count();
        let share = own as f64 / rows.len() as f64;
        assert!((0.88..0.94).contains(&share), "share {share}");
        // Pages and dwell times do not depend on the item settings.
        let plain = drain(&mut ClickSource::new(opts(10_000, 9), 40, 10, 2000, 60_000));
        assert_eq!(plain.len(), rows.len());
        assert!(
            plain
                .iter()
                .zip(&rows)
                .all(|(a, b)| a.ts == b.ts && a.values.len() == 2 && a.values[..] == b.values[..2])
        );
    }

    #[test]
    fn endless_generator_keeps_giving() {
        let mut s = SequenceSource::new(
            GeneratorOptions {
                count: None,
                start_ms: 0,
                seed: 1,
            },
            10,
            1,
        );
        let mut out = Vec::new();
        for _ in 0..5 {
            assert_eq!(s.fill(100, &mut out).unwrap(), SourceStatus::More);
        }
        assert_eq!(out.len(), 500);
    }
}
