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

    /// `raw` (a path as written in this graph) as it must be written for the graph at `to` to
    /// name the same file: relative when the file is inside `to`'s folder, else absolute.
    /// `None` when it needs no change (absolute, standard input, empty, or the same folder).
    pub fn rebase(&self, raw: &str, to: &GraphLocation) -> Option<String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed == STDIN || Path::new(trimmed).is_absolute() {
            return None;
        }
        let same_folder = normalize(&self.folder).is_some_and(|a| Some(a) == normalize(&to.folder));
        if same_folder {
            return None;
        }
        let file = self.resolve(trimmed);
        let clean = normalize(&file);
        let inside = clean
            .as_deref()
            .zip(normalize(&to.folder))
            .and_then(|(file, folder)| file.strip_prefix(folder).ok().map(Path::to_path_buf))
            .filter(|rest| !rest.as_os_str().is_empty());
        let stored = match (inside, clean) {
            (Some(rest), _) => rest,
            // Outside the new folder: absolute; `..` kept only when the path had one to follow.
            (None, Some(clean)) if !trimmed.contains("..") => clean,
            (None, _) => file,
        };
        let stored = stored.display().to_string();
        (stored != trimmed).then_some(stored)
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

/// Whether a run reads or writes a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRole {
    Input,
    Output,
}

/// A file a run reads or writes, with who uses it, for messages ("source.path", "--metrics").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUse {
    pub path: PathBuf,
    pub role: FileRole,
    pub who: String,
}

impl FileUse {
    pub fn input(path: impl Into<PathBuf>, who: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            role: FileRole::Input,
            who: who.into(),
        }
    }

    pub fn output(path: impl Into<PathBuf>, who: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            role: FileRole::Output,
            who: who.into(),
        }
    }
}

/// What identifies a file on disk: its device and inode when it exists (so hard links, symlinks
/// and `..` all compare equal), else its canonical folder plus its name.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
    /// Never clashes: standard input, and character devices such as `/dev/null`, which many
    /// writers may share.
    Shareable,
}

fn identity(path: &Path) -> Identity {
    if path.as_os_str() == STDIN || path.as_os_str().is_empty() {
        return Identity::Shareable;
    }
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        if meta.file_type().is_char_device() {
            return Identity::Shareable;
        }
        return Identity::Inode(meta.dev(), meta.ino());
    }
    if let Ok(real) = std::fs::canonicalize(path) {
        return Identity::Path(real);
    }
    // A file that does not exist yet: its folder resolved, then its name.
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::canonicalize(folder) {
        Ok(folder) => Identity::Path(folder.join(name)),
        Err(_) => Identity::Path(normalize(&absolute(path)).unwrap_or_else(|| path.to_path_buf())),
    }
}

/// True when `a` and `b` name one file (after symlinks, `..` and hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (a, b) = (identity(a), identity(b));
    a != Identity::Shareable && a == b
}

/// Every output that is also an input or another output, as "X: writes 'p', which is also Y"
/// messages naming both users, with the index of the output at fault. Inputs may be shared.
pub fn clashes(uses: &[FileUse]) -> Vec<(usize, String)> {
    let ids: Vec<Identity> = uses.iter().map(|u| identity(&u.path)).collect();
    let mut found = Vec::new();
    for (i, (out, out_id)) in uses.iter().zip(&ids).enumerate() {
        if out.role != FileRole::Output || *out_id == Identity::Shareable {
            continue;
        }
        for (j, (other, other_id)) in uses.iter().zip(&ids).enumerate() {
            let earlier_output = other.role == FileRole::Output && j < i;
            let any_input = other.role == FileRole::Input;
            if i != j && (earlier_output || any_input) && out_id == other_id {
                found.push((i, clash_message(out, other)));
            }
        }
    }
    found
}

