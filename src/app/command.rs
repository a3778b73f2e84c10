//! Everything a user can ask of the editor, as data. Widgets found mid-frame push a `Command`;
//! the shell applies them all at the end of the frame (`apply.rs`), so no widget ever edits
//! the document while it is being drawn, and tests can drive the editor without a pointer.

use crate::app::canvas::CardId;
use crate::catalog::NodeKind;
use crate::graph::{Edge, GroupId, NodeId, ParamValue, PortRef};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What is selected on the canvas. UI state: never saved in the file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub nodes: BTreeSet<NodeId>,
    /// Comment cards by index in `Graph::comments`.
    pub comments: BTreeSet<usize>,
    /// Group cards (on the top level).
    pub groups: BTreeSet<GroupId>,
    /// A selected wire (selected alone).
    pub edge: Option<Edge>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.comments.is_empty()
            && self.groups.is_empty()
            && self.edge.is_none()
    }

    pub fn only_node(id: NodeId) -> Self {
        Self {
            nodes: BTreeSet::from([id]),
            ..Self::default()
        }
    }

    pub fn only_group(id: GroupId) -> Self {
        Self {
            groups: BTreeSet::from([id]),
            ..Self::default()
        }
    }

    /// The node the inspector shows: the one selected node, if exactly one is.
    pub fn single_node(&self) -> Option<NodeId> {
        match (
            self.nodes.len(),
            self.comments.is_empty() && self.groups.is_empty(),
        ) {
            (1, true) => self.nodes.first().copied(),
            _ => None,
        }
    }

    pub fn single_comment(&self) -> Option<usize> {
        match (
            self.nodes.is_empty() && self.groups.is_empty(),
            self.comments.len(),
        ) {
            (true, 1) => self.comments.first().copied(),
            _ => None,
        }
    }

    /// The group the inspector shows: the one selected group, if exactly one is.
    pub fn single_group(&self) -> Option<GroupId> {
        match (
            self.groups.len(),
            self.nodes.is_empty() && self.comments.is_empty(),
        ) {
            (1, true) => self.groups.first().copied(),
            _ => None,
        }
    }

    /// Whether a card is selected.
    pub fn contains(&self, card: CardId) -> bool {
        match card {
            CardId::Node(id) => self.nodes.contains(&id),
            CardId::Group(id) => self.groups.contains(&id),
        }
    }

    /// The selected nodes, with the nodes of the selected groups.
    pub fn nodes_with_groups(&self, graph: &crate::graph::Graph) -> BTreeSet<NodeId> {
        let mut nodes = self.nodes.clone();
        for id in &self.groups {
            if let Some(group) = graph.group(*id) {
                nodes.extend(group.nodes.iter().copied());
            }
        }
        nodes
    }
}

/// An action that needs the user's word when there are unsaved changes.
#[derive(Clone, Debug, PartialEq)]
pub enum Guarded {
    New,
    Open(PathBuf),
    /// Open a copy of an example: an untitled graph with its content.
    OpenCopy(PathBuf),
    Quit,
}

/// What a file dialog was opened for.
#[derive(Clone, Debug, PartialEq)]
pub enum DialogPurpose {
    Open,
    SaveAs,
    /// Pick a file for a path parameter.
    ParamPath {
        node: NodeId,
        param: String,
    },
    /// Add a CSV source reading the picked file.
    AddCsv,
    /// Where to write the notebook as an HTML report.
    ExportReport,
}

/// A user action, applied at the end of the frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    // --- document edits: each is one undo step (drags merge by gesture) ---
    AddNode {
        kind: NodeKind,
        pos: [f32; 2],
    },
    AddCsvSource {
        path: PathBuf,
        pos: [f32; 2],
    },
    AddComment {
        pos: [f32; 2],
    },
    Connect {
        from: PortRef,
        to: PortRef,
    },
    Disconnect(Edge),
    /// New positions of nodes, group cards and comments during a drag.
    MoveItems {
        nodes: Vec<(NodeId, [f32; 2])>,
        comments: Vec<(usize, [f32; 2])>,
        groups: Vec<(GroupId, [f32; 2])>,
        gesture: u64,
    },
    /// Groups the selected nodes into one card (Ctrl+G).
    GroupSelection,
    /// Dissolves a group: its nodes return where its card was (Ctrl+Shift+G).
    Ungroup(GroupId),
    RenameGroup {
        group: GroupId,
        name: String,
    },
    ResizeComment {
        index: usize,
        size: [f32; 2],
        gesture: u64,
    },
    SetParam {
        node: NodeId,
        param: String,
        value: ParamValue,
        /// Typing or dragging: merges with the previous change of the same field. Only an
        /// unmerged (committed) change of a live parameter reaches a running graph.
        merge: bool,
    },
    /// Sends a live parameter's value in the document to the running graph (after a scrub of
    /// its name, whose merged edits do not reach the run one by one).
    CommitLiveParam {
        node: NodeId,
        param: String,
    },
    /// Removes the node's own value so the catalogue default applies.
    ResetParam {
        node: NodeId,
        param: String,
    },
    Rename {
        node: NodeId,
        name: String,
    },
    SetNodeNotes {
        node: NodeId,
        text: String,
    },
    SetCommentText {
        index: usize,
        text: String,
    },
    SetGraphName(String),
    SetGraphNotes(String),
    /// Ends a merged edit (a scrub or typing session) so the next change is its own step.
    EndEdit,
    DeleteSelection,
    Cut,
    Copy,
    /// Pastes RON text (from the system clipboard), or the editor's own last copy when `None`.
    Paste(Option<String>),
    Duplicate,
    Undo,
    Redo,
    // --- selection and view ---
    SelectAll,
    Select(Selection),
    /// Selects a node and frames it at a readable zoom, opening its group (problems panel).
    FocusNode(NodeId),
    /// Shows a group's inside for editing, or the top level with `None`.
    OpenGroup(Option<GroupId>),
    ZoomToFit,
    ResetZoom,
    SetDarkTheme(bool),
    SetSnapToGrid(bool),
    SetMinimap(bool),
    // --- files ---
    New,
    Open(PathBuf),
    /// Skips the unsaved-changes question (the user answered "Discard").
    Discard(Guarded),
    /// Saves, then does the guarded action.
    SaveThen(Guarded),
    Save,
    SaveAs(PathBuf),
    /// Show the examples gallery.
    ShowGallery,
    /// Open a copy of an example graph (guarded by the unsaved-changes question).
    OpenExampleCopy(PathBuf),
    /// Write the notebook and the last run's results as a self-contained HTML page.
    ExportReport(PathBuf),
    ShowFileDialog(DialogPurpose),
    Quit,
    DismissDialog,
    // --- runs ---
    Run(crate::app::run::RunCommand),
    /// Pause a running graph, resume a paused one.
    TogglePause,
    SetFlowView(crate::app::run::FlowView),
    /// Open (or close, with `None`) the data preview of an output port.
    ShowPreview(Option<(NodeId, String)>),
    // --- notebook ---
    AddCell(crate::graph::Cell),
    SetCellText {
        index: usize,
        text: String,
    },
    MoveCell {
        from: usize,
        to: usize,
    },
    DeleteCell(usize),
    /// Adds the cells that show this node's output.
    PinToNotebook(NodeId),
    ToggleNotebook,
    /// Opens the offered recovery file as a modified document (and keeps it until saved).
    RestoreRecovery,
    /// Deletes the offered recovery file.
    DiscardRecovery,
}
