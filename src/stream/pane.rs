//! A window's accumulated contents for one key: statistics of chosen fields and, only when a
//! consumer needs them, the records themselves.

use super::aggregate::{AggregateFn, aggregate_record};
use super::stats::Stats;
use super::time_window::OUT;
use super::{Item, Key, Outputs, Record, WindowExtra, WindowResult, WindowTag};
use smallvec::SmallVec;

/// What a window keeps per pane and emits, decided by the planner from its consumers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaneSpec {
    /// Field indices whose statistics are kept, in the order results report them.
    pub stats_fields: Vec<usize>,
    /// Keep the records too (a consumer needs the rows, e.g. to stack a mini-batch).
    pub keep_rows: bool,
    /// When the window's only consumer is an Aggregate, the window applies it itself (as
    /// Flink's incremental `aggregate()` does) and emits its records: no result objects at all.
    pub fused_aggregate: Option<Vec<AggregateFn>>,
}

impl PaneSpec {
    /// Sends one firing downstream: as a window result, or as the fused aggregate's record.
    #[inline]
    pub fn emit(&self, result: WindowResult, out: &mut Outputs) {
        let item = match &self.fused_aggregate {
            None => Item::Window(result),
            Some(functions) => Item::Record(aggregate_record(functions, &result, 0)),
        };
        out.push(OUT, item);
    }
}

/// One key's contents of one window.
#[derive(Clone, Debug, Default)]
pub struct Pane {
    pub stats: SmallVec<[Stats; 1]>,
    pub rows: Vec<Record>,
    pub first_ts: i64,
    pub last_ts: i64,
    pub count: u64,
}

impl Pane {
    pub fn new(spec: &PaneSpec) -> Self {
        Self {
            stats: spec.stats_fields.iter().map(|_| Stats::default()).collect(),
            ..Default::default()
        }
    }

    pub fn add(&mut self, record: &Record, spec: &PaneSpec) {
        if self.count == 0 {
            self.first_ts = record.ts;
        }
        self.count += 1;
        self.last_ts = record.ts;
        for (stats, &field) in self.stats.iter_mut().zip(&spec.stats_fields) {
            stats.add(record.values.get(field).copied().unwrap_or(f64::NAN));
        }
        if spec.keep_rows {
            self.rows.push(record.clone());
        }
    }

    /// Absorbs another pane (a session merge). Statistics combine; rows concatenate.
    pub fn merge(&mut self, other: Pane) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        for (mine, theirs) in self.stats.iter_mut().zip(&other.stats) {
            mine.merge(theirs);
        }
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
        self.count += other.count;
        self.rows.extend(other.rows);
    }

    /// A result that leaves the pane in place (it may fire again with allowed lateness).
    pub fn result(&self, key: &Key, tag: WindowTag, start: i64, end: i64, ts: i64) -> WindowResult {
        let extra = (self.stats.len() > 1 || !self.rows.is_empty()).then(|| {
            Box::new(WindowExtra {
                more_stats: self.stats.iter().skip(1).copied().collect(),
                rows: self.rows.clone(),
            })
        });
        WindowResult {
            key: key.clone(),
            tag,
            start,
            end,
            ts,
            first_stats: self.first_stats(),
            extra,
        }
    }

    /// A result that consumes the pane (it fires for the last time).
    pub fn into_result(
        self,
        key: Key,
        tag: WindowTag,
        start: i64,
        end: i64,
        ts: i64,
    ) -> WindowResult {
        let first_stats = self.first_stats();
        let extra = (self.stats.len() > 1 || !self.rows.is_empty()).then(|| {
            Box::new(WindowExtra {
                more_stats: self.stats.iter().skip(1).copied().collect(),
                rows: self.rows,
            })
        });
        WindowResult {
            key,
            tag,
            start,
            end,
            ts,
            first_stats,
            extra,
        }
    }

    /// The first kept field's statistics; a window that keeps none still counts its records.
    fn first_stats(&self) -> Stats {
        self.stats
            .first()
            .copied()
            .unwrap_or_else(|| Stats::count_only(self.count))
    }
}