fn clash_message(out: &FileUse, other: &FileUse) -> String {
    let what = match other.role {
        FileRole::Input => format!("which {} reads", other.who),
        FileRole::Output => format!("which {} also writes", other.who),
    };
    let same_text = out.path == other.path;
    format!(
        "writes '{}', {what}{}: writing it would destroy {}; choose another file",
        out.path.display(),
        if same_text {
            String::new()
        } else {
            format!(" (as '{}')", other.path.display())
        },
        match other.role {
            FileRole::Input => "the input",
            FileRole::Output => "the other output",
        }
    )
}

/// Checks one more output (`--metrics`, a report, an exported plot) against a run's files.
pub fn check_new_output(path: &Path, who: &str, uses: &[FileUse]) -> Result<(), String> {
    let mut all = uses.to_vec();
    all.push(FileUse::output(path, who));
    let last = all.len() - 1;
    match clashes(&all).into_iter().find(|(i, _)| *i == last) {
        Some((_, message)) => Err(format!("{who}: {message}")),
        None => Ok(()),
    }
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
    fn rebasing_keeps_every_path_pointing_at_the_same_file() {
        let from = GraphLocation::unsaved(Path::new("/repo/example-graphs"));
        let below = GraphLocation::of_file(Path::new("/repo/g.ron"));
        let away = GraphLocation::of_file(Path::new("/home/ann/g.ron"));
        assert_eq!(
            from.rebase("data/a.csv", &below).as_deref(),
            Some("example-graphs/data/a.csv")
        );
        assert_eq!(
            from.rebase("./data/a.csv", &away).as_deref(),
            Some("/repo/example-graphs/data/a.csv")
        );
        for raw in ["", "-", "/tmp/x.csv"] {
            assert_eq!(from.rebase(raw, &away), None, "{raw:?} stays");
        }
        let same = GraphLocation::of_file(Path::new("/repo/example-graphs/./copy.ron"));
        assert_eq!(from.rebase("data/a.csv", &same), None, "same folder");
        for raw in ["data/a.csv", "../tests/b.csv", "out.csv"] {
            let moved = from.rebase(raw, &away).unwrap_or_else(|| raw.to_owned());
            assert_eq!(
                normalize(&away.resolve(&moved)),
                normalize(&from.resolve(raw)),
                "{raw} -> {moved}"
            );
        }
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

    fn uses(dir: &Path) -> Vec<FileUse> {
        vec![
            FileUse::input(dir.join("g.ron"), "the graph file"),
            FileUse::input(dir.join("in.csv"), "source.path"),
        ]
    }

    #[test]
    fn an_output_over_an_input_is_found_through_symlinks_dots_and_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("g.ron"), "()").unwrap();
        std::fs::write(d.join("in.csv"), "a\n1\n").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join("in.csv"), d.join("link.csv")).unwrap();
        std::fs::hard_link(d.join("in.csv"), d.join("hard.csv")).unwrap();
        for alias in ["in.csv", "sub/../in.csv", "link.csv", "hard.csv", "./g.ron"] {
            let err = check_new_output(&d.join(alias), "sink.path", &uses(d)).unwrap_err();
            assert!(err.starts_with("sink.path: writes"), "{err}");
            assert!(
                err.contains("source.path reads") || err.contains("the graph file reads"),
                "{alias}: {err}"
            );
        }
        assert!(check_new_output(&d.join("out.csv"), "sink.path", &uses(d)).is_ok());
        assert!(check_new_output(&d.join("sub/../out.csv"), "x", &uses(d)).is_ok());
    }

    #[test]
    fn two_outputs_of_one_file_clash_but_devices_and_stdin_are_shared() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let all = vec![
            FileUse::output(d.join("o.csv"), "sink.path"),
            FileUse::output(d.join("sub/../o.csv"), "late_sink.path"),
            FileUse::output("/dev/null", "a.path"),
            FileUse::output("/dev/null", "b.path"),
            FileUse::input("-", "source.path"),
        ];
        std::fs::create_dir(d.join("sub")).unwrap();
        let found = clashes(&all);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 1);
        assert!(
            found[0].1.contains("which sink.path also writes"),
            "{:?}",
            found[0]
        );
    }
}
