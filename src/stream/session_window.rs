//! Event-time session windows: each record opens [ts, ts + gap); a key's windows that overlap
//! or touch merge, possibly bridging two sessions. Lateness is judged on the merged window.

use super::assign::{
    cleanup_time, is_record_late, is_window_late, max_timestamp, session_of, sessions_touch,
};
use super::pane::{Firing, Pane, PaneSpec};
use super::state_budget::StateBudget;
use super::time_window::LATE;
use super::{Item, Key, OpResult, Operator, Outputs, Record, WindowTag};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One key's session: its end and contents (its start is its key in the key's map).
struct Session {
    end: i64,
    pane: Pane,
}

/// A pending event-time timer: fire at end − 1, or drop state at the cleanup time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    time: i64,
    /// `false` = fire, `true` = clean up; at equal times Flink fires first.
    cleanup: bool,
    key: Key,
    start: i64,
}

/// Flink's `EventTimeSessionWindows.withGap` with `EventTimeTrigger` and allowed lateness.
pub struct SessionWindowOperator {
    gap_ms: i64,
    allowed_lateness_ms: i64,
    pane_spec: PaneSpec,
    watermark: i64,
    /// Per key, its sessions by start. Merging keeps them apart (none overlap or touch), so
    /// ends grow with starts and the sessions a record touches are found by a range lookup:
    /// O(log n) per record however many sessions allowed lateness keeps.
    sessions: FxHashMap<Key, BTreeMap<i64, Session>>,
    timers: BTreeSet<Timer>,
    session_count: usize,
    late: u64,
    /// The node's state limit, shared with its other instances: each session takes one entry.
    budget: Arc<StateBudget>,
}

impl SessionWindowOperator {
    pub fn new(gap_ms: i64, allowed_lateness_ms: i64, pane_spec: PaneSpec) -> Self {
        Self {
            gap_ms,
            allowed_lateness_ms,
            pane_spec,
            watermark: i64::MIN,
            sessions: FxHashMap::default(),
            timers: BTreeSet::new(),
            session_count: 0,
            late: 0,
            budget: StateBudget::unlimited(),
        }
    }

    /// Counts this instance's sessions against the node's shared state limit.
    pub fn with_state_budget(mut self, budget: Arc<StateBudget>) -> Self {
        self.budget = budget;
        self
    }

    fn timers_of(&self, key: &Key, start: i64, end: i64) -> [Timer; 2] {
        [
            Timer {
                time: max_timestamp(end),
                cleanup: false,
                key: key.clone(),
                start,
            },
            Timer {
                time: cleanup_time(end, self.allowed_lateness_ms),
                cleanup: true,
                key: key.clone(),
                start,
            },
        ]
    }

    /// Starts of the key's sessions that touch [start, end), newest first.
    fn touching(&self, key: &Key, start: i64, end: i64) -> Vec<i64> {
        let Some(sessions) = self.sessions.get(key) else {
            return Vec::new();
        };
        sessions
            .range(..=end)
            .rev()
            .take_while(|(_, s)| s.end >= start)
            .map(|(&s, _)| s)
            .collect()
    }

