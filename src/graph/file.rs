//! The `.ron` file format: loading with positioned errors, canonical pretty saving (atomic).
//! Loading never panics; a file from a newer Flowbook is refused before it is interpreted.

use super::Graph;
use crate::output_file::OutputError;
use serde::Deserialize;
use std::path::Path;

/// The version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The largest graph file Flowbook reads (64 MiB; the biggest example is a few kB). Reading
/// `/dev/zero` as a graph once grew without bound.
pub const MAX_GRAPH_FILE_BYTES: u64 = 64 << 20;

/// Why a graph file could not be loaded. Every variant names the file; parse errors carry line:column.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The message says in plain words what was expected and found there.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
        /// The line itself and a caret under the column (shown below the message).
        excerpt: String,
    },
    #[error(
        "{path}: written by a newer Flowbook (format_version {found}); this build reads up to {supported}"
    )]
    FutureVersion {
        path: String,
        found: u64,
        supported: u32,
    },
    #[error(
        "{path}: larger than {} MB, the most a graph file may be; is it really a graph?",
        MAX_GRAPH_FILE_BYTES >> 20
    )]
    TooLarge { path: String },
}

impl LoadError {
    /// The (line, column) of a syntax error, 1-based.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            LoadError::Syntax { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }

    /// The offending line with a caret under the place (empty when there is no place).
    pub fn excerpt(&self) -> &str {
        match self {
            LoadError::Syntax { excerpt, .. } => excerpt,
            _ => "",
        }
    }

    /// The message, and below it the line with a caret: for a terminal or a dialog.
    pub fn with_excerpt(&self) -> String {
        match self.excerpt() {
            "" => self.to_string(),
            excerpt => format!("{self}\n{excerpt}"),
        }
    }
}

/// Why a graph could not be saved. The previous file is left untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{path}: cannot save: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot encode the graph: {0}")]
    Encode(String),
    /// The target is a folder or a special file that must not be replaced.
    #[error("cannot save {0}")]
    Refused(String),
}

/// Reads only the version, so a future file is refused with a clear message rather than
/// with whatever its new fields would make the full parser say.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    format_version: u64,
}

/// A UTF-8 byte order mark (some editors on Windows start files with one).
const BOM: char = '\u{feff}';

/// Parses a graph from RON text; `origin` names the source in messages (a path or "clipboard").
pub fn from_ron_str(text: &str, origin: &str) -> Result<Graph, LoadError> {
    from_ron_str_with_warnings(text, origin).map(|loaded| loaded.graph)
}

/// A graph read from a file, and what was odd about the file without making it wrong: fields
/// this build does not know (a typo such as `parmas` loses the node's settings) and parameters
/// given twice (the last value is used).
#[derive(Debug)]
pub struct Loaded {
    pub graph: Graph,
    pub warnings: Vec<String>,
}

