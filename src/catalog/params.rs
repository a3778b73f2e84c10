//! Typed access to a node's parameters: defaults, range checks and parsing of `--set` text.
//! A value that fails these checks never reaches an operator.

use super::{NodeSpec, ParamDefault, ParamKind, ParamSpec};
use crate::graph::{Node, ParamValue};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("has no parameter '{0}'")]
    Unknown(String),
    #[error("parameter '{name}' {reason}")]
    Invalid { name: String, reason: ValueError },
}

/// Why a value does not fit its parameter. Read after the parameter's name
/// ("size_ms is 0, outside 1..=…"). A caller can offer [`ValueError::nearest_allowed`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("is {value}, outside {min}..={max}")]
    IntOutOfRange { value: i64, min: i64, max: i64 },
    #[error("is {value}, outside {min}..={max}")]
    OutOfRange { value: f64, min: f64, max: f64 },
    #[error("is '{value}', expected one of: {}", choices.join(", "))]
    NotAChoice {
        value: String,
        choices: &'static [&'static str],
    },
    #[error("is {value}, expected {expected}")]
    WrongType {
        value: String,
        expected: &'static str,
    },
    /// Typed text (`--set`, a field) that does not read as the parameter's type.
    #[error("'{text}' is not {expected}")]
    Unreadable {
        text: String,
        expected: &'static str,
    },
}

impl ValueError {
    /// The allowed value closest to the refused one, when there is an obvious one (a number
    /// outside its range is clamped to it; a NaN has none).
    pub fn nearest_allowed(&self) -> Option<ParamValue> {
        match *self {
            ValueError::IntOutOfRange { value, min, max } => {
                Some(ParamValue::Int(value.clamp(min, max)))
            }
            ValueError::OutOfRange { value, min, max } if !value.is_nan() => {
                Some(ParamValue::Float(value.clamp(min, max)))
            }
            _ => None,
        }
    }
}

/// The default value of a parameter as a file value.
pub fn default_value(spec: &ParamSpec) -> ParamValue {
    match spec.default {
        ParamDefault::Int(i) => ParamValue::Int(i),
        ParamDefault::Float(x) => ParamValue::Float(x),
        ParamDefault::Bool(b) => ParamValue::Bool(b),
        ParamDefault::Text(s) => ParamValue::Text(s.to_owned()),
    }
}

/// Checks a value against the parameter's type and range; the error says what is allowed.
pub fn check_value(spec: &ParamSpec, value: &ParamValue) -> Result<(), ValueError> {
    match (&spec.kind, value) {
        (ParamKind::Int { min, max }, ParamValue::Int(i)) => {
            if i < min || i > max {
                return Err(ValueError::IntOutOfRange {
                    value: *i,
                    min: *min,
                    max: *max,
                });
            }
        }
        (ParamKind::Float { min, max }, ParamValue::Float(_) | ParamValue::Int(_)) => {
            let x = as_f64(value).unwrap_or(f64::NAN);
            if !x.is_finite() || x < *min || x > *max {
                return Err(ValueError::OutOfRange {
                    value: x,
                    min: *min,
                    max: *max,
                });
            }
        }
        (ParamKind::Bool, ParamValue::Bool(_)) => {}
        (
            ParamKind::Text | ParamKind::Path | ParamKind::Expr | ParamKind::List,
            ParamValue::Text(_),
        ) => {}
        (ParamKind::Choice(options), ParamValue::Text(s)) => {
            if !options.contains(&s.as_str()) {
                return Err(ValueError::NotAChoice {
                    value: s.clone(),
                    choices: options,
                });
            }
        }
        (kind, other) => {
            return Err(ValueError::WrongType {
                value: other.to_string(),
                expected: kind_name(kind),
            });
        }
    }
    Ok(())
}

fn kind_name(kind: &ParamKind) -> &'static str {
    match kind {
        ParamKind::Int { .. } => "an integer",
        ParamKind::Float { .. } => "a number",
        ParamKind::Bool => "true or false",
        ParamKind::Text | ParamKind::Path | ParamKind::Expr | ParamKind::List => "a text in quotes",
        ParamKind::Choice(_) => "one of the listed words in quotes",
    }
}