    fn on_record(&mut self, record: Record, out: &mut Outputs) -> OpResult {
        let (new_start, new_end) = session_of(record.ts, self.gap_ms);
        let lateness = self.allowed_lateness_ms;
        let watermark = self.watermark;
        let touching = self.touching(&record.key, new_start, new_end);
        let sessions = self.sessions.get(&record.key);
        let start = touching
            .last()
            .copied()
            .map_or(new_start, |s| s.min(new_start));
        let end = touching
            .iter()
            .filter_map(|s| sessions.and_then(|list| list.get(s)).map(|x| x.end))
            .fold(new_end, i64::max);
        debug_assert!(touching.iter().all(|&s| {
            sessions
                .and_then(|l| l.get(&s))
                .is_some_and(|x| sessions_touch((s, x.end), (new_start, new_end)))
        }));
        if is_window_late(end, lateness, watermark) {
            // Only a window that merged with nothing can be late: live sessions are not.
            if is_record_late(record.ts, lateness, watermark) {
                self.late += 1;
                out.push(LATE, Item::Record(record));
            }
            return Ok(());
        }
        if touching.is_empty() {
            self.budget.take()?;
        }
        let mut pane = Pane::new(&self.pane_spec);
        // Oldest first, so rows concatenate in time order.
        for &old_start in touching.iter().rev() {
            let Some(old) = self
                .sessions
                .get_mut(&record.key)
                .and_then(|list| list.remove(&old_start))
            else {
                continue;
            };
            for timer in self.timers_of(&record.key, old_start, old.end) {
                self.timers.remove(&timer);
            }
            self.session_count -= 1;
            pane.merge(old.pane);
        }
        // The merged session is one entry where there were `touching.len()`.
        self.budget
            .give_back((touching.len() as u64).saturating_sub(1));
        pane.add(&record, &self.pane_spec);
        if max_timestamp(end) <= watermark {
            let at = Firing {
                tag: WindowTag::Time,
                start,
                end,
                ts: max_timestamp(end),
            };
            self.pane_spec.fire(&record.key, at, &pane, out);
        } else {
            let [fire, _] = self.timers_of(&record.key, start, end);
            self.timers.insert(fire);
        }
        let [_, cleanup] = self.timers_of(&record.key, start, end);
        self.timers.insert(cleanup);
        self.sessions
            .entry(record.key)
            .or_default()
            .insert(start, Session { end, pane });
        self.session_count += 1;
        Ok(())
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Outputs) {
        let Some(list) = self.sessions.get_mut(&timer.key) else {
            return;
        };
        let Some(session) = list.get(&timer.start) else {
            return;
        };
        if timer.cleanup {
            list.remove(&timer.start);
            self.session_count -= 1;
            self.budget.give_back(1);
            if list.is_empty() {
                self.sessions.remove(&timer.key);
            }
        } else if max_timestamp(session.end) == timer.time {
            let at = Firing {
                tag: WindowTag::Time,
                start: timer.start,
                end: session.end,
                ts: timer.time,
            };
            self.pane_spec.fire(&timer.key, at, &session.pane, out);
        }
    }
}

