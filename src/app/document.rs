//! The open document: the graph, where it lives on disk, and its undo history. Every edit goes
//! through `edit`, which records one undo step (or merges into the running gesture's step);
//! nothing else may change the graph, so undo and the modified flag can never be bypassed.

use crate::graph::Graph;
use std::path::{Path, PathBuf};

/// How many undo steps are kept.
const UNDO_LIMIT: usize = 256;

/// Consecutive edits with the same key merge into one undo step: a drag of nodes, a drag of
/// a number, typing into one field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MergeKey {
    /// One pointer gesture on the canvas (a drag of nodes or a comment resize).
    Gesture(u64),
    /// Typing into or dragging one field of the inspector.
    Field(String),
}

#[derive(Clone, Debug)]
struct Snapshot {
    graph: Graph,
    revision: u64,
}

/// Where an unsaved graph's relative paths resolve, and why: the user is shown both.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnsavedFolder {
    /// Absolute.
    pub folder: PathBuf,
    pub why: FolderWhy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FolderWhy {
    /// The graph is a copy of an example: its data sits beside the example.
    Example,
    Documents,
    Home,
    /// No documents or home folder is known (a bare service account): the temp folder.
    Temporary,
    /// Chosen by the program (tests, embedding).
    Given,
}

impl UnsavedFolder {
    /// The user's documents folder, else their home folder: where a new graph's files go.
    pub fn documents() -> Self {
        if let Some(folder) = dirs::document_dir().filter(|d| d.is_dir()) {
            return Self::new(folder, FolderWhy::Documents);
        }
        match dirs::home_dir() {
            Some(home) => Self::new(home, FolderWhy::Home),
            None => Self::new(std::env::temp_dir(), FolderWhy::Temporary),
        }
    }

    /// The folder of the example `example_file` (a copy of it reads the data beside it).
    pub fn of_example(example_file: &Path) -> Self {
        let folder = example_file
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        Self::new(folder, FolderWhy::Example)
    }

    pub fn new(folder: impl Into<PathBuf>, why: FolderWhy) -> Self {
        let folder = folder.into();
        Self {
            folder: std::path::absolute(&folder).unwrap_or(folder),
            why,
        }
    }

    /// The folder as a person reads it: `~/Documents` for a folder in the home folder.
    pub fn short(&self) -> String {
        short_folder(&self.folder)
    }
}

/// `folder` with the home folder written `~`.
pub fn short_folder(folder: &Path) -> String {
    match dirs::home_dir().and_then(|home| folder.strip_prefix(home).ok().map(Path::to_path_buf)) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Some(rest) => format!("~/{}", rest.display()),
        None => folder.display().to_string(),
    }
}

/// A graph with a path, a modified flag and undo/redo.
#[derive(Debug)]
pub struct Document {
    graph: Graph,
    pub path: Option<PathBuf>,
    /// Where relative paths resolve while the graph has no file (never the working directory).
    pub unsaved_folder: UnsavedFolder,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    open_merge: Option<MergeKey>,
    /// Identifies the current content; undo and redo restore earlier revisions.
    revision: u64,
    next_revision: u64,
    saved_revision: u64,
}

impl Document {
    pub fn new(mut graph: Graph, path: Option<PathBuf>) -> Self {
        // A hand-edited file may name grouped nodes that do not exist: drop those entries.
        graph.tidy_groups();
        Self {
            graph,
            path: path.map(|p| std::path::absolute(&p).unwrap_or(p)),
            unsaved_folder: UnsavedFolder::documents(),
            undo: Vec::new(),
            redo: Vec::new(),
            open_merge: None,
            revision: 0,
            next_revision: 1,
            saved_revision: 0,
        }
    }

    /// Work brought back from a recovery file: modified (nothing of it is saved yet), no undo.
    pub fn restored(graph: Graph, path: Option<PathBuf>) -> Self {
        Self {
            revision: 1,
            next_revision: 2,
            ..Self::new(graph, path)
        }
    }

    /// An unsaved copy of the example at `example_file`: its paths resolve beside the example.
    pub fn copy_of_example(graph: Graph, example_file: &Path) -> Self {
        Self::new(graph, None).with_unsaved_folder(UnsavedFolder::of_example(example_file))
    }

