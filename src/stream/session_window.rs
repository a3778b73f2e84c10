//! Event-time session windows: each record opens [ts, ts + gap); a key's windows that overlap
//! or touch merge, possibly bridging two sessions. Lateness is judged on the merged window.

use super::assign::{
    cleanup_time, is_record_late, is_window_late, max_timestamp, session_of, sessions_touch,
};
use super::pane::{Firing, Pane, PaneSpec};
use super::time_window::LATE;
use super::{Item, Key, OpResult, Operator, Outputs, Record, WindowTag};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

struct Session {
    start: i64,
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
    sessions: FxHashMap<Key, Vec<Session>>,
    timers: BTreeSet<Timer>,
    session_count: usize,
    late: u64,
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
        }
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

    fn on_record(&mut self, record: Record, out: &mut Outputs) {
        let (new_start, new_end) = session_of(record.ts, self.gap_ms);
        let lateness = self.allowed_lateness_ms;
        let watermark = self.watermark;
        let existing = self.sessions.get(&record.key);
        let touching: Vec<(i64, i64)> = existing
            .map(|list| {
                list.iter()
                    .filter(|s| sessions_touch((s.start, s.end), (new_start, new_end)))
                    .map(|s| (s.start, s.end))
                    .collect()
            })
            .unwrap_or_default();
        let start = touching.iter().map(|s| s.0).fold(new_start, i64::min);
        let end = touching.iter().map(|s| s.1).fold(new_end, i64::max);
        if is_window_late(end, lateness, watermark) {
            // Only a window that merged with nothing can be late: live sessions are not.
            if is_record_late(record.ts, lateness, watermark) {
                self.late += 1;
                out.push(LATE, Item::Record(record));
            }
            return;
        }
        let mut pane = Pane::new(&self.pane_spec);
        if !touching.is_empty() {
            let list = self.sessions.entry(record.key.clone()).or_default();
            let mut absorbed = Vec::new();
            list.retain_mut(|s| {
                if touching.contains(&(s.start, s.end)) {
                    absorbed.push(Session {
                        start: s.start,
                        end: s.end,
                        pane: std::mem::take(&mut s.pane),
                    });
                    false
                } else {
                    true
                }
            });
            absorbed.sort_by_key(|s| s.start);
            for old in absorbed {
                for timer in self.timers_of(&record.key, old.start, old.end) {
                    self.timers.remove(&timer);
                }
                self.session_count -= 1;
                pane.merge(old.pane);
            }
        }
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
        let list = self.sessions.entry(record.key).or_default();
        let at = list.partition_point(|s| s.start < start);
        list.insert(at, Session { start, end, pane });
        self.session_count += 1;
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Outputs) {
        let Some(list) = self.sessions.get_mut(&timer.key) else {
            return;
        };
        let Some(index) = list.iter().position(|s| s.start == timer.start) else {
            return;
        };
        let Some(session) = list.get(index) else {
            return;
        };
        if timer.cleanup {
            let session = list.remove(index);
            self.session_count -= 1;
            if list.is_empty() {
                self.sessions.remove(&timer.key);
            }
            drop(session);
        } else if max_timestamp(session.end) == timer.time {
            let at = Firing {
                tag: WindowTag::Time,
                start: session.start,
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
            self.on_record(record, out);
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
}
