//! Parameters given twice in one node's `params` map: serde keeps the last value silently, so the
//! map is read here, noting each repeated key (the last value still wins), and the file loader
//! turns the notes into warnings naming the node.

use super::{Graph, ParamValue};
use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// A map that had repeated keys: the repeated keys, and all its keys (to find its node).
pub struct Repeated {
    keys: Vec<String>,
    all: Vec<String>,
}

thread_local! {
    /// Collects repeated keys while one file is read (`None`: nobody is listening).
    static NOTES: RefCell<Option<Vec<Repeated>>> = const { RefCell::new(None) };
}

/// Starts collecting for one file on this thread.
pub fn start() {
    NOTES.with(|n| *n.borrow_mut() = Some(Vec::new()));
}

/// Stops collecting and returns what was noted.
pub fn finish() -> Vec<Repeated> {
    NOTES.with(|n| n.borrow_mut().take()).unwrap_or_default()
}

/// One warning per repeated key, naming the node whose parameters these are.
pub fn warnings(graph: &Graph, notes: &[Repeated]) -> Vec<String> {
    let mut used = vec![false; graph.nodes.len()];
    let mut out = Vec::new();
    for note in notes {
        let found = graph
            .nodes
            .iter()
            .enumerate()
            .position(|(i, node)| !used[i] && node.params.keys().eq(note.all.iter()));
        let name = match found {
            Some(i) => {
                used[i] = true;
                format!("node '{}'", graph.nodes[i].name)
            }
            None => "a node".to_owned(),
        };
        for key in &note.keys {
            out.push(format!(
                "{name}: parameter '{key}' is given more than once; the last value is used"
            ));
        }
    }
    out
}

/// `deserialize_with` for `Node::params`.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, ParamValue>, D::Error> {
    deserializer.deserialize_map(ParamsVisitor)
}

struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = BTreeMap<String, ParamValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of parameter names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = BTreeMap::new();
        let mut repeated = Vec::new();
        while let Some((key, value)) = access.next_entry::<String, ParamValue>()? {
            if map.insert(key.clone(), value).is_some() && !repeated.contains(&key) {
                repeated.push(key);
            }
        }
        if !repeated.is_empty() {
            NOTES.with(|n| {
                if let Some(notes) = n.borrow_mut().as_mut() {
                    notes.push(Repeated {
                        keys: repeated,
                        all: map.keys().cloned().collect(),
                    });
                }
            });
        }
        Ok(map)
    }
}