    /// The same document, resolving relative paths in `folder` while unsaved.
    pub fn with_unsaved_folder(mut self, folder: UnsavedFolder) -> Self {
        self.unsaved_folder = folder;
        self
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Where the graph's relative paths resolve: its file's folder; unsaved, its
    /// `unsaved_folder`. Never the process's working directory.
    pub fn location(&self) -> crate::paths::GraphLocation {
        match &self.path {
            Some(path) => crate::paths::GraphLocation::of_file(path),
            None => crate::paths::GraphLocation::unsaved(&self.unsaved_folder.folder),
        }
    }

    /// Where relative paths point, in a few words for the title and status bar
    /// ("paths relative to ~/Documents"); `None` once saved (beside the file, as expected).
    pub fn folder_hint(&self) -> Option<String> {
        if self.path.is_some() {
            return None;
        }
        let folder = self.unsaved_folder.short();
        Some(match self.unsaved_folder.why {
            FolderWhy::Example => format!("paths relative to the example's folder {folder}"),
            _ => format!("paths relative to {folder}"),
        })
    }

    /// The status bar's short form of `folder_hint`: the folder's own name.
    pub fn folder_badge(&self) -> Option<String> {
        self.path.is_none().then(|| {
            let name = self.unsaved_folder.folder.file_name().map_or_else(
                || self.unsaved_folder.short(),
                |n| n.to_string_lossy().into_owned(),
            );
            format!("files in {name}/")
        })
    }

    /// The folder relative paths resolve in, and why, for a tooltip.
    pub fn folder_explained(&self) -> String {
        let folder = short_folder(self.location().folder());
        let why = match (&self.path, self.unsaved_folder.why) {
            (Some(_), _) => "the graph file's folder",
            (None, FolderWhy::Example) => "the folder of the example this graph was copied from",
            (None, FolderWhy::Documents) => "your Documents folder, until you save the graph",
            (None, FolderWhy::Home) => "your home folder, until you save the graph",
            (None, FolderWhy::Temporary) => "the temporary folder, until you save the graph",
            (None, FolderWhy::Given) => "the folder chosen for this unsaved graph",
        };
        format!("Relative file paths in this graph (CSV inputs, outputs) are in {folder}: {why}.")
    }

    /// Changes the graph as one undo step. A failed edit leaves the graph untouched and records
    /// nothing; an edit that changes nothing records nothing either.
    pub fn edit<R, E>(
        &mut self,
        merge: Option<MergeKey>,
        change: impl FnOnce(&mut Graph) -> Result<R, E>,
    ) -> Result<R, E> {
        let before = self.graph.clone();
        let result = match change(&mut self.graph) {
            Ok(r) => r,
            Err(e) => {
                self.graph = before;
                return Err(e);
            }
        };
        if self.graph == before {
            return Ok(result);
        }
        let merges = merge.is_some() && merge == self.open_merge;
        if !merges {
            self.undo.push(Snapshot {
                graph: before,
                revision: self.revision,
            });
            if self.undo.len() > UNDO_LIMIT {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.open_merge = merge;
        self.revision = self.next_revision;
        self.next_revision += 1;
        Ok(result)
    }

    /// Ends the running merge: the next edit starts a new undo step even with the same key.
    pub fn close_merge(&mut self) {
        self.open_merge = None;
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) -> bool {
        let Some(previous) = self.undo.pop() else {
            return false;
        };
        let current = self.swap_in(previous);
        self.redo.push(current);
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some(next) = self.redo.pop() else {
            return false;
        };
        let current = self.swap_in(next);
        self.undo.push(current);
        true
    }

    fn swap_in(&mut self, snapshot: Snapshot) -> Snapshot {
        self.open_merge = None;
        let old = Snapshot {
            graph: std::mem::replace(&mut self.graph, snapshot.graph),
            revision: self.revision,
        };
        self.revision = snapshot.revision;
        old
    }

    /// Changes since the last save (or load); undoing back to the saved state clears it.
    pub fn is_modified(&self) -> bool {
        self.revision != self.saved_revision
    }

    /// Identifies the content: equal revisions mean an equal graph.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn mark_saved(&mut self, path: &Path) {
        self.path = Some(path.to_path_buf());
        self.saved_revision = self.revision;
        self.open_merge = None;
    }

    /// The file name (or "untitled") and a `*` when modified: the window title's first part.
    pub fn title(&self) -> String {
        let name = self
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "untitled".to_owned());
        let star = if self.is_modified() { " *" } else { "" };
        format!("{name}{star}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn add(doc: &mut Document, merge: Option<MergeKey>, name: &str) {
        let _ = doc.edit(merge, |g| {
            g.add_node("map", name, [0.0, 0.0]);
            Ok::<_, Infallible>(())
        });
    }

    #[test]
    fn undo_redo_and_modified_flag_follow_the_saved_revision() {
        let mut doc = Document::new(Graph::new("t"), None);
        assert!(!doc.is_modified());
        add(&mut doc, None, "a");
        assert!(doc.is_modified());
        assert_eq!(doc.title(), "untitled *");
        doc.mark_saved(Path::new("/tmp/x.ron"));
        assert_eq!(doc.title(), "x.ron");
        add(&mut doc, None, "b");
        assert!(doc.undo());
        assert!(!doc.is_modified(), "back at the saved state");
        assert!(doc.redo());
        assert_eq!(doc.graph().nodes.len(), 2);
        assert!(doc.is_modified());
    }

    #[test]
    fn edits_with_one_merge_key_are_one_step_and_failures_record_nothing() {
        let mut doc = Document::new(Graph::new("t"), None);
        for i in 0..5 {
            let _ = doc.edit(Some(MergeKey::Gesture(7)), |g| {
                g.add_node("map", &format!("n{i}"), [0.0, 0.0]);
                Ok::<_, Infallible>(())
            });
        }
        let failed: Result<(), &str> = doc.edit(None, |g| {
            g.nodes.clear();
            Err("refused")
        });
        assert!(failed.is_err());
        assert_eq!(doc.graph().nodes.len(), 5, "a failed edit changes nothing");
        assert!(doc.undo());
        assert!(
            doc.graph().nodes.is_empty(),
            "one undo step for the whole gesture"
        );
        assert!(!doc.can_undo());
    }
}
