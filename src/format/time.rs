//! Event time as people read it, one convention everywhere: UTC clock times with milliseconds,
//! `2023-11-14 22:13:21.000` in full, `22:13:21.000` where the date is shown once nearby (axes,
//! badges, timelines). The watermark that closes a bounded input reads "end of input".

use std::time::{Duration, UNIX_EPOCH};

/// What the final watermark (`i64::MAX`) of a bounded input is called.
pub const END_OF_INPUT: &str = "end of input";

const MS_PER_DAY: i64 = 86_400_000;
/// The last millisecond of year 9999: beyond it a date has more than four year digits.
const LAST_FOUR_DIGIT_YEAR_MS: i64 = 253_402_300_799_999;

/// An event time in full: `2023-11-14 22:13:21.000` (UTC). Times the calendar cannot show
/// (before 1970 or after 9999) are written as milliseconds.
pub fn event_time(ms: i64) -> String {
    if !(0..=LAST_FOUR_DIGIT_YEAR_MS).contains(&ms) {
        return format!("{ms} ms");
    }
    let instant = UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs());
    // RFC 3339 (`2023-11-14T22:13:21.000Z`) with a space for the T and no Z.
    let text = humantime::format_rfc3339_millis(instant).to_string();
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// The date of an event time, `2023-11-14` (UTC), for an axis that shows clock times.
pub fn event_date(ms: i64) -> String {
    let full = event_time(ms);
    match full.split_once(' ') {
        Some((date, _)) if !full.ends_with(" ms") => date.to_owned(),
        _ => full,
    }
}

/// The clock time of an event time, `22:13:21.000` (UTC), with as many decimals as
/// `precision_ms` needs (1000 or more: whole seconds; 100: tenths; and so on).
pub fn event_clock(ms: i64, precision_ms: i64) -> String {
    let of_day = ms.rem_euclid(MS_PER_DAY);
    let (h, m, s, milli) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    match precision_ms {
        p if p >= 1000 => format!("{h:02}:{m:02}:{s:02}"),
        p if p >= 100 => format!("{h:02}:{m:02}:{s:02}.{}", milli / 100),
        p if p >= 10 => format!("{h:02}:{m:02}:{s:02}.{:02}", milli / 10),
        _ => format!("{h:02}:{m:02}:{s:02}.{milli:03}"),
    }
}

/// A watermark in full: "end of input" for the final one, "none yet" before the first.
pub fn watermark(ms: i64) -> String {
    match ms {
        i64::MAX => END_OF_INPUT.to_owned(),
        i64::MIN => "none yet".to_owned(),
        ms => event_time(ms),
    }
}

/// A watermark where the date is shown elsewhere (a badge): its clock time.
pub fn watermark_clock(ms: i64) -> String {
    match ms {
        i64::MAX => END_OF_INPUT.to_owned(),
        i64::MIN => "none yet".to_owned(),
        ms => event_clock(ms, 1),
    }
}

/// What a run's event times are. Sources with a clock (a CSV time column, the generators'
/// `start_ms`) give epoch milliseconds, read as UTC times; a data set or a CSV file without a
/// time column numbers its rows (0, 1, 2, …), and those read as row numbers, never as
/// moments of 1 January 1970.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventClock {
    #[default]
    Epoch,
    Rows,
}

impl EventClock {
    /// An event time in full: `2023-11-14 22:13:21.000`, or `row 1,999`.
    pub fn time(self, t: i64) -> String {
        match self {
            EventClock::Epoch => event_time(t),
            EventClock::Rows => row(t),
        }
    }

    /// A watermark in full ("end of input" and "none yet" as [`watermark`]).
    pub fn watermark(self, t: i64) -> String {
        match (self, t) {
            (EventClock::Rows, t) if t != i64::MAX && t != i64::MIN => row(t),
            _ => watermark(t),
        }
    }

    /// A watermark where the date is shown elsewhere (a card's badge).
    pub fn watermark_short(self, t: i64) -> String {
        match (self, t) {
            (EventClock::Rows, t) if t != i64::MAX && t != i64::MIN => row(t),
            _ => watermark_clock(t),
        }
    }

    /// Event-time units per axis unit: seconds on an epoch axis, rows on a row axis.
    pub fn per_axis_unit(self) -> f64 {
        match self {
            EventClock::Epoch => 1e3,
            EventClock::Rows => 1.0,
        }
    }
}

