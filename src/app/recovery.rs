//! Autosave and crash recovery (feature `gui`): the open graph is copied to a recovery file in
//! the app's own folder every 30 s while it has unsaved changes, and by a panic hook on a crash;
//! the next launch offers to restore it. It never writes the user's own graph files, and the
//! panic hook reads only `CRASH_SNAPSHOT`, never UI state.

use crate::app::command::Command;
use crate::app::document::Document;
use crate::app::shell::{Dialog, FlowbookApp};
use crate::graph::{Graph, SaveError, write_atomically};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often unsaved changes are copied to the recovery file, in seconds of UI time.
pub const AUTOSAVE_INTERVAL_S: f64 = 30.0;

/// What a recovery file holds: the work, which file it belongs to, and when it was captured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryRecord {
    /// The graph file the work belongs to; `None` for a graph never saved.
    pub original: Option<PathBuf>,
    /// Where an unsaved graph's relative paths resolved (older records: the documents folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsaved_folder: Option<crate::app::document::UnsavedFolder>,
    /// When the work was captured, in seconds since the Unix epoch.
    pub captured_unix_s: u64,
    pub graph: Graph,
}

impl RecoveryRecord {
    /// The record of `doc` as it is now.
    pub fn of(doc: &Document) -> Self {
        Self {
            original: doc.path.clone(),
            unsaved_folder: doc.path.is_none().then(|| doc.unsaved_folder.clone()),
            captured_unix_s: unix_now_s(),
            graph: doc.graph().clone(),
        }
    }

    /// The text written to the recovery file.
    pub fn to_text(&self) -> Result<String, SaveError> {
        let config = ron::ser::PrettyConfig::new()
            .indentor("    ")
            .struct_names(false)
            .depth_limit(4);
        ron::ser::to_string_pretty(self, config).map_err(|e| SaveError::Encode(e.to_string()))
    }

    /// Reads a recovery file; the error names it.
    pub fn load(file: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
        ron::from_str(&text).map_err(|e| format!("{}:{e}", file.display()))
    }
}

/// A recovery file left by an earlier session, waiting for Restore or Discard.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryOffer {
    pub file: PathBuf,
    pub record: RecoveryRecord,
}

impl RecoveryOffer {
    /// The question the dialog asks.
    pub fn question(&self) -> String {
        let name = match self.record.graph.name.as_str() {
            "" => "untitled",
            name => name,
        };
        format!(
            "Restore unsaved work from {} ({name})?",
            format_utc(self.record.captured_unix_s)
        )
    }
}

/// The last captured work and where the panic hook writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct CrashSnapshot {
    pub file: PathBuf,
    pub text: String,
}

/// The work the panic hook saves; updated by the UI at every change of the document.
pub static CRASH_SNAPSHOT: Mutex<Option<CrashSnapshot>> = Mutex::new(None);

/// Writes the snapshot in `slot`, if any: the panic hook's whole job. `Ok(false)` when there
/// was nothing to save.
pub fn write_crash_snapshot(slot: &Mutex<Option<CrashSnapshot>>) -> Result<bool, SaveError> {
    let guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(snapshot) = guard.as_ref() else {
        return Ok(false);
    };
    if let Some(dir) = snapshot.file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    write_atomically(&snapshot.file, snapshot.text.as_bytes()).map(|()| true)
}

/// Installs (once) a panic hook that writes `CRASH_SNAPSHOT`, then runs the previous hook.
pub fn install_crash_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic the guard catches is reported and the editor goes on: nothing to keep.
            if crate::guard::inside_guard() {
                return previous(info);
            }
            match write_crash_snapshot(&CRASH_SNAPSHOT) {
                Ok(true) => eprintln!("flowbook: unsaved work kept for the next launch"),
                Ok(false) => {}
                Err(e) => eprintln!("flowbook: could not keep the unsaved work: {e}"),
            }
            previous(info);
        }));
    });
}

/// `$XDG_STATE_HOME/flowbook/recovery`, or `~/.local/state/flowbook/recovery`.
pub fn default_recovery_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("flowbook").join("recovery"))
}

/// This session's autosave: its own file in the recovery folder, and what was written there.
#[derive(Debug, Default)]
pub struct Recovery {
    /// `None`: autosave is off (the default for an app built with `FlowbookApp::new`).
    own_file: Option<PathBuf>,
    /// Files of earlier sessions not yet offered.
    pending: Vec<RecoveryOffer>,
    publishes_crash_snapshot: bool,
    /// UI time (s) of the last write attempt, or of the first tick.
    last_write_s: Option<f64>,
    autosaved_revision: Option<u64>,
    published_revision: Option<u64>,
    wrote_own_file: bool,
}

