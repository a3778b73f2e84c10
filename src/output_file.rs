//! The one way Flowbook writes a file: a regular file is written to a unique temporary file in
//! its folder, synced, and renamed over the target (then the folder is synced), so readers see
//! the old file or the new one and a failure leaves the old one; a character device or FIFO is
//! written in place (streamed), never replaced; a folder, socket or block device is refused.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a file could not be written. The target is left as it was in every case.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("'{path}': {reason}")]
    Refused { path: String, reason: String },
    #[error("'{path}': cannot write: {source}")]
    Io { path: String, source: io::Error },
}

impl OutputError {
    fn io(path: &Path, source: io::Error) -> Self {
        OutputError::Io {
            path: path.display().to_string(),
            source: plain(source),
        }
    }

    fn refused(path: &Path, reason: impl Into<String>) -> Self {
        OutputError::Refused {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }

    /// The underlying I/O error, if any (for callers that speak `io::Result`).
    pub fn into_io(self) -> io::Error {
        match self {
            OutputError::Io { source, .. } => source,
            refused => io::Error::other(refused.to_string()),
        }
    }
}

/// The OS error inside `tempfile`'s "… at path '.x.tmp'" wrapper, so messages name the user's
/// file (not our temporary one) and callers can read the errno. The wrapper hides its inner
/// error from `source()`, so the errno is read back from its text ("… (os error 13) at path …").
fn plain(error: io::Error) -> io::Error {
    if error.raw_os_error().is_some() || error.get_ref().is_none() {
        return error;
    }
    let text = error.to_string();
    let code = text
        .split_once("(os error ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(digits, _)| digits.parse::<i32>().ok());
    match code {
        Some(code) => io::Error::from_raw_os_error(code),
        None => error,
    }
}

/// What is at an output path now, and so how it will be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Nothing, or a regular file: written through a temporary file and a rename.
    Replaced,
    /// A character device or FIFO (`/dev/null`, a named pipe): written in place, as a stream.
    Streamed,
}

/// Checks what `path` is before anything is written: a folder, socket or block device is
/// refused with a message that says why; a missing parent folder is refused too.
pub fn check_target(path: &Path) -> Result<Target, OutputError> {
    if path.as_os_str().is_empty() {
        return Err(OutputError::refused(path, "no file name given"));
    }
    match std::fs::metadata(path) {
        Ok(meta) => kind_of(path, &meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling symlink is written where it points: that folder must exist.
            let parent = parent_folder(&follow_symlink(path));
            match std::fs::metadata(&parent) {
                Ok(m) if m.is_dir() => Ok(Target::Replaced),
                Ok(_) => Err(OutputError::refused(
                    path,
                    format!("'{}' is not a folder", parent.display()),
                )),
                Err(_) => Err(OutputError::refused(
                    path,
                    format!("the folder '{}' does not exist", parent.display()),
                )),
            }
        }
        Err(e) => Err(OutputError::io(path, e)),
    }
}

fn kind_of(path: &Path, meta: &std::fs::Metadata) -> Result<Target, OutputError> {
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return Err(OutputError::refused(
            path,
            "is a folder; give a file name inside it",
        ));
    }
    if file_type.is_file() {
        return Ok(Target::Replaced);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() || file_type.is_fifo() {
            return Ok(Target::Streamed);
        }
        if file_type.is_socket() {
            return Err(OutputError::refused(
                path,
                "is a socket; Flowbook writes files, named pipes and character devices",
            ));
        }
        if file_type.is_block_device() {
            return Err(OutputError::refused(
                path,
                "is a block device (a disk); Flowbook will not write to it",
            ));
        }
    }
    Err(OutputError::refused(path, "is not a regular file"))
}

fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Temporary files being written right now, so a signal handler that must exit at once can
/// still remove them (see [`remove_live_temporaries`]).
static LIVE_TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(path: &Path) {
    if let Ok(mut live) = LIVE_TEMPORARIES.lock() {
        live.push(path.to_path_buf());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut live) = LIVE_TEMPORARIES.lock() {
        live.retain(|p| p != path);
    }
}

/// Removes every temporary file still being written; for a process that is about to exit
/// without unwinding (a second Ctrl+C). Returns how many were removed.
pub fn remove_live_temporaries() -> usize {
    let Ok(mut live) = LIVE_TEMPORARIES.lock() else {
        return 0;
    };
    live.drain(..)
        .filter(|p| std::fs::remove_file(p).is_ok())
        .count()
}