/// A row number as event time: `row 1,999` (negative ones keep their sign).
fn row(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    format!("row {sign}{}", super::count(t.unsigned_abs()))
}

/// A length of event time: `250 ms`, `1.5 s`, `2 min 05 s`, `1 h 02 min`, `3 d 4 h`.
pub fn span(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let a = ms.unsigned_abs();
    let text = match a {
        0..1000 => format!("{a} ms"),
        1000..60_000 => {
            let seconds = a as f64 / 1000.0;
            let text = format!("{seconds:.3}");
            format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
        }
        60_000..3_600_000 => format!("{} min {:02} s", a / 60_000, a / 1000 % 60),
        3_600_000..86_400_000 => format!("{} h {:02} min", a / 3_600_000, a / 60_000 % 60),
        _ => format!("{} d {} h", a / 86_400_000, a / 3_600_000 % 24),
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-11-14 22:13:20 UTC is 1,700,000,000 s after the epoch.
    const T: i64 = 1_700_000_000_000;

    #[test]
    fn event_times_read_as_utc_clock_times_with_milliseconds() {
        assert_eq!(event_time(T), "2023-11-14 22:13:20.000");
        assert_eq!(event_time(T + 1_042), "2023-11-14 22:13:21.042");
        assert_eq!(event_time(0), "1970-01-01 00:00:00.000");
        assert_eq!(event_date(T), "2023-11-14");
        assert_eq!(event_clock(T + 1_042, 1), "22:13:21.042");
        assert_eq!(event_clock(T + 1_042, 10), "22:13:21.04");
        assert_eq!(event_clock(T + 1_042, 100), "22:13:21.0");
        assert_eq!(event_clock(T + 1_042, 1000), "22:13:21");
        // Synthetic times counted from 0 read as clock times too.
        assert_eq!(event_clock(1_500, 1), "00:00:01.500");
    }

    #[test]
    fn times_outside_the_calendar_are_milliseconds_not_a_panic() {
        assert_eq!(event_time(-5), "-5 ms");
        assert_eq!(event_time(i64::MAX - 1), format!("{} ms", i64::MAX - 1));
        assert_eq!(event_date(-5), "-5 ms");
        assert_eq!(event_clock(-1, 1), "23:59:59.999");
        assert_eq!(
            event_time(LAST_FOUR_DIGIT_YEAR_MS),
            "9999-12-31 23:59:59.999"
        );
    }

    #[test]
    fn the_final_watermark_says_end_of_input() {
        assert_eq!(watermark(i64::MAX), "end of input");
        assert_eq!(watermark_clock(i64::MAX), "end of input");
        assert_eq!(watermark(i64::MIN), "none yet");
        assert_eq!(watermark(T), "2023-11-14 22:13:20.000");
        assert_eq!(watermark_clock(T + 5), "22:13:20.005");
    }

    #[test]
    fn row_numbered_event_times_read_as_rows_not_1970_dates() {
        let rows = EventClock::Rows;
        assert_eq!(rows.time(1_999), "row 1,999");
        assert_eq!(rows.time(0), "row 0");
        assert_eq!(rows.watermark(1_998), "row 1,998");
        assert_eq!(rows.watermark(i64::MAX), "end of input");
        assert_eq!(rows.watermark_short(i64::MIN), "none yet");
        assert_eq!(rows.watermark_short(42), "row 42");
        assert_eq!(rows.per_axis_unit(), 1.0);
        // Real epoch times keep reading as UTC times.
        let epoch = EventClock::Epoch;
        assert_eq!(epoch.time(T), "2023-11-14 22:13:20.000");
        assert_eq!(epoch.watermark_short(T + 5), "22:13:20.005");
        assert_eq!(epoch.per_axis_unit(), 1e3);
    }

    #[test]
    fn spans_use_the_largest_unit_that_reads_well() {
        assert_eq!(span(250), "250 ms");
        assert_eq!(span(1_500), "1.5 s");
        assert_eq!(span(30_000), "30 s");
        assert_eq!(span(125_000), "2 min 05 s");
        assert_eq!(span(3_720_000), "1 h 02 min");
        assert_eq!(span(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
        assert_eq!(span(-1_500), "-1.5 s");
        assert_eq!(span(i64::MIN), format!("-{} d {} h", 106_751_991_167u64, 7));
    }
}
