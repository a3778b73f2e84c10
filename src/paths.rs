//! Where a graph's file paths point. Relative paths in a graph resolve against the graph file's
//! folder (as project files do), never against the process's working directory; an unsaved graph
//! uses a folder its caller chooses. Pure path arithmetic: this module opens no file.

use std::path::{Component, Path, PathBuf};

/// The path that means "standard input" for a CSV source (and is never resolved).
pub const STDIN: &str = "-";

/// Where a graph lives: the folder its relative paths resolve against, and its own file (when
/// it has been saved), which the run must never overwrite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphLocation {
    folder: PathBuf,
    file: Option<PathBuf>,
    /// Why `folder` is the base, for messages ("the graph's folder", "the example's folder").
    origin: BaseOrigin,
}

/// How the base folder was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseOrigin {
    /// The folder of the saved graph file.
    GraphFile,
    /// An unsaved graph: a default its caller chose (an example's folder, the documents folder).
    UnsavedDefault,
    /// A graph built in code: the process's working directory.
    WorkingDirectory,
}

impl GraphLocation {
    /// A graph saved at `file`: relative paths resolve against its folder. `file` may itself be
    /// relative (to the working directory, as a command line gives it).
    pub fn of_file(file: &Path) -> Self {
        let file = absolute(file);
        let folder = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        Self {
            folder,
            file: Some(file),
            origin: BaseOrigin::GraphFile,
        }
    }

    /// An unsaved graph whose relative paths resolve against `default_folder` (the folder of
    /// the example it was copied from, or the user's documents folder).
    pub fn unsaved(default_folder: &Path) -> Self {
        Self {
            folder: absolute(default_folder),
            file: None,
            origin: BaseOrigin::UnsavedDefault,
        }
    }

    /// A graph built in code (tests, programs): relative to the process's working directory.
    pub fn working_directory() -> Self {
        Self {
            folder: absolute(Path::new(".")),
            file: None,
            origin: BaseOrigin::WorkingDirectory,
        }
    }

    /// The base of this location for the graph at `file`, or `unsaved_default` when unsaved.
    pub fn for_graph(file: Option<&Path>, unsaved_default: &Path) -> Self {
        match file {
            Some(file) => Self::of_file(file),
            None => Self::unsaved(unsaved_default),
        }
    }

    /// The folder relative paths resolve against (absolute).
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The graph's own file (absolute), if saved.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn origin(&self) -> BaseOrigin {
        self.origin
    }

    /// The path a graph parameter names, resolved: absolute paths stay, relative ones join
    /// the base folder, `-` (standard input) stays `-`. `..` is kept for the OS to follow, so a
    /// symlinked folder resolves as the user expects.
    pub fn resolve(&self, raw: &str) -> PathBuf {
        let raw = raw.trim();
        if raw == STDIN {
            return PathBuf::from(STDIN);
        }
        let path = Path::new(raw);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.folder.join(path)
        }
    }

    /// How a picked file should be stored in the graph: relative to the base folder when it is
    /// inside it (so the graph and its data move together), else absolute.
    pub fn relative_for_storage(&self, picked: &Path) -> String {
        let picked = absolute(picked);
        let (Some(inside), Some(folder)) = (normalize(&picked), normalize(&self.folder)) else {
            return picked.display().to_string();
        };
        match inside.strip_prefix(&folder) {
            Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
            _ => picked.display().to_string(),
        }
    }

    /// One line for the user: where relative paths point and why.
    pub fn describe(&self) -> String {
        let why = match self.origin {
            BaseOrigin::GraphFile => "the graph file's folder",
            BaseOrigin::UnsavedDefault => "default for an unsaved graph",
            BaseOrigin::WorkingDirectory => "the working directory",
        };
        format!("relative paths are in {} ({why})", self.folder.display())
    }
}

/// `path` made absolute against the working directory, without touching the file system
/// beyond reading the working directory (falls back to the path itself).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Lexically removes `.` and `..` from an absolute path; `None` when `..` climbs above the root.
/// Used only to decide "is this file inside that folder" for storage, never to open a file.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_graph_files_folder() {
        let at = GraphLocation::of_file(Path::new("/home/ann/project/g.ron"));
        assert_eq!(at.folder(), Path::new("/home/ann/project"));
        assert_eq!(at.file(), Some(Path::new("/home/ann/project/g.ron")));
        assert_eq!(
            at.resolve("data/events.csv"),
            PathBuf::from("/home/ann/project/data/events.csv")
        );
        assert_eq!(
            at.resolve("./out.csv"),
            PathBuf::from("/home/ann/project/./out.csv")
        );
    }

    #[test]
    fn absolute_paths_and_stdin_stay_as_they_are() {
        let at = GraphLocation::of_file(Path::new("/home/ann/project/g.ron"));
        assert_eq!(at.resolve("/tmp/x.csv"), PathBuf::from("/tmp/x.csv"));
        assert_eq!(at.resolve(" - "), PathBuf::from("-"));
    }

    #[test]
    fn parent_folders_are_kept_for_the_os_to_follow() {
        let at = GraphLocation::of_file(Path::new("/home/ann/project/g.ron"));
        let p = at.resolve("../shared/events.csv");
        assert_eq!(p, PathBuf::from("/home/ann/project/../shared/events.csv"));
        assert_eq!(
            normalize(&p),
            Some(PathBuf::from("/home/ann/shared/events.csv"))
        );
        assert_eq!(normalize(Path::new("/../x")), None);
    }

    #[test]
    fn a_relative_graph_file_is_made_absolute_against_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let at = GraphLocation::of_file(Path::new("example-graphs/w.ron"));
        assert_eq!(at.folder(), cwd.join("example-graphs"));
        assert_eq!(at.origin(), BaseOrigin::GraphFile);
    }

    #[test]
    fn an_unsaved_graph_uses_the_default_its_caller_gives() {
        let at = GraphLocation::for_graph(None, Path::new("/usr/share/flowbook/examples"));
        assert_eq!(at.file(), None);
        assert_eq!(at.origin(), BaseOrigin::UnsavedDefault);
        assert_eq!(
            at.resolve("data/a.csv"),
            PathBuf::from("/usr/share/flowbook/examples/data/a.csv")
        );
        assert!(
            at.describe()
                .contains("/usr/share/flowbook/examples (default for an unsaved graph)"),
            "{}",
            at.describe()
        );
        let saved = GraphLocation::for_graph(Some(Path::new("/a/b.ron")), Path::new("/x"));
        assert_eq!(saved.folder(), Path::new("/a"));
    }

    #[test]
    fn picked_files_inside_the_folder_are_stored_relative() {
        let at = GraphLocation::of_file(Path::new("/p/g.ron"));
        assert_eq!(
            at.relative_for_storage(Path::new("/p/data/a.csv")),
            "data/a.csv"
        );
        assert_eq!(at.relative_for_storage(Path::new("/p/x/../b.csv")), "b.csv");
        assert_eq!(at.relative_for_storage(Path::new("/q/a.csv")), "/q/a.csv");
        assert_eq!(at.relative_for_storage(Path::new("/p")), "/p");
    }
}
