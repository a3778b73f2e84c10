//! How fast a run goes: full speed, event time replayed at a factor, a training-step limit, or
//! "animate" (a bounded run spread over about twenty seconds). Plain data: the graph file keeps
//! a default, the toolbar and `flowbook run --pace` choose one; `exec` does the pacing.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The speed of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PaceFields")]
pub enum Pace {
    /// As fast as the machine allows.
    #[default]
    Max,
    /// Sources replay event time at this many event-time seconds per wall second (like
    /// replaying a recorded stream); replayed training epochs go at the first epoch's pace.
    Replay(f64),
    /// Trainers take at most this many steps per second.
    Steps(f64),
    /// A bounded run spread over about [`ANIMATE_SECONDS`]: a trainer's later epochs share
    /// that time; without a trainer, sources spread their input over it.
    Animate,
}

/// About how long an animated bounded run takes, in wall seconds.
pub const ANIMATE_SECONDS: f64 = 20.0;

/// The replay factors the toolbar offers.
pub const REPLAY_FACTORS: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];

impl Pace {
    /// The pace a graph gets when its file says nothing.
    pub fn is_max(&self) -> bool {
        *self == Pace::Max
    }

    /// A pace with a factor or rate that is not a positive finite number is refused.
    pub fn checked(self) -> Result<Self, String> {
        match self {
            Pace::Replay(f) if !(f.is_finite() && f > 0.0) => Err(format!(
                "a replay factor must be a positive number, not {f}"
            )),
            Pace::Steps(s) if !(s.is_finite() && s > 0.0) => Err(format!(
                "a steps-per-second limit must be a positive number, not {s}"
            )),
            ok => Ok(ok),
        }
    }
}

/// The serde shape of [`Pace`], checked on the way in so a bad file names its position.
#[derive(Deserialize)]
enum PaceFields {
    Max,
    Replay(f64),
    Steps(f64),
    Animate,
}

impl TryFrom<PaceFields> for Pace {
    type Error = String;

    fn try_from(fields: PaceFields) -> Result<Self, String> {
        match fields {
            PaceFields::Max => Pace::Max,
            PaceFields::Replay(f) => Pace::Replay(f),
            PaceFields::Steps(s) => Pace::Steps(s),
            PaceFields::Animate => Pace::Animate,
        }
        .checked()
    }
}

/// `max`, `animate`, `100x` (replay factor), `20/s` (steps per second), as `--pace` takes them.
impl fmt::Display for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pace::Max => f.write_str("max"),
            Pace::Animate => f.write_str("animate"),
            Pace::Replay(factor) => write!(f, "{factor}x"),
            Pace::Steps(per_s) => write!(f, "{per_s}/s"),
        }
    }
}

impl FromStr for Pace {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{text}' is not a pace: {}", PACE_FORMS))
        };
        let pace = if t == "max" || t == "full" {
            Pace::Max
        } else if t == "animate" {
            Pace::Animate
        } else if let Some(f) = t.strip_suffix('x').or_else(|| t.strip_suffix('×')) {
            Pace::Replay(number(f)?)
        } else if let Some(s) = t.strip_suffix("steps/s").or_else(|| t.strip_suffix("/s")) {
            Pace::Steps(number(s)?)
        } else {
            return Err(format!("'{text}' is not a pace: {PACE_FORMS}"));
        };
        pace.checked()
    }
}

const PACE_FORMS: &str =
    "use max, animate, a replay factor such as 100x, or training steps per second such as 20/s";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_read_and_print_as_the_command_line_writes_them() {
        for (text, pace) in [
            ("max", Pace::Max),
            ("animate", Pace::Animate),
            ("100x", Pace::Replay(100.0)),
            ("2.5x", Pace::Replay(2.5)),
            ("20/s", Pace::Steps(20.0)),
        ] {
            assert_eq!(text.parse::<Pace>(), Ok(pace));
            assert_eq!(pace.to_string(), text);
        }
        assert_eq!("10×".parse::<Pace>(), Ok(Pace::Replay(10.0)));
        assert_eq!("30 steps/s".parse::<Pace>(), Ok(Pace::Steps(30.0)));
        assert!("fast".parse::<Pace>().unwrap_err().contains("100x"));
        assert!("0x".parse::<Pace>().unwrap_err().contains("positive"));
        assert!("-3/s".parse::<Pace>().is_err());
        assert!("NaNx".parse::<Pace>().is_err());
    }

    #[test]
    fn a_pace_in_ron_is_checked_as_it_loads() {
        assert_eq!(
            ron::from_str::<Pace>("Replay(100.0)"),
            Ok(Pace::Replay(100.0))
        );
        assert_eq!(ron::from_str::<Pace>("Animate"), Ok(Pace::Animate));
        let error = ron::from_str::<Pace>("Steps(0.0)").unwrap_err();
        assert!(error.to_string().contains("positive"), "{error}");
        assert_eq!(ron::to_string(&Pace::Replay(25.0)).unwrap(), "Replay(25.0)");
    }
}