impl Recovery {
    /// Autosave off.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Autosaves into `dir` (created on the first write) under a name unique to this session,
    /// and queues the files of earlier sessions found there as offers.
    pub fn in_dir(dir: &Path) -> (Self, Vec<String>) {
        static SESSION: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "session-{}-{}-{}.ron",
            unix_now_s(),
            std::process::id(),
            SESSION.fetch_add(1, Ordering::Relaxed)
        );
        let (pending, errors) = find_offers(dir);
        let recovery = Self {
            own_file: Some(dir.join(name)),
            pending,
            ..Self::default()
        };
        (recovery, errors)
    }

    /// Also keeps `CRASH_SNAPSHOT` current for the panic hook (one app per process does this).
    pub fn publishing_crash_snapshots(mut self) -> Self {
        self.publishes_crash_snapshot = true;
        self
    }

    /// This session's recovery file (it exists only while there is unsaved work).
    pub fn own_file(&self) -> Option<&Path> {
        self.own_file.as_deref()
    }

    /// Offers not yet shown.
    pub fn pending(&self) -> &[RecoveryOffer] {
        &self.pending
    }

    /// A new document replaced the old one: its revisions start again.
    pub fn forget_document(&mut self) {
        self.autosaved_revision = None;
        self.published_revision = None;
    }

    /// After a Restore: the restored file becomes this session's file (it is overwritten by
    /// the next autosave, so the work stays on disk meanwhile).
    fn adopt(&mut self, file: PathBuf) -> Result<(), String> {
        self.remove_own_file()?;
        self.own_file = Some(file);
        self.wrote_own_file = true;
        self.forget_document();
        Ok(())
    }

    /// One frame: keeps the snapshot current, writes the recovery file when due, removes it
    /// when nothing is unsaved. Returns when to wake up for the next autosave.
    pub fn tick(&mut self, doc: &Document, now_s: f64) -> Result<Option<Duration>, String> {
        let Some(file) = self.own_file.clone() else {
            return Ok(None);
        };
        let since = *self.last_write_s.get_or_insert(now_s);
        if !doc.is_modified() {
            self.forget_document();
            self.clear_snapshot();
            self.remove_own_file()?;
            return Ok(None);
        }
        let revision = doc.revision();
        if self.publishes_crash_snapshot && self.published_revision != Some(revision) {
            let text = RecoveryRecord::of(doc)
                .to_text()
                .map_err(|e| e.to_string())?;
            *CRASH_SNAPSHOT
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(CrashSnapshot { file, text });
            self.published_revision = Some(revision);
        }
        if self.autosaved_revision == Some(revision) {
            return Ok(None);
        }
        let due_s = since + AUTOSAVE_INTERVAL_S;
        if now_s < due_s {
            return Ok(Some(Duration::from_secs_f64(due_s - now_s)));
        }
        self.last_write_s = Some(now_s);
        self.autosave(doc)?;
        self.autosaved_revision = Some(revision);
        Ok(None)
    }

    fn autosave(&mut self, doc: &Document) -> Result<(), String> {
        let Some(file) = &self.own_file else {
            return Ok(());
        };
        let fail = |e: &dyn std::fmt::Display| format!("Autosave failed: {e}");
        let text = RecoveryRecord::of(doc).to_text().map_err(|e| fail(&e))?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&format!("{}: {e}", dir.display())))?;
        }
        write_atomically(file, text.as_bytes()).map_err(|e| fail(&e))?;
        self.wrote_own_file = true;
        Ok(())
    }

    /// A clean quit: the work was saved or knowingly discarded.
    pub fn on_clean_exit(&mut self) -> Result<(), String> {
        self.clear_snapshot();
        self.remove_own_file()
    }

    fn clear_snapshot(&mut self) {
        if self.publishes_crash_snapshot {
            *CRASH_SNAPSHOT
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    fn remove_own_file(&mut self) -> Result<(), String> {
        if !self.wrote_own_file {
            return Ok(());
        }
        self.wrote_own_file = false;
        match &self.own_file {
            Some(file) => remove_if_present(file),
            None => Ok(()),
        }
    }
}

fn remove_if_present(file: &Path) -> Result<(), String> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("Cannot remove {}: {e}", file.display())),
    }
}

/// The recovery files in `dir`, newest last; unreadable ones become messages (and stay).
fn find_offers(dir: &Path) -> (Vec<RecoveryOffer>, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut offers = Vec::new();
    let mut errors = Vec::new();
    for entry in entries.flatten() {
        let file = entry.path();
        if file.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        match RecoveryRecord::load(&file) {
            Ok(record) => offers.push(RecoveryOffer { file, record }),
            Err(e) => errors.push(format!("Unreadable recovery file {e}")),
        }
    }
    offers.sort_by_key(|o| o.record.captured_unix_s);
    (offers, errors)
}

