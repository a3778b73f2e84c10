//! Reads one node's parameters into typed values for its `OpSpec`: each value is taken from the
//! node (or the catalogue's default), checked against its range and turned into its type once.
//! Nothing falls back silently: a name the catalogue does not list, a read of the wrong type or
//! a choice without a meaning is a problem naming the node and parameter, never a zero.

use super::Problem;
use crate::catalog::{NodeKind, ParamKind, ParamSpec, check_value, default_value};
use crate::graph::{Node, ParamValue};

/// Typed reads of one node's parameters; problems are gathered and reported by `finish`.
pub struct ParamReader<'a> {
    node: &'a Node,
    kind: NodeKind,
    problems: Vec<Problem>,
}

impl<'a> ParamReader<'a> {
    pub fn new(node: &'a Node, kind: NodeKind) -> Self {
        Self {
            node,
            kind,
            problems: Vec::new(),
        }
    }

    /// The node the parameters belong to (for problems found while resolving them).
    pub fn node(&self) -> &'a Node {
        self.node
    }

    /// `value` if every read succeeded, else the first problem found.
    pub fn finish<T>(self, value: T) -> Result<T, Problem> {
        match self.problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(value),
        }
    }

    /// Records a problem about parameter `name` (e.g. a field it names does not exist).
    pub fn problem(&mut self, name: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::node(self.node, message).with_param(name));
    }

    /// The checked value of `name` and its spec, if `name` is a parameter of this kind.
    fn checked(&mut self, name: &str) -> Option<(&'static ParamSpec, ParamValue)> {
        let Some(spec) = self.kind.spec().param(name) else {
            self.problem(
                name,
                format!(
                    "internal: {} has no parameter '{name}' to read",
                    self.kind.spec().id
                ),
            );
            return None;
        };
        let value = self
            .node
            .params
            .get(name)
            .cloned()
            .unwrap_or_else(|| default_value(spec));
        match check_value(spec, &value) {
            Ok(()) => Some((spec, value)),
            Err(reason) => {
                self.problem(name, reason.to_string());
                None
            }
        }
    }

    fn wrong_type(&mut self, name: &str, wanted: &str) {
        let id = self.kind.spec().id;
        self.problem(
            name,
            format!("internal: {id}.{name} is not {wanted} in the catalogue"),
        );
    }

    /// An integer parameter.
    pub fn int(&mut self, name: &str) -> i64 {
        match self.checked(name) {
            Some((spec, ParamValue::Int(i))) if matches!(spec.kind, ParamKind::Int { .. }) => i,
            Some(_) => {
                self.wrong_type(name, "an integer");
                0
            }
            None => 0,
        }
    }

    /// An integer parameter that must not be negative (a count or an id).
    pub fn count(&mut self, name: &str) -> u64 {
        let value = self.int(name);
        u64::try_from(value).unwrap_or_else(|_| {
            self.problem(name, format!("is {value}, expected 0 or more"));
            0
        })
    }

    /// An integer parameter used as a size (a count that fits the machine's `usize`).
    pub fn size(&mut self, name: &str) -> usize {
        let value = self.count(name);
        usize::try_from(value).unwrap_or_else(|_| {
            self.problem(name, format!("is {value}, too large for this machine"));
            0
        })
    }

    /// A number parameter (an integer written in the file is accepted as a number).
    pub fn float(&mut self, name: &str) -> f64 {
        match self.checked(name) {
            Some((spec, value)) if matches!(spec.kind, ParamKind::Float { .. }) => match value {
                ParamValue::Float(x) => x,
                ParamValue::Int(i) => i as f64,
                ParamValue::Bool(_) | ParamValue::Text(_) => {
                    self.wrong_type(name, "a number");
                    0.0
                }
            },
            Some(_) => {
                self.wrong_type(name, "a number");
                0.0
            }
            None => 0.0,
        }
    }

    /// A true/false parameter.
    pub fn bool(&mut self, name: &str) -> bool {
        match self.checked(name) {
            Some((_, ParamValue::Bool(b))) => b,
            Some(_) => {
                self.wrong_type(name, "true or false");
                false
            }
            None => false,
        }
    }

    /// A text, path or expression parameter, as written.
    pub fn text(&mut self, name: &str) -> String {
        match self.checked(name) {
            Some((spec, ParamValue::Text(text)))
                if matches!(
                    spec.kind,
                    ParamKind::Text | ParamKind::Path | ParamKind::Expr | ParamKind::List
                ) =>
            {
                text
            }
            Some(_) => {
                self.wrong_type(name, "a text");
                String::new()
            }
            None => String::new(),
        }
    }

    /// A comma-separated list parameter: trimmed names, empty items dropped.
    pub fn list(&mut self, name: &str) -> Vec<String> {
        self.text(name)
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// A choice parameter, turned into its meaning by `meanings` (word → value). Every word the
    /// catalogue allows must have a meaning; a test checks it for every choice of every kind.
    pub fn choice<T: Copy>(&mut self, name: &str, meanings: &[(&str, T)]) -> Option<T> {
        let word = match self.checked(name) {
            Some((spec, ParamValue::Text(word))) if matches!(spec.kind, ParamKind::Choice(_)) => {
                word
            }
            Some(_) => {
                self.wrong_type(name, "a choice");
                return None;
            }
            None => return None,
        };
        let meaning = meanings.iter().find(|(w, _)| *w == word).map(|(_, m)| *m);
        if meaning.is_none() {
            let words: Vec<&str> = meanings.iter().map(|(w, _)| *w).collect();
            self.problem(
                name,
                format!("is '{word}', expected one of: {}", words.join(", ")),
            );
        }
        meaning
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeId;

    fn window_node(params: &[(&str, ParamValue)]) -> Node {
        Node {
            id: NodeId(1),
            name: "w".into(),
            kind: "window".into(),
            pos: [0.0, 0.0],
            params: params
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
            notes: String::new(),
        }
    }

    #[test]
    fn values_come_from_the_node_or_the_catalogue_default() {
        let node = window_node(&[("size_ms", ParamValue::Int(250))]);
        let mut reader = ParamReader::new(&node, NodeKind::Window);
        assert_eq!(reader.int("size_ms"), 250);
        assert_eq!(reader.int("gap_ms"), 500, "the catalogue's default");
        assert!(reader.finish(()).is_ok());
    }

    #[test]
    fn a_misspelled_name_is_a_problem_not_a_zero() {
        let node = window_node(&[]);
        let mut reader = ParamReader::new(&node, NodeKind::Window);
        reader.int("sise_ms");
        let problem = reader.finish(()).unwrap_err();
        assert_eq!(problem.param.as_deref(), Some("sise_ms"));
        assert!(
            problem.message.contains("no parameter 'sise_ms'"),
            "{problem}"
        );
    }

    #[test]
    fn a_read_of_the_wrong_type_is_a_problem() {
        let node = window_node(&[]);
        let mut reader = ParamReader::new(&node, NodeKind::Window);
        reader.text("size_ms");
        assert!(
            reader
                .finish(())
                .unwrap_err()
                .message
                .contains("not a text")
        );
    }

    #[test]
    fn an_out_of_range_value_is_refused_with_the_range() {
        let node = window_node(&[("size_ms", ParamValue::Int(0))]);
        let mut reader = ParamReader::new(&node, NodeKind::Window);
        reader.int("size_ms");
        let problem = reader.finish(()).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "w.size_ms: is 0, outside 1..=864000000000"
        );
    }

    #[test]
    fn a_choice_without_a_meaning_is_a_problem() {
        let node = window_node(&[("kind", ParamValue::Text("session".into()))]);
        let mut reader = ParamReader::new(&node, NodeKind::Window);
        assert_eq!(
            reader.choice("kind", &[("tumbling", 1), ("sliding", 2)]),
            None
        );
        let problem = reader.finish(()).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "w.kind: is 'session', expected one of: tumbling, sliding"
        );
    }
}