impl Operator for SessionWindowOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        if let Item::Record(record) = item {
            self.on_record(record, out)?;
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Outputs) -> OpResult {
        if watermark <= self.watermark {
            return Ok(());
        }
        self.watermark = watermark;
        while let Some(first) = self.timers.first() {
            if first.time > watermark {
                break;
            }
            if let Some(timer) = self.timers.pop_first() {
                self.on_timer(timer, out);
            }
        }
        out.watermark(watermark);
        Ok(())
    }

    fn state_entries(&self) -> usize {
        self.session_count
    }

    fn late_records(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_support::{fired, late_ts, rec, run};

    fn sessions(gap: i64, lateness: i64) -> SessionWindowOperator {
        SessionWindowOperator::new(
            gap,
            lateness,
            PaneSpec {
                stats_fields: vec![0],
                keep_rows: false,
                ..Default::default()
            },
        )
    }

    #[test]
    fn records_exactly_gap_apart_share_a_session() {
        let mut op = sessions(500, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 0, 1.0),
                rec("a", 500, 2.0),
                rec("a", 1001, 4.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(
            fired(&out),
            vec![
                ("a".into(), 0, 1000, 2, 3.0),
                ("a".into(), 1001, 1501, 1, 4.0)
            ]
        );
    }

    #[test]
    fn a_record_between_two_sessions_bridges_them() {
        let mut op = sessions(100, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 0, 1.0),
                rec("a", 300, 2.0),
                rec("a", 150, 4.0),
                Item::Watermark(i64::MAX),
            ],
        );
        // [0,100) and [300,400) are 200 apart; [150,250) touches neither.
        assert_eq!(fired(&out).len(), 3);
        let mut op = sessions(100, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 0, 1.0),
                rec("a", 200, 2.0),
                rec("a", 100, 4.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(fired(&out), vec![("a".into(), 0, 300, 3, 7.0)]);
        assert_eq!(op.state_entries(), 0);
    }

    #[test]
    fn session_fires_at_its_end_minus_one_and_late_records_go_aside() {
        let mut op = sessions(500, 0);
        let out = run(&mut op, vec![rec("a", 1000, 1.0), Item::Watermark(1498)]);
        assert!(fired(&out).is_empty());
        let out = run(&mut op, vec![Item::Watermark(1499), rec("a", 990, 3.0)]);
        assert_eq!(fired(&out), vec![("a".into(), 1000, 1500, 1, 1.0)]);
        assert_eq!(late_ts(&out), vec![990]);
    }

    #[test]
    fn late_record_that_joins_a_live_session_is_kept() {
        let mut op = sessions(500, 0);
        // Watermark 1200 is past ts 700, but [700,1200) touches the live [1000,1500).
        let out = run(
            &mut op,
            vec![
                rec("a", 1000, 1.0),
                Item::Watermark(1200),
                rec("a", 700, 2.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert!(late_ts(&out).is_empty());
        assert_eq!(fired(&out), vec![("a".into(), 700, 1500, 2, 3.0)]);
    }

    #[test]
    fn keys_have_independent_sessions() {
        let mut op = sessions(100, 0);
        let out = run(
            &mut op,
            vec![
                rec("a", 0, 1.0),
                rec("b", 50, 2.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(
            fired(&out),
            vec![("a".into(), 0, 100, 1, 1.0), ("b".into(), 50, 150, 1, 2.0)]
        );
    }

    #[test]
    fn allowed_lateness_refires_a_fired_session() {
        let mut op = sessions(100, 1000);
        let out = run(
            &mut op,
            vec![
                rec("a", 0, 1.0),
                Item::Watermark(500),
                rec("a", 50, 2.0),
                Item::Watermark(i64::MAX),
            ],
        );
        assert_eq!(
            fired(&out),
            vec![("a".into(), 0, 100, 1, 1.0), ("a".into(), 0, 150, 2, 3.0)]
        );
    }

    #[test]
    fn merged_sessions_give_their_entries_back_and_the_limit_holds() {
        let budget = StateBudget::new(2, 1);
        let mut op = sessions(500, 0).with_state_budget(Arc::clone(&budget));
        let mut out = Outputs::new(2);
        for ts in [0, 2000] {
            op.on_item(0, rec("a", ts, 1.0), &mut out).unwrap();
        }
        assert_eq!(budget.held(), 2);
        // 250 joins [0, 500): no new entry. 1200 touches neither session: a third is refused.
        op.on_item(0, rec("a", 250, 1.0), &mut out).unwrap();
        assert_eq!(budget.held(), 2);
        let err = op.on_item(0, rec("a", 1200, 1.0), &mut out).unwrap_err();
        assert!(err.0.contains("state_limit of 2"), "{err}");
        // 1500 and 1000 extend [2000, 2500) back to 1000; 750 then bridges [0, 750) and
        // [1000, 2500) into one session: one entry where there were two.
        for ts in [1500, 1000, 750] {
            op.on_item(0, rec("a", ts, 1.0), &mut out).unwrap();
        }
        assert_eq!((budget.held(), op.state_entries()), (1, 1));
        let out = run(&mut op, vec![Item::Watermark(i64::MAX)]);
        assert_eq!(fired(&out), vec![("a".into(), 0, 2500, 6, 6.0)]);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn many_sessions_kept_for_lateness_are_found_by_range_not_scan() {
        // 2 ms apart with a 1 ms gap: every record its own session, all kept for 100 s.
        let mut op = sessions(1, 100_000_000);
        let items: Vec<Item> = (0..20_000)
            .flat_map(|i| [rec("a", 2 * i, 1.0), Item::Watermark(2 * i)])
            .collect();
        let out = run(&mut op, items);
        assert_eq!(fired(&out).len(), 20_000);
        assert_eq!(op.state_entries(), 20_000);
        // A record 1 ms after one session and 1 ms before the next bridges exactly those two.
        let out = run(&mut op, vec![rec("a", 101, 7.0)]);
        assert_eq!(fired(&out), vec![("a".into(), 100, 103, 3, 9.0)]);
        assert_eq!(op.state_entries(), 19_999);
    }
}
