//! Saving when the system refuses the write: a read-only folder, a full disk, a folder that is
//! really a file. Each save must fail with an error naming the target, leave the old file
//! byte-for-byte as it was, and leave no temporary file behind.
//!
//! The refusals must be real even when the tests run as root (for whom permission bits do not
//! apply), so the failing save runs in a child process (this test binary, re-run with
//! `FLOWBOOK_SAVE_FAILURE_CHILD` naming the target):
//! - full disk: the child runs under `RLIMIT_FSIZE` of 8 KiB with `SIGXFSZ` ignored, so a write
//!   past 8 KiB fails with `EFBIG`, the way a full disk fails a write with `ENOSPC` (the same
//!   error path: `write_all` fails). The new graph is about 20 times that size and the old file
//!   smaller, so a save that wrote over the old file in place would truncate it and fail the test.
//! - read-only folder: the folder is `chmod 555`; under root the child also drops to the user
//!   `nobody` (uid/gid 65534), for whom that mode holds. The old file itself is writable by
//!   anyone, so a save that wrote into it in place would succeed and fail the test.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use flowbook::graph::{self, Graph, SaveError};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the child: the file it must save the big graph to.
const CHILD_ENV: &str = "FLOWBOOK_SAVE_FAILURE_CHILD";
/// Starts the child's one line of answer on stdout.
const ANSWER: &str = "SAVE-OUTCOME:";
/// The file size limit of the "full disk" child, in bytes.
const FILE_SIZE_LIMIT_BYTES: u64 = 8 * 1024;
/// The user the read-only child runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// The graph already on disk: well under the size limit.
fn old_graph() -> Graph {
    let mut g = Graph::new("old");
    g.add_node("sequence_source", "source", [0.0, 0.0]);
    g
}

/// The graph being saved: far over the size limit.
fn big_graph() -> Graph {
    let mut g = Graph::new("big");
    for i in 0..400 {
        g.add_node("map", "map", [i as f32 * 10.0, 0.0]);
    }
    g.notes = "A long note. ".repeat(8000);
    g
}

/// In the child: saves the big graph to the target and prints the outcome, errno first.
fn answer_as_child() -> bool {
    let Some(target) = std::env::var_os(CHILD_ENV) else {
        return false;
    };
    match graph::save(&big_graph(), Path::new(&target)) {
        Ok(()) => println!("{ANSWER} saved"),
        Err(e) => {
            let errno = match &e {
                SaveError::Io { source, .. } => source.raw_os_error().unwrap_or(0),
                SaveError::Encode(_) | SaveError::Refused(_) => 0,
            };
            println!("{ANSWER} errno {errno}: {e}");
        }
    }
    true
}

/// Runs `test` of this binary in a child that saves to `target`; returns its answer line.
fn save_in_child(test: &str, target: &Path, mut command: Command) -> String {
    let output = command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, target)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the child: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(answer) = stdout
        .lines()
        .find_map(|l| l.split_once(ANSWER).map(|(_, a)| a))
    else {
        panic!(
            "the child gave no answer ({}); stdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    answer.trim().to_owned()
}

fn child_command() -> Command {
    Command::new(std::env::current_exe().expect("the test binary's path"))
}

/// A folder with the old graph saved in it as `g.ron`; returns the file and its bytes.
fn folder_with_old_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let target = dir.join("g.ron");
    graph::save(&old_graph(), &target).unwrap();
    let bytes = std::fs::read(&target).unwrap();
    assert!(bytes.len() < FILE_SIZE_LIMIT_BYTES as usize / 2);
    (target, bytes)
}

/// The failure promise: the answer is an error with `errno` naming `target`, the old file is
/// unchanged and it is alone in its folder.
fn assert_failed_cleanly(answer: &str, errno: i32, target: &Path, old: &[u8]) {
    let expected = format!("errno {errno}: {}: cannot save:", target.display());
    assert!(
        answer.starts_with(&expected),
        "expected {expected:?}, got {answer:?}"
    );
    let now = std::fs::read(target).unwrap();
    assert!(
        now == old,
        "the old file must be byte-for-byte intact: {} bytes now, {} before",
        now.len(),
        old.len()
    );
    let folder = target.parent().unwrap();
    let names: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["g.ron"], "no temporary file is left behind");
}

#[test]
fn saving_onto_a_full_disk_fails_and_keeps_the_old_file() {
    if answer_as_child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (target, old) = folder_with_old_file(dir.path());
    assert!(
        graph::to_ron_string(&big_graph()).unwrap().len() > 10 * FILE_SIZE_LIMIT_BYTES as usize
    );
    let mut command = child_command();
    // SAFETY: setrlimit and signal are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: FILE_SIZE_LIMIT_BYTES,
                rlim_max: FILE_SIZE_LIMIT_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0
                || libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let answer = save_in_child(
        "saving_onto_a_full_disk_fails_and_keeps_the_old_file",
        &target,
        command,
    );
    assert_failed_cleanly(&answer, libc::EFBIG, &target, &old);
}

#[test]
fn saving_into_a_read_only_folder_fails_and_keeps_the_old_file() {
    if answer_as_child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("read-only");
    std::fs::create_dir(&folder).unwrap();
    let (target, old) = folder_with_old_file(&folder);
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(&target, 0o666);
    mode(&folder, 0o555);
    let mut command = child_command();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        mode(dir.path(), 0o755);
        command.uid(NOBODY).gid(NOBODY);
    }
    let answer = save_in_child(
        "saving_into_a_read_only_folder_fails_and_keeps_the_old_file",
        &target,
        command,
    );
    mode(&folder, 0o755);
    assert_failed_cleanly(&answer, libc::EACCES, &target, &old);
}

#[test]
fn saving_below_a_regular_file_fails_naming_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("notes.txt");
    std::fs::write(&not_a_folder, "just text").unwrap();
    let target = not_a_folder.join("g.ron");
    let Err(SaveError::Io { path, source }) = graph::save(&big_graph(), &target) else {
        panic!("saving below a regular file must fail");
    };
    assert_eq!(path, target.display().to_string());
    assert_eq!(source.raw_os_error(), Some(libc::ENOTDIR));
    assert_eq!(std::fs::read(&not_a_folder).unwrap(), b"just text");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