fn as_f64(value: &ParamValue) -> Option<f64> {
    match value {
        ParamValue::Float(x) => Some(*x),
        ParamValue::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// Turns command-line text into a value of the parameter's type (`--set window.size_ms=500`).
pub fn parse_param_text(spec: &ParamSpec, text: &str) -> Result<ParamValue, ValueError> {
    let unreadable = |expected| ValueError::Unreadable {
        text: text.to_owned(),
        expected,
    };
    let value = match spec.kind {
        ParamKind::Int { .. } => text
            .trim()
            .replace('_', "")
            .parse::<i64>()
            .map(ParamValue::Int)
            .map_err(|_| unreadable("an integer"))?,
        ParamKind::Float { .. } => text
            .trim()
            .parse::<f64>()
            .map(ParamValue::Float)
            .map_err(|_| unreadable("a number"))?,
        ParamKind::Bool => match text.trim() {
            "true" | "yes" | "1" | "on" => ParamValue::Bool(true),
            "false" | "no" | "0" | "off" => ParamValue::Bool(false),
            _ => return Err(unreadable("true or false")),
        },
        ParamKind::Text
        | ParamKind::Path
        | ParamKind::Expr
        | ParamKind::List
        | ParamKind::Choice(_) => ParamValue::Text(text.to_owned()),
    };
    check_value(spec, &value)?;
    Ok(value)
}

/// A node's parameters seen through its kind's spec: every read is typed and falls back to the
/// default. Values are checked by the validator before operators read them, so reads here
/// cannot fail; a value of the wrong type reads as the default.
#[derive(Clone, Copy)]
pub struct NodeParams<'a> {
    pub node: &'a Node,
    pub spec: &'static NodeSpec,
}

impl<'a> NodeParams<'a> {
    pub fn new(node: &'a Node, spec: &'static NodeSpec) -> Self {
        Self { node, spec }
    }

    /// The effective value: the node's own, else the default.
    pub fn value(&self, name: &str) -> ParamValue {
        if let Some(v) = self.node.params.get(name) {
            return v.clone();
        }
        self.spec
            .param(name)
            .map(default_value)
            .unwrap_or(ParamValue::Text(String::new()))
    }

    /// Problems with this node's parameter values, one per bad parameter.
    pub fn check(&self) -> Vec<ParamError> {
        let mut problems = Vec::new();
        for (name, value) in &self.node.params {
            match self.spec.param(name) {
                None => problems.push(ParamError::Unknown(name.clone())),
                Some(p) => {
                    if let Err(reason) = check_value(p, value) {
                        problems.push(ParamError::Invalid {
                            name: name.clone(),
                            reason,
                        });
                    }
                }
            }
        }
        problems
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            ParamValue::Int(i) => i,
            ParamValue::Float(x) => x as i64,
            _ => 0,
        }
    }

    pub fn float(&self, name: &str) -> f64 {
        as_f64(&self.value(name)).unwrap_or(0.0)
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.value(name), ParamValue::Bool(true))
    }

    pub fn text(&self, name: &str) -> String {
        match self.value(name) {
            ParamValue::Text(s) => s,
            other => other.to_string(),
        }
    }

    /// A comma-separated list parameter, trimmed, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.text(name)
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NodeKind;

    #[test]
    fn set_text_is_parsed_by_the_parameter_type() {
        let spec = NodeKind::Window.spec();
        let size = spec.param("size_ms").unwrap();
        assert_eq!(parse_param_text(size, "1_000"), Ok(ParamValue::Int(1000)));
        assert_eq!(
            parse_param_text(size, "abc").unwrap_err().to_string(),
            "'abc' is not an integer"
        );
        let too_small = parse_param_text(size, "0").unwrap_err();
        assert!(too_small.to_string().starts_with("is 0, outside 1..="));
        assert_eq!(too_small.nearest_allowed(), Some(ParamValue::Int(1)));
        let kind = spec.param("kind").unwrap();
        let err = parse_param_text(kind, "hopping").unwrap_err();
        assert!(err.to_string().contains("tumbling"), "{err}");
        assert_eq!(err.nearest_allowed(), None);
    }

    #[test]
    fn a_number_outside_its_range_knows_the_nearest_allowed_value() {
        let lr = NodeKind::Trainer.spec().param("lr").unwrap();
        let ParamKind::Float { max, .. } = lr.kind else {
            panic!("lr is a number")
        };
        let err = check_value(lr, &ParamValue::Float(max * 2.0)).unwrap_err();
        assert_eq!(err.nearest_allowed(), Some(ParamValue::Float(max)));
        let nan = check_value(lr, &ParamValue::Float(f64::NAN)).unwrap_err();
        assert_eq!(nan.nearest_allowed(), None);
        let wrong = check_value(lr, &ParamValue::Text("fast".into())).unwrap_err();
        assert_eq!(wrong.to_string(), "is \"fast\", expected a number");
    }
}
