//! The graph document: nodes, edges, parameters, notes and positions as plain data.
//! It knows nothing of egui, of the catalogue or of execution; the file format lives in `file`.

mod duplicate_params;
mod edit;
mod file;
mod group;
mod notebook;
mod pace;
mod parse_errors;

pub use notebook::Cell;
pub use pace::{ANIMATE_SECONDS, Pace, REPLAY_FACTORS};

pub use edit::{EditError, is_valid_name};
pub use file::{
    FORMAT_VERSION, LoadError, Loaded, MAX_GRAPH_FILE_BYTES, SaveError, from_ron_str,
    from_ron_str_with_warnings, load, load_with_warnings, save, to_ron_string, write_atomically,
};
pub use group::{Group, GroupError, GroupId};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A node's identity inside one graph. Stable across renames, so edges and the
/// editor's selection survive a rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A whole Flowbook document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub format_version: u32,
    #[serde(default)]
    pub name: String,
    /// Graph-level notes (markdown), the "notebook" text around the pipeline.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// How fast Run goes in the editor unless the toolbar says otherwise (`flowbook run`
    /// goes at full speed unless given `--pace`). Omitted from the file when `Max`.
    #[serde(default, skip_serializing_if = "Pace::is_max")]
    pub pace: Pace,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Comment cards placed on the canvas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
    /// The notebook's cells, in order (text and pinned outputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notebook: Vec<Cell>,
    /// Nodes the editor shows as one card each (files without groups load unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
}

/// One node: a kind from the catalogue plus the parameter values the user set.
/// Parameters not present take the catalogue's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    /// Unique, human-readable; used by `--set name.param=value` and in every error.
    pub name: String,
    /// Catalogue id of the node kind, e.g. `"window"`.
    pub kind: String,
    /// Canvas position of the card's top-left corner, in canvas units.
    #[serde(default)]
    pub pos: [f32; 2],
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "duplicate_params::deserialize"
    )]
    pub params: BTreeMap<String, ParamValue>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// A wire from an output port to an input port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub from: PortRef,
    pub to: PortRef,
}

/// A port of a node, by the port's catalogue name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRef {
    pub node: NodeId,
    pub port: String,
}

impl PortRef {
    pub fn new(node: NodeId, port: &str) -> Self {
        Self {
            node,
            port: port.to_owned(),
        }
    }
}

/// A markdown comment card on the canvas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub text: String,
    pub pos: [f32; 2],
    pub size: [f32; 2],
}

/// A parameter value as written in the file. Untagged, so files read naturally:
/// `size_ms: 1000`, `lr: 0.001`, `path: "data.csv"`, `bounded: true`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl ParamValue {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(x) => Some(*x),
            ParamValue::Bool(_) | ParamValue::Text(_) => None,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl Graph {
    /// An empty graph at the current format version.
    pub fn new(name: &str) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            name: name.to_owned(),
            notes: String::new(),
            pace: Pace::Max,
            nodes: Vec::new(),
            edges: Vec::new(),
            comments: Vec::new(),
            notebook: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    pub fn node_by_name(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn node_by_name_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// The name of a node for messages; falls back to its id when it is missing.
    pub fn display_name(&self, id: NodeId) -> String {
        self.node(id)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// Edges that end at `node`.
    pub fn inputs_of(&self, node: NodeId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to.node == node)
    }

    /// Edges that start at `node`.
    pub fn outputs_of(&self, node: NodeId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.from.node == node)
    }
}