/// [`from_ron_str`], also returning the warnings.
pub fn from_ron_str_with_warnings(text: &str, origin: &str) -> Result<Loaded, LoadError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let syntax = |e: ron::error::SpannedError| LoadError::Syntax {
        path: origin.to_owned(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: super::parse_errors::plain_message(&e.code, text, e.span.start),
        excerpt: super::parse_errors::excerpt(text, e.span.start.line, e.span.start.col),
    };
    if let Ok(VersionProbe {
        format_version: found,
    }) = ron::from_str::<VersionProbe>(text)
        && found > u64::from(FORMAT_VERSION)
    {
        return Err(LoadError::FutureVersion {
            path: origin.to_owned(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    let mut deserializer = ron::Deserializer::from_str(text).map_err(syntax)?;
    let mut unknown = Vec::new();
    super::duplicate_params::start();
    let parsed =
        serde_ignored::deserialize(&mut deserializer, |path| unknown.push(path.to_string()));
    let duplicates = super::duplicate_params::finish();
    let graph: Graph = parsed.map_err(|e| syntax(deserializer.span_error(e)))?;
    deserializer
        .end()
        .map_err(|e| syntax(deserializer.span_error(e)))?;
    let mut warnings: Vec<String> = unknown
        .iter()
        .map(|path| unknown_field_warning(&graph, path))
        .collect();
    warnings.extend(super::duplicate_params::warnings(&graph, &duplicates));
    Ok(Loaded { graph, warnings })
}

/// "node 'x': unknown field 'parmas' ignored" for `nodes.3.parmas`; the path as it is elsewhere.
fn unknown_field_warning(graph: &Graph, path: &str) -> String {
    let mut parts = path.splitn(3, '.');
    if let (Some("nodes"), Some(index), Some(rest)) = (parts.next(), parts.next(), parts.next())
        && let Some(node) = index.parse::<usize>().ok().and_then(|i| graph.nodes.get(i))
    {
        return format!(
            "node '{}': unknown field '{rest}' ignored (a newer Flowbook's, or a typo)",
            node.name
        );
    }
    format!("unknown field '{path}' ignored (a newer Flowbook's, or a typo)")
}

/// Loads a graph file (at most [`MAX_GRAPH_FILE_BYTES`], UTF-8 text).
pub fn load(path: &Path) -> Result<Graph, LoadError> {
    load_with_warnings(path).map(|loaded| loaded.graph)
}

/// [`load`], also returning the file's warnings (unknown fields, parameters given twice).
pub fn load_with_warnings(path: &Path) -> Result<Loaded, LoadError> {
    let text = read_text(path)?;
    from_ron_str_with_warnings(&text, &path.display().to_string())
}

/// Reads a graph file's text: refused past the size limit (without reading more than the
/// limit, so a device or an endless pipe cannot fill memory), and bytes that are not UTF-8 are
/// named by line and column.
fn read_text(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |source| LoadError::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.is_dir() {
        return Err(io(std::io::Error::other(
            "it is a folder, not a graph file",
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_GRAPH_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_GRAPH_FILE_BYTES {
        return Err(LoadError::TooLarge { path: shown });
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let bad = e.as_bytes().get(good.len()).copied().unwrap_or(0);
        // Valid up to here, so the prefix is text.
        let before = String::from_utf8_lossy(good);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        LoadError::Syntax {
            path: shown.clone(),
            line,
            column,
            message: format!("byte 0x{bad:02x} is not UTF-8 text; save the file as UTF-8"),
            excerpt: String::new(),
        }
    })
}

/// The canonical text of a graph: what `save` writes. Deterministic, so load → save is
/// byte-identical for files Flowbook wrote.
pub fn to_ron_string(graph: &Graph) -> Result<String, SaveError> {
    let config = ron::ser::PrettyConfig::new()
        .indentor("    ")
        .struct_names(false)
        .separate_tuple_members(false)
        .depth_limit(3);
    let mut text =
        ron::ser::to_string_pretty(graph, config).map_err(|e| SaveError::Encode(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// Saves atomically: writes a temporary file beside the target, syncs it, then renames it over
/// the target. A failure at any point leaves the old file as it was.
pub fn save(graph: &Graph, path: &Path) -> Result<(), SaveError> {
    let text = to_ron_string(graph)?;
    write_atomically(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically (the crate's one atomic write, `output_file`).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    crate::output_file::write_atomically(path, bytes).map_err(|e| match e {
        OutputError::Io { path, source } => SaveError::Io { path, source },
        refused @ OutputError::Refused { .. } => SaveError::Refused(refused.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, NodeId, ParamValue, PortRef};

    fn sample() -> Graph {
        let mut g = Graph::new("sample");
        g.notes = "Reads *events*.".into();
        let mut source = Node {
            id: NodeId(1),
            name: "source".into(),
            kind: "csv_source".into(),
            pos: [10.0, 20.5],
            params: Default::default(),
            notes: String::new(),
        };
        source
            .params
            .insert("path".into(), ParamValue::Text("a.csv".into()));
        source.params.insert("lr".into(), ParamValue::Float(1.0));
        source.params.insert("n".into(), ParamValue::Int(-3));
        source.params.insert("b".into(), ParamValue::Bool(true));
        g.nodes.push(source);
        g.nodes.push(Node {
            id: NodeId(2),
            name: "sink".into(),
            kind: "null_sink".into(),
            pos: [200.0, 20.0],
            params: Default::default(),
            notes: String::new(),
        });
        g.edges.push(Edge {
            from: PortRef::new(NodeId(1), "out"),
            to: PortRef::new(NodeId(2), "in"),
        });
        g
    }

    #[test]
    fn saved_text_round_trips_byte_identically() {
        let text = to_ron_string(&sample()).unwrap();
        let loaded = from_ron_str(&text, "mem").unwrap();
        assert_eq!(loaded, sample());
        assert_eq!(to_ron_string(&loaded).unwrap(), text);
    }

    #[test]
    fn float_param_that_looks_integral_stays_float() {
        let text = to_ron_string(&sample()).unwrap();
        let loaded = from_ron_str(&text, "mem").unwrap();
        assert_eq!(loaded.nodes[0].params["lr"], ParamValue::Float(1.0));
        assert_eq!(loaded.nodes[0].params["n"], ParamValue::Int(-3));
    }

    #[test]
    fn malformed_text_reports_line_and_column() {
        let err =
            from_ron_str("(\n  format_version: 1,\n  nodes: [ (id: ]\n)", "bad.ron").unwrap_err();
        let (line, column) = err.position().expect("a syntax error has a position");
        assert_eq!(line, 3);
        assert!(column > 1, "{err}");
        assert!(err.to_string().starts_with("bad.ron:3:"), "{err}");
    }

    #[test]
    fn future_version_is_refused_by_name() {
        let err = from_ron_str(
            "(format_version: 99, nodes: [], edges: [], wormholes: 3)",
            "f.ron",
        )
        .unwrap_err();
        assert!(
            matches!(err, LoadError::FutureVersion { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn atomic_save_replaces_and_failed_save_keeps_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.ron");
        save(&sample(), &path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let missing_dir = dir.path().join("no/such/dir/g.ron");
        assert!(save(&sample(), &missing_dir).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
