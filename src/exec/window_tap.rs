//! The window tap: reads a window node's firings as they leave it, counting them and keeping the
//! newest few as samples for the live window views (bounded, whatever the firing rate).

use super::telemetry::{NodeCounters, PENDING_WINDOWS, RECENT_WINDOWS, WindowSample};
use crate::stream::Item;
use std::sync::atomic::Ordering::Relaxed;

/// Window firings sampled for telemetry from each batch: a few of the newest are plenty for a
/// live view, and keep sampling cheap.
const SAMPLES_PER_BATCH: usize = 16;

/// Reads window firings from a window node's output: window results, or the records of a fused
/// aggregate (`start, end, <functions>`), at the positions of count, mean, min and max.
#[derive(Clone, Debug)]
pub enum WindowTap {
    Results,
    FusedRecords {
        count: Option<usize>,
        mean: Option<usize>,
        min: Option<usize>,
        max: Option<usize>,
    },
}

impl WindowTap {
    pub fn of(pane: &crate::stream::pane::PaneSpec) -> Self {
        use crate::stream::aggregate::AggregateFn;
        let Some(functions) = pane.fused_aggregate.as_ref() else {
            return WindowTap::Results;
        };
        let at = |f: AggregateFn| functions.iter().position(|g| *g == f).map(|i| i + 2);
        WindowTap::FusedRecords {
            count: at(AggregateFn::Count),
            mean: at(AggregateFn::Mean),
            min: at(AggregateFn::Min),
            max: at(AggregateFn::Max),
        }
    }

    fn sample(&self, item: &Item) -> Option<WindowSample> {
        match (self, item) {
            (WindowTap::Results, Item::Window(w)) => Some(WindowSample {
                key: w.key.to_string(),
                start: w.start,
                end: w.end,
                count: w.first_stats.count,
                mean: w.first_stats.mean(),
                min: w.first_stats.min,
                max: w.first_stats.max,
            }),
            (
                WindowTap::FusedRecords {
                    count,
                    mean,
                    min,
                    max,
                },
                Item::Record(r),
            ) => {
                let at = |i: &Option<usize>| {
                    i.and_then(|i| r.values.get(i).copied()).unwrap_or(f64::NAN)
                };
                Some(WindowSample {
                    key: r.key.to_string(),
                    start: r.values.first().copied().unwrap_or(f64::NAN) as i64,
                    end: r.values.get(1).copied().unwrap_or(f64::NAN) as i64,
                    count: at(count) as u64,
                    mean: at(mean),
                    min: at(min),
                    max: at(max),
                })
            }
            _ => None,
        }
    }

    /// Counts the firings in a batch and keeps the newest few (a bounded ring).
    /// `fired`: the batch's window results (everything but watermarks), already counted.
    pub fn record(&self, counters: &NodeCounters, batch: &[Item], fired: u64) {
        if fired == 0 {
            return;
        }
        counters.window_firings.fetch_add(fired, Relaxed);
        let Ok(mut recent) = counters.recent_windows.lock() else {
            return;
        };
        let mut newest: Vec<WindowSample> = batch
            .iter()
            .rev()
            .filter_map(|i| self.sample(i))
            .take(SAMPLES_PER_BATCH)
            .collect();
        newest.reverse();
        if let Ok(mut pending) = counters.window_points.lock() {
            // A ring: dropping the oldest costs nothing per sample kept (a Vec moved all
            // 4,096 of them down on every batch once full, as in every fast headless run).
            let excess = (pending.len() + newest.len()).saturating_sub(PENDING_WINDOWS);
            let excess = excess.min(pending.len());
            pending.drain(..excess);
            pending.extend(newest.iter().cloned());
        }
        recent.extend(newest);
        while recent.len() > RECENT_WINDOWS {
            recent.pop_front();
        }
    }
}
