//! `flowbook export --flink DIR`: the job spec written out as a folder a person can read, build
//! and run — the Java job with its support classes, the SQL script, a README and build.sh.

use super::spec::{ExportError, JobSpec, job_spec};
use super::support::SUPPORT_CLASSES;
use super::{java, sql};
use crate::graph::{Graph, write_atomically};
use crate::plan::LogicalPlan;
use std::path::{Path, PathBuf};

/// A graph rendered as a Flink job: the spec and the texts of its files.
#[derive(Clone, Debug)]
pub struct FlinkExport {
    pub job: JobSpec,
    /// `FlowbookJob.java`.
    pub java: String,
    /// `job.sql`.
    pub sql: String,
}

/// The main class of every exported job.
pub const MAIN_CLASS: &str = "flowbook.FlowbookJob";

/// Translates a validated graph. `source` names the graph file for the headers; relative
/// paths resolve as the plan's location says (the graph file's folder).
pub fn export(graph: &Graph, plan: &LogicalPlan, source: &str) -> Result<FlinkExport, ExportError> {
    let name = if graph.name.trim().is_empty() {
        source.to_owned()
    } else {
        graph.name.clone()
    };
    let job = job_spec(&name, plan)?;
    let java = java::render(&job, source);
    let sql = sql::render(&job, source);
    Ok(FlinkExport { job, java, sql })
}

impl FlinkExport {
    /// Writes the folder (created if needed; files are replaced atomically). Returns the Java
    /// sources in compile order.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        let package = dir.join("flowbook");
        std::fs::create_dir_all(&package)
            .map_err(|e| format!("cannot create '{}': {e}", package.display()))?;
        let write = |path: &Path, text: &str| {
            write_atomically(path, text.as_bytes()).map_err(|e| e.to_string())
        };
        let mut sources = Vec::new();
        let main = package.join("FlowbookJob.java");
        write(&main, &self.java)?;
        sources.push(main);
        for (file, text) in SUPPORT_CLASSES {
            let path = package.join(file);
            write(&path, text)?;
            sources.push(path);
        }
        write(&dir.join("job.sql"), &self.sql)?;
        write(&dir.join("README.md"), &readme(&self.job))?;
        let build = dir.join("build.sh");
        write(&build, BUILD_SH)?;
        make_executable(&build);
        Ok(sources)
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) {}

const BUILD_SH: &str = r#"#!/usr/bin/env bash
# Builds job.jar from the Java sources against a Flink 2.3 distribution (FLINK_HOME: the folder
# with bin/ and lib/; `scripts/flink.sh home` prints Flowbook's local one).
set -euo pipefail
cd "$(dirname "$0")"
: "${FLINK_HOME:?set FLINK_HOME to a Flink 2.3 distribution}"
rm -rf classes && mkdir classes
javac -nowarn -cp "$FLINK_HOME/lib/*" -d classes flowbook/*.java
jar cf job.jar -C classes .
echo "built job.jar; run it with: \"\$FLINK_HOME/bin/flink\" run -c flowbook.FlowbookJob job.jar"
"#;

fn readme(job: &JobSpec) -> String {
    let nodes: Vec<String> = job
        .nodes
        .iter()
        .map(|n| format!("- `{}` — {}", java::operator_name(n), n.parallelism))
        .collect();
    format!(
        "# {name} on Apache Flink\n\n\
Written by `flowbook export`. Two forms of the same job:\n\n\
- `flowbook/FlowbookJob.java` — a Java DataStream job with Flowbook's exact semantics\n  (per-record watermarks, Flink's windows, late side outputs, CSV files written as\n  `flowbook run` writes them). The other files in `flowbook/` are the support classes\n  every exported job shares.\n\
- `job.sql` — the same as Flink SQL where SQL can express it; its header says what SQL cannot\n  promise.\n\n\
Build and run (Flink 2.3, Java 11+):\n\n\
```sh\nFLINK_HOME=/path/to/flink ./build.sh\n\"$FLINK_HOME/bin/flink\" run -c flowbook.FlowbookJob job.jar\n```\n\n\
`flowbook run GRAPH.ron --on-flink http://HOST:8081` does both and watches the job.\n\n\
Operators (named `<node> [#<id>]`) and their parallelism:\n\n{}\n",
        nodes.join("\n"),
        name = job.name
    )
}
