//! Building an exported job into a jar: `javac` against the Flink distribution's `lib/*.jar`,
//! then the JDK's `jar` tool. The distribution is `$FLINK_HOME`, or the one `scripts/flink.sh`
//! installs under `.flink/`.

use super::export::FlinkExport;
use super::support::SUPPORT_CLASSES;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a job's jar could not be made; each asks the user for something different.
#[derive(Debug, thiserror::Error)]
pub enum JarError {
    /// No Flink distribution to compile against (install one, or point FLINK_HOME at it).
    #[error("{0}")]
    NoDistribution(String),
    /// `javac` or `jar` is missing: a JDK is needed.
    #[error("cannot run {tool}: {source} (a JDK is needed: apt-get install default-jdk-headless)")]
    NoJdk {
        tool: String,
        source: std::io::Error,
    },
    /// The tool ran and failed; `output` is the start of what it said.
    #[error("{tool} failed:\n{output}")]
    ToolFailed { tool: String, output: String },
    /// A file or folder of the build could not be written.
    #[error("{0}")]
    Files(String),
}

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
pub fn flink_home() -> Result<PathBuf, JarError> {
    if let Some(home) = std::env::var_os("FLINK_HOME").map(PathBuf::from) {
        if is_flink_home(&home) {
            return Ok(home);
        }
        return Err(JarError::NoDistribution(format!(
            "FLINK_HOME={} has no lib/{DIST_JAR}*.jar: point it at a Flink 2.3 distribution",
            home.display()
        )));
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
            JarError::NoDistribution("no Flink distribution found to compile the job against: run scripts/flink.sh install, or set FLINK_HOME to a Flink 2.3 folder (with bin/ and lib/)".to_owned())
        })
}

fn run(command: &mut Command, what: &str) -> Result<(), JarError> {
    let output = command.output().map_err(|source| JarError::NoJdk {
        tool: what.to_owned(),
        source,
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    Err(JarError::ToolFailed {
        tool: what.to_owned(),
        output: super::rest::first_lines(&format!("{stderr}{stdout}"), 30),
    })
}

/// The support classes compiled once per Flink distribution and Flowbook version, kept in the
/// temporary folder: every job after the first compiles only its own `FlowbookJob.java`.
fn support_classes(flink_home: &Path, classpath: &Path) -> Result<PathBuf, JarError> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    flink_home.hash(&mut hasher);
    for (name, text) in SUPPORT_CLASSES {
        name.hash(&mut hasher);
        text.hash(&mut hasher);
    }
    let cache =
        std::env::temp_dir().join(format!("flowbook-flink-support-{:016x}", hasher.finish()));
    if cache.join("complete").exists() {
        return Ok(cache);
    }
    let work = cache.with_extension(format!("{}.part", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let sources = work.join("src");
    std::fs::create_dir_all(&sources)
        .map_err(|e| JarError::Files(format!("cannot create '{}': {e}", sources.display())))?;
    let mut files = Vec::new();
    for (name, text) in SUPPORT_CLASSES {
        let path = sources.join(name);
        std::fs::write(&path, text)
            .map_err(|e| JarError::Files(format!("cannot write '{}': {e}", path.display())))?;
        files.push(path);
    }
    let classes = work.join("classes");
    std::fs::create_dir_all(&classes)
        .map_err(|e| JarError::Files(format!("cannot create '{}': {e}", classes.display())))?;
    javac(classpath, &classes, &files)?;
    let _ = std::fs::write(classes.join("complete"), b"");
    // Another build may have finished first: either copy will do.
    if std::fs::rename(&classes, &cache).is_err() && !cache.join("complete").exists() {
        return Err(JarError::Files(format!(
            "cannot keep compiled classes in '{}'",
            cache.display()
        )));
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(cache)
}

fn javac(classpath: &Path, out: &Path, sources: &[PathBuf]) -> Result<(), JarError> {
    run(
        Command::new("javac")
            .arg("-nowarn")
            .arg("-encoding")
            .arg("UTF-8")
            .arg("-cp")
            .arg(classpath)
            .arg("-d")
            .arg(out)
            .args(sources),
        "javac",
    )
}

/// Writes the export into `dir`, compiles it against `flink_home`'s jars and packages
/// `dir/job.jar` (the job and the support classes). Returns the jar's path.
pub fn build_jar(export: &FlinkExport, dir: &Path, flink_home: &Path) -> Result<PathBuf, JarError> {
    let sources = export.write(dir).map_err(JarError::Files)?;
    let lib = flink_home.join("lib").join("*");
    let support = support_classes(flink_home, &lib)?;
    let classes = dir.join("classes");
    let _ = std::fs::remove_dir_all(&classes);
    std::fs::create_dir_all(&classes)
        .map_err(|e| JarError::Files(format!("cannot create '{}': {e}", classes.display())))?;
    let classpath = std::env::join_paths([lib.as_path(), support.as_path()])
        .map_err(|e| JarError::Files(format!("cannot join class paths: {e}")))?;
    let main: Vec<PathBuf> = sources.into_iter().take(1).collect();
    javac(Path::new(&classpath), &classes, &main)?;
    let jar = dir.join("job.jar");
    run(
        Command::new("jar")
            .arg("cf")
            .arg(&jar)
            .arg("-C")
            .arg(&classes)
            .arg(".")
            .arg("-C")
            .arg(&support)
            .arg("flowbook"),
        "jar",
    )?;
    Ok(jar)
}