enum Sink {
    /// A temporary file in the target's folder and the (symlink-resolved) file it replaces.
    Temporary {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    InPlace(File),
}

/// A file being written. Nothing appears under the target's name until [`OutputFile::commit`]
/// (for a regular file); dropping it without committing removes the temporary file.
pub struct OutputFile {
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    /// `None` once committed.
    sink: Option<Sink>,
}

impl OutputFile {
    /// Opens `path` for writing: a temporary file beside it (for a regular file or a new one),
    /// or the device/FIFO itself. Refuses folders and other special files.
    pub fn create(path: &Path) -> Result<Self, OutputError> {
        let sink = match check_target(path)? {
            Target::Streamed => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| OutputError::io(path, e))?;
                Sink::InPlace(file)
            }
            Target::Replaced => {
                let target = follow_symlink(path);
                let folder = parent_folder(&target);
                let name = target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "output".into());
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix).suffix(".tmp");
                if let Some(permissions) = permissions_for(&target) {
                    builder.permissions(permissions);
                }
                let temp = builder
                    .tempfile_in(&folder)
                    .map_err(|e| OutputError::io(path, e))?;
                register(temp.path());
                Sink::Temporary { temp, target }
            }
        };
        Ok(Self {
            shown: path.to_path_buf(),
            sink: Some(sink),
        })
    }

    /// Whether this output replaces a regular file (`false`: streamed into a device or FIFO).
    pub fn is_atomic(&self) -> bool {
        matches!(self.sink, Some(Sink::Temporary { .. }))
    }

    /// The temporary file's path while writing (none when streaming in place).
    pub fn temporary_path(&self) -> Option<&Path> {
        match &self.sink {
            Some(Sink::Temporary { temp, .. }) => Some(temp.path()),
            _ => None,
        }
    }

    /// Syncs the data, renames the temporary file over the target and syncs the folder, so the
    /// new content survives a crash. On failure the old file stays and the temporary is removed.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let fail = |e: io::Error| OutputError::io(&self.shown, e);
        match self.sink.take() {
            None => Ok(()),
            Some(Sink::InPlace(mut file)) => file.flush().map_err(fail),
            Some(Sink::Temporary { mut temp, target }) => {
                let temp_path = temp.path().to_path_buf();
                let result = (|| {
                    temp.as_file_mut().flush()?;
                    temp.as_file().sync_all()?;
                    temp.persist(&target).map_err(|e| e.error)?;
                    sync_folder(&parent_folder(&target))
                })();
                unregister(&temp_path);
                result.map_err(fail)
            }
        }
    }

    fn sink(&mut self) -> io::Result<&mut dyn Write> {
        match &mut self.sink {
            Some(Sink::Temporary { temp, .. }) => Ok(temp.as_file_mut()),
            Some(Sink::InPlace(file)) => Ok(file),
            None => Err(io::Error::other("the file was already finished")),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink()?.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(Sink::Temporary { temp, .. }) = &self.sink {
            unregister(temp.path());
        }
        // `NamedTempFile`'s own drop removes the temporary file.
    }
}

/// Writes `bytes` to `path` as one atomic replacement (or streamed into a device or FIFO).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes).map_err(|e| OutputError::io(path, e))?;
    out.commit()
}

/// A symlink is followed, so saving through it updates the file it points to and keeps the link.
fn follow_symlink(path: &Path) -> PathBuf {
    match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => match std::fs::read_link(path) {
            // A dangling link: write where it points.
            Ok(to) => parent_folder(path).join(to),
            Err(_) => path.to_path_buf(),
        },
    }
}

/// The permissions a new version of `target` gets: the old file's, or the usual 0666 less the
/// umask for a new file (a temporary file would otherwise be private, 0600).
fn permissions_for(target: &Path) -> Option<std::fs::Permissions> {
    if let Ok(meta) = std::fs::metadata(target) {
        return Some(meta.permissions());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o666))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Syncs a folder so a rename inside it is durable (a no-op where folders cannot be opened).
fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_regular_file_is_replaced_only_at_commit_and_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut out = OutputFile::create(&path).unwrap();
        assert!(out.is_atomic());
        out.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn two_writers_of_one_path_have_their_own_temporaries_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("same.csv");
        let mut a = OutputFile::create(&path).unwrap();
        let mut b = OutputFile::create(&path).unwrap();
        assert_ne!(a.temporary_path(), b.temporary_path());
        a.write_all(b"from a").unwrap();
        b.write_all(b"from b, longer").unwrap();
        drop(b);
        a.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "from a");
        assert_eq!(entries(dir.path()), vec!["same.csv"]);
    }

    #[test]
    fn a_character_device_is_written_in_place_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        let mut out = OutputFile::create(null).unwrap();
        assert!(!out.is_atomic());
        out.write_all(b"discarded").unwrap();
        out.commit().unwrap();
        assert!(
            std::fs::metadata(null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
        write_atomically(null, b"again").unwrap();
        assert!(
            std::fs::metadata(null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn a_fifo_is_streamed_into() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(dir.path()), vec!["pipe"]);
    }

    #[test]
    fn a_folder_and_a_socket_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let err = OutputFile::create(dir.path()).err().unwrap();
        assert!(err.to_string().contains("is a folder"), "{err}");
        let socket = dir.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = write_atomically(&socket, b"x").unwrap_err();
        assert!(err.to_string().contains("is a socket"), "{err}");
        assert_eq!(entries(dir.path()), vec!["s.sock"]);
        let err = check_target(&dir.path().join("no/such/out.csv")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn writing_through_a_symlink_updates_its_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        let link = dir.path().join("link.csv");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }
}
