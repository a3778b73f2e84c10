//! Window arithmetic as pure functions, exactly as Flink computes it: window starts, which
//! windows hold a timestamp, session covers, and when a window or a record is late.

/// Start of the window of length `size` (shifted by `offset`) that contains `ts`:
/// `ts − ((ts − offset) mod size)` with the remainder taken non-negative, as Flink's
/// `TimeWindow.getWindowStartWithOffset`. Computed in i128 so no timestamp overflows.
pub fn window_start(ts: i64, offset: i64, size: i64) -> i64 {
    let size = size.max(1);
    if let Some(shifted) = ts.checked_sub(offset)
        && let Some(start) = ts.checked_sub(shifted.rem_euclid(size))
    {
        return start;
    }
    let size = i128::from(size);
    let rem = (i128::from(ts) - i128::from(offset)).rem_euclid(size);
    clamp_i64(i128::from(ts) - rem)
}

fn clamp_i64(x: i128) -> i64 {
    x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The starts of every sliding window [s, s+size) with s ≡ offset (mod slide) that contains
/// `ts`, newest first (Flink's order). Tumbling windows are the case slide = size.
pub fn sliding_starts(ts: i64, size: i64, slide: i64, offset: i64) -> impl Iterator<Item = i64> {
    starts_down_from(window_start(ts, offset, slide), ts, size, slide)
}

/// [`sliding_starts`] given the newest start, `window_start(ts, offset, slide)`.
pub fn starts_down_from(last: i64, ts: i64, size: i64, slide: i64) -> impl Iterator<Item = i64> {
    let slide = slide.max(1);
    let lowest_exclusive = ts.saturating_sub(size);
    std::iter::successors(Some(last), move |s| s.checked_sub(slide))
        .take_while(move |s| *s > lowest_exclusive)
}

/// [`window_start`] for a stream of timestamps, remembering the last window it computed:
/// records mostly fall into the same window as the one before, and then no division is done.
#[derive(Clone, Copy, Debug)]
pub struct StartCache {
    period: i64,
    offset: i64,
    /// The last start; every ts in [from, until) has it.
    from: i64,
    until: i64,
}

impl StartCache {
    pub fn new(period: i64, offset: i64) -> Self {
        Self {
            period: period.max(1),
            offset,
            from: i64::MAX,
            until: i64::MIN,
        }
    }

    /// `window_start(ts, offset, period)`.
    #[inline]
    pub fn start(&mut self, ts: i64) -> i64 {
        if self.from <= ts && ts < self.until {
            return self.from;
        }
        let start = window_start(ts, self.offset, self.period);
        // i64::MIN may be a clamped start, not the window's own: never remembered.
        if start != i64::MIN
            && let Some(until) = start.checked_add(self.period)
        {
            (self.from, self.until) = (start, until);
        }
        start
    }
}

/// Most windows one record may belong to (sliding `size / slide`, or the windows a sliding
/// count window re-reads it in): each costs the record a pane update and the state an entry.
pub const MAX_WINDOWS_PER_RECORD: u64 = 100_000;

/// How many windows of length `size` starting every `slide` hold one record: ⌈size / slide⌉
/// (one when the slide is the size or longer).
pub fn windows_per_record(size: i64, slide: i64) -> u64 {
    let (size, slide) = (size.max(1).unsigned_abs(), slide.max(1).unsigned_abs());
    size.div_ceil(slide).max(1)
}

/// `end − 1`, the last timestamp a window [start, end) holds (Flink's `maxTimestamp`).
pub fn max_timestamp(end: i64) -> i64 {
    end.saturating_sub(1)
}

/// When a window's state is dropped: its max timestamp plus the allowed lateness, saturating
/// at +∞ as Flink's `cleanupTime` does.
pub fn cleanup_time(end: i64, allowed_lateness_ms: i64) -> i64 {
    max_timestamp(end).saturating_add(allowed_lateness_ms)
}

/// A window no longer accepts records once the watermark has passed its cleanup time.
pub fn is_window_late(end: i64, allowed_lateness_ms: i64, watermark: i64) -> bool {
    cleanup_time(end, allowed_lateness_ms) <= watermark
}

/// A record dropped from all its windows goes to the late output only if it is itself late:
/// `ts + allowed lateness ≤ watermark` (Flink's `isElementLate`).
pub fn is_record_late(ts: i64, allowed_lateness_ms: i64, watermark: i64) -> bool {
    ts.saturating_add(allowed_lateness_ms) <= watermark
}

/// Two session windows merge when they overlap or touch (Flink's `TimeWindow.intersects`).
pub fn sessions_touch(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 <= b.1 && a.1 >= b.0
}

/// The session window a record at `ts` opens: [ts, ts + gap).
pub fn session_of(ts: i64, gap: i64) -> (i64, i64) {
    (ts, ts.saturating_add(gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_start_on_boundaries_and_inside() {
        let cases = [
            // (ts, offset, size, start)
            (0, 0, 1000, 0),
            (999, 0, 1000, 0),
            (1000, 0, 1000, 1000),
            (1_700_000_000_123, 0, 1000, 1_700_000_000_000),
            (1_700_000_000_299, 300, 1000, 1_699_999_999_300),
            (1_700_000_000_300, 300, 1000, 1_700_000_000_300),
        ];
        for (ts, offset, size, start) in cases {
            assert_eq!(
                window_start(ts, offset, size),
                start,
                "ts={ts} offset={offset}"
            );
        }
    }

    #[test]
    fn negative_timestamps_use_a_non_negative_remainder() {
        assert_eq!(window_start(-1, 0, 1000), -1000);
        assert_eq!(window_start(-1000, 0, 1000), -1000);
        assert_eq!(window_start(-1001, 0, 1000), -2000);
        assert_eq!(window_start(-1, 300, 1000), -700);
        assert_eq!(window_start(-1, -300, 1000), -300);
    }

    #[test]
    fn offsets_larger_than_the_size_wrap_like_flink() {
        // Flink only allows |offset| < size; the arithmetic is still well defined beyond.
        assert_eq!(window_start(500, 1300, 1000), 300);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        assert_eq!(window_start(i64::MIN, 0, 1000), i64::MIN);
        let start = window_start(i64::MAX, 0, 1000);
        assert!(i64::MAX - start < 1000);
        let starts: Vec<_> = sliding_starts(i64::MIN + 5, 3000, 1000, 0).collect();
        assert!(starts.len() <= 3);
    }

    #[test]
    fn sliding_windows_newest_first_and_exactly_size_over_slide() {
        let starts: Vec<_> = sliding_starts(2500, 3000, 1000, 0).collect();
        assert_eq!(starts, vec![2000, 1000, 0]);
        let starts: Vec<_> = sliding_starts(3000, 3000, 1000, 0).collect();
        assert_eq!(
            starts,
            vec![3000, 2000, 1000],
            "a boundary ts starts a window and leaves one"
        );
        let starts: Vec<_> = sliding_starts(-1, 3000, 1000, 0).collect();
        assert_eq!(starts, vec![-1000, -2000, -3000]);
    }

    #[test]
    fn start_cache_agrees_with_window_start_everywhere() {
        let stamps: Vec<i64> = (-3000..3000)
            .chain([0, 999, 1000, 1001, -1, -1000, -1001])
            .chain((0..2000).map(|i| i64::MIN + i))
            .chain((0..2000).map(|i| i64::MAX - i))
            .chain((0..2000).rev())
            .chain([5, i64::MIN, i64::MAX, 7, i64::MIN + 3, 1_700_000_000_123])
            .collect();
        for (period, offset) in [
            (1000, 0),
            (1000, 300),
            (1000, -300),
            (7, 3),
            (1, 0),
            (3000, 1300),
        ] {
            let mut cache = StartCache::new(period, offset);
            for &ts in &stamps {
                assert_eq!(
                    cache.start(ts),
                    window_start(ts, offset, period),
                    "ts={ts} period={period} offset={offset}"
                );
            }
        }
    }

    #[test]
    fn sliding_with_size_not_a_multiple_of_slide() {
        let starts: Vec<_> = sliding_starts(1000, 2500, 1000, 0).collect();
        assert_eq!(starts, vec![1000, 0, -1000]);
        let starts: Vec<_> = sliding_starts(1600, 2500, 1000, 0).collect();
        assert_eq!(starts, vec![1000, 0]);
    }

    #[test]
    fn windows_per_record_is_size_over_slide_rounded_up() {
        assert_eq!(windows_per_record(3000, 1000), 3);
        assert_eq!(windows_per_record(2500, 1000), 3);
        assert_eq!(windows_per_record(1000, 1000), 1);
        assert_eq!(windows_per_record(1000, 3000), 1);
        assert_eq!(windows_per_record(20_000_000, 1), 20_000_000);
        for (size, slide) in [(3000, 1000), (2500, 1000), (1000, 3000), (7, 2)] {
            let most = (0..10_000)
                .map(|ts| sliding_starts(ts, size, slide, 0).count() as u64)
                .max();
            assert_eq!(
                most,
                Some(windows_per_record(size, slide)),
                "{size}/{slide}"
            );
        }
    }

    #[test]
    fn lateness_rules() {
        // A window [0, 1000) fires at watermark 999 and is late from then on (no lateness).
        assert!(!is_window_late(1000, 0, 998));
        assert!(is_window_late(1000, 0, 999));
        // With 500 ms allowed lateness it accepts records until the watermark reaches 1499.
        assert!(!is_window_late(1000, 500, 1498));
        assert!(is_window_late(1000, 500, 1499));
        assert!(is_record_late(999, 0, 999));
        assert!(!is_record_late(1000, 0, 999));
        assert_eq!(cleanup_time(i64::MAX, 10), i64::MAX);
    }

    #[test]
    fn sessions_exactly_gap_apart_touch_and_merge() {
        let gap = 500;
        assert!(sessions_touch(session_of(0, gap), session_of(500, gap)));
        assert!(!sessions_touch(session_of(0, gap), session_of(501, gap)));
        assert!(sessions_touch(session_of(501, gap), session_of(1, gap)));
    }
}