fn unix_now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-11-26 14:03 UTC` from seconds since the Unix epoch (proleptic Gregorian calendar).
pub fn format_utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let minute_of_day = (unix_s % 86_400) / 60;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

impl FlowbookApp {
    /// Turns autosave on in `dir`'s session (see `Recovery::in_dir`).
    pub fn with_recovery(mut self, (recovery, errors): (Recovery, Vec<String>)) -> Self {
        self.recovery = recovery;
        if let Some(error) = errors.into_iter().next() {
            self.set_error(error);
        }
        self
    }

    /// Once per frame, after the commands: autosave, and the next offer when no dialog is open.
    pub(crate) fn recovery_ui(&mut self, ctx: &egui::Context) {
        if self.dialog.is_none()
            && self.file_dialog.is_none()
            && let Some(offer) = self.recovery.pending.pop()
        {
            self.dialog = Some(Dialog::Recovery(Box::new(offer)));
        }
        let now_s = ctx.input(|i| i.time);
        match self.recovery.tick(&self.doc, now_s) {
            Ok(Some(wake)) => ctx.request_repaint_after(wake),
            Ok(None) => {}
            Err(e) => self.set_error(e),
        }
    }

    /// Restore or Discard of the offer on screen.
    pub(crate) fn answer_recovery(&mut self, command: &Command) {
        let Some(Dialog::Recovery(offer)) = self.dialog.take() else {
            return;
        };
        let RecoveryOffer { file, record } = *offer;
        if *command == Command::RestoreRecovery {
            let mut doc = Document::restored(record.graph, record.original);
            if let Some(folder) = record.unsaved_folder {
                doc = doc.with_unsaved_folder(folder);
            }
            self.replace_document(doc);
            match self.recovery.adopt(file) {
                Ok(()) => self.set_status("Restored unsaved work"),
                Err(e) => self.set_error(e),
            }
        } else if let Err(e) = remove_if_present(&file) {
            self.set_error(e);
        } else {
            self.set_status("Discarded the unsaved work");
        }
    }

    /// Removes this session's recovery file after a clean quit.
    pub fn on_clean_exit(&mut self) {
        if let Err(e) = self.recovery.on_clean_exit() {
            eprintln!("flowbook: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_formatted_by_the_calendar() {
        for (unix_s, text) in [
            (0, "1970-01-01 00:00 UTC"),
            (951_782_400, "2000-02-29 00:00 UTC"),
            (1_795_680_180, "2026-11-26 08:03 UTC"),
            (4_107_542_399, "2100-02-28 23:59 UTC"),
        ] {
            assert_eq!(format_utc(unix_s), text, "{unix_s}");
        }
    }

    #[test]
    fn the_crash_writer_writes_the_stored_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/session.ron");
        let slot = Mutex::new(None);
        assert!(!write_crash_snapshot(&slot).unwrap(), "nothing stored yet");
        assert!(!file.exists());
        *slot.lock().unwrap() = Some(CrashSnapshot {
            file: file.clone(),
            text: "the last known graph".into(),
        });
        assert!(write_crash_snapshot(&slot).unwrap());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "the last known graph"
        );
    }

    #[test]
    fn autosave_waits_for_the_interval_and_for_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let (mut recovery, errors) = Recovery::in_dir(dir.path());
        assert!(errors.is_empty());
        let file = recovery.own_file().unwrap().to_path_buf();
        let mut doc = Document::new(Graph::new("g"), None);
        assert_eq!(recovery.tick(&doc, 0.0), Ok(None), "nothing to keep");
        let _ = doc.edit(None, |g| {
            g.add_node("map", "m", [0.0, 0.0]);
            Ok::<_, ()>(())
        });
        let wake = recovery.tick(&doc, 10.0).unwrap();
        assert_eq!(wake, Some(Duration::from_secs(20)));
        assert!(!file.exists(), "not before 30 s");
        assert_eq!(recovery.tick(&doc, 30.5), Ok(None));
        let record = RecoveryRecord::load(&file).unwrap();
        assert_eq!(record.graph, *doc.graph());
        assert_eq!(record.original, None);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(recovery.tick(&doc, 90.0), Ok(None));
        assert!(
            !file.exists(),
            "unchanged since the last autosave: no write"
        );
        doc.mark_saved(&dir.path().join("g.ron"));
        recovery.wrote_own_file = true;
        std::fs::write(&file, "stale").unwrap();
        assert_eq!(recovery.tick(&doc, 91.0), Ok(None));
        assert!(!file.exists(), "a clean document removes the recovery file");
    }
}
