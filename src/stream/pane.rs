//! A window's accumulated contents for one key: statistics of chosen fields and, only when a
//! consumer needs them, the records themselves; and how a firing leaves the window.

use super::aggregate::AggregateFn;
use super::stats::Stats;
use super::time_window::OUT;
use super::{Item, Key, Outputs, Record, Values, WindowExtra, WindowResult, WindowTag};

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

/// Where and when a window fired: its tag, bounds and the event time of the result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Firing {
    pub tag: WindowTag,
    pub start: i64,
    pub end: i64,
    pub ts: i64,
}

impl PaneSpec {
    /// Emits a pane that stays (it may fire again with allowed lateness).
    #[inline]
    pub fn fire(&self, key: &Key, at: Firing, pane: &Pane, out: &mut Outputs) {
        out.push(OUT, self.result(key, at, pane));
    }

    /// Emits a pane for the last time, consuming it.
    #[inline]
    pub fn fire_last(&self, key: Key, at: Firing, pane: Pane, out: &mut Outputs) {
        out.push(OUT, self.last_result(key, at, pane));
    }

    /// The item a firing of a pane that stays emits.
    #[inline]
    pub fn result(&self, key: &Key, at: Firing, pane: &Pane) -> Item {
        match &self.fused_aggregate {
            Some(functions) => Item::Record(fused_record(
                functions,
                key.clone(),
                at,
                &pane.first_stats(self),
            )),
            None => Item::Window(WindowResult {
                key: key.clone(),
                tag: at.tag,
                start: at.start,
                end: at.end,
                ts: at.ts,
                first_stats: pane.first_stats(self),
                extra: pane.extra.clone(),
            }),
        }
    }

    /// The item a pane's last firing emits, consuming the pane.
    #[inline]
    pub fn last_result(&self, key: Key, at: Firing, pane: Pane) -> Item {
        match &self.fused_aggregate {
            Some(functions) => {
                Item::Record(fused_record(functions, key, at, &pane.first_stats(self)))
            }
            None => Item::Window(WindowResult {
                key,
                tag: at.tag,
                start: at.start,
                end: at.end,
                ts: at.ts,
                first_stats: pane.first_stats(self),
                extra: pane.extra,
            }),
        }
    }
}

/// The record a fused Aggregate would have made: `{start, end, <functions>}`.
#[inline]
fn fused_record(functions: &[AggregateFn], key: Key, at: Firing, stats: &Stats) -> Record {
    let mut inline = [0.0; 8];
    let values = if functions.len() + 2 <= inline.len() {
        inline[0] = at.start as f64;
        inline[1] = at.end as f64;
        for (slot, f) in inline.iter_mut().skip(2).zip(functions) {
            *slot = f.of(stats);
        }
        Values::from_buf_and_len(inline, functions.len() + 2)
    } else {
        let mut values = Values::new();
        values.push(at.start as f64);
        values.push(at.end as f64);
        values.extend(functions.iter().map(|f| f.of(stats)));
        values
    };
    Record {
        key,
        ts: at.ts,
        values,
    }
}

/// One key's contents of one window. Kept small: a window holds one per key.
#[derive(Clone, Debug, Default)]
pub struct Pane {
    /// Statistics of the first kept field; when no field is kept, only its count moves.
    first: Stats,
    /// Statistics of further fields and the rows, only when the spec asks for them.
    extra: Option<Box<WindowExtra>>,
}

impl Pane {
    pub fn new(spec: &PaneSpec) -> Self {
        let extra = (spec.stats_fields.len() > 1 || spec.keep_rows).then(|| {
            Box::new(WindowExtra {
                more_stats: vec![Stats::default(); spec.stats_fields.len().saturating_sub(1)],
                rows: Vec::new(),
            })
        });
        Self {
            extra,
            ..Default::default()
        }
    }

    /// Records in the pane.
    pub fn count(&self) -> u64 {
        self.first.count
    }

    /// Inlined: it is the whole per-record work of a window with a pane already open.
    #[inline(always)]
    pub fn add(&mut self, record: &Record, spec: &PaneSpec) {
        match spec.stats_fields.first() {
            Some(&field) => self
                .first
                .add(record.values.get(field).copied().unwrap_or(f64::NAN)),
            None => self.first.count += 1,
        }
        if let Some(extra) = self.extra.as_mut() {
            for (stats, &field) in extra
                .more_stats
                .iter_mut()
                .zip(spec.stats_fields.iter().skip(1))
            {
                stats.add(record.values.get(field).copied().unwrap_or(f64::NAN));
            }
            if spec.keep_rows {
                extra.rows.push(record.clone());
            }
        }
    }

    /// Absorbs another pane (a session merge). Statistics combine; rows concatenate.
    pub fn merge(&mut self, other: Pane) {
        if other.count() == 0 {
            return;
        }
        if self.count() == 0 {
            *self = other;
            return;
        }
        self.first.merge(&other.first);
        if let (Some(mine), Some(theirs)) = (self.extra.as_mut(), other.extra) {
            for (m, t) in mine.more_stats.iter_mut().zip(&theirs.more_stats) {
                m.merge(t);
            }
            mine.rows.extend(theirs.rows);
        }
    }

    /// The first kept field's statistics; a window that keeps none reports only its count.
    pub fn first_stats(&self, spec: &PaneSpec) -> Stats {
        if spec.stats_fields.is_empty() {
            Stats::count_only(self.first.count)
        } else {
            self.first
        }
    }
}
