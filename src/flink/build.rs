//! Building an exported job into a jar: `javac` against the Flink distribution's `lib/*.jar`,
//! then the JDK's `jar` tool. The distribution is `$FLINK_HOME`, or the one `scripts/flink.sh`
//! installs under `.flink/`.

use super::export::FlinkExport;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The jar of the Flink distribution that marks a usable `lib/`.
const DIST_JAR: &str = "flink-dist-";

fn is_flink_home(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("lib")).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(DIST_JAR) && name.ends_with(".jar")
        })
    })
}

/// `DIR/venv/lib/python3.*/site-packages/pyflink`, where scripts/flink.sh installs Flink.
fn pyflink_in(dir: &Path) -> Option<PathBuf> {
    let lib = dir.join("venv").join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("site-packages").join("pyflink"))
        .collect();
    pythons.sort();
    pythons.into_iter().find(|p| is_flink_home(p))
}

/// Finds a Flink 2.x distribution: `$FLINK_HOME`, then `$FLOWBOOK_FLINK_DIR`, then `.flink/` in
/// the working directory and in the source tree this binary was built from.
pub fn flink_home() -> Result<PathBuf, String> {
    if let Some(home) = std::env::var_os("FLINK_HOME").map(PathBuf::from) {
        if is_flink_home(&home) {
            return Ok(home);
        }
        return Err(format!(
            "FLINK_HOME={} has no lib/{DIST_JAR}*.jar: point it at a Flink 2.3 distribution",
            home.display()
        ));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("FLOWBOOK_FLINK_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(".flink"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".flink"));
    candidates
        .iter()
        .find_map(|dir| pyflink_in(dir))
        .ok_or_else(|| {
            "no Flink distribution found to compile the job against: run scripts/flink.sh install, or set FLINK_HOME to a Flink 2.3 folder (with bin/ and lib/)".to_owned()
        })
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| {
        format!("cannot run {what}: {e} (a JDK is needed: apt-get install default-jdk-headless)")
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    Err(format!(
        "{what} failed:\n{}",
        super::rest::first_lines(&format!("{stderr}{stdout}"), 30)
    ))
}

/// Writes the export into `dir`, compiles it against `flink_home`'s jars and packages
/// `dir/job.jar`. Returns the jar's path.
pub fn build_jar(export: &FlinkExport, dir: &Path, flink_home: &Path) -> Result<PathBuf, String> {
    let sources = export.write(dir)?;
    let classes = dir.join("classes");
    let _ = std::fs::remove_dir_all(&classes);
    std::fs::create_dir_all(&classes)
        .map_err(|e| format!("cannot create '{}': {e}", classes.display()))?;
    let classpath = flink_home.join("lib").join("*");
    run(
        Command::new("javac")
            .arg("-nowarn")
            .arg("-encoding")
            .arg("UTF-8")
            .arg("-cp")
            .arg(&classpath)
            .arg("-d")
            .arg(&classes)
            .args(&sources),
        "javac",
    )?;
    let jar = dir.join("job.jar");
    run(
        Command::new("jar")
            .arg("cf")
            .arg(&jar)
            .arg("-C")
            .arg(&classes)
            .arg("."),
        "jar",
    )?;
    Ok(jar)
}
