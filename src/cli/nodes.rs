//! `flowbook nodes`: the catalogue as text or markdown, straight from the specs.

use crate::catalog::{Category, ParamDefault, ParamKind, all_specs};
use std::fmt::Write;

fn kind_text(kind: &ParamKind) -> String {
    match kind {
        ParamKind::Int { min, max } => format!("integer {min}..={max}"),
        ParamKind::Float { min, max } => format!("number {min}..={max}"),
        ParamKind::Bool => "true/false".into(),
        ParamKind::Text => "text".into(),
        ParamKind::Path => "file path".into(),
        ParamKind::Expr => "expression".into(),
        ParamKind::Choice(options) => options
            .iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(", "),
        ParamKind::List => "comma-separated list".into(),
    }
}

fn default_text(default: &ParamDefault) -> String {
    match default {
        ParamDefault::Int(i) => i.to_string(),
        ParamDefault::Float(x) => x.to_string(),
        ParamDefault::Bool(b) => b.to_string(),
        ParamDefault::Text(s) => format!("{s:?}"),
    }
}

/// The whole catalogue, grouped by category.
pub fn catalogue_text(markdown: bool) -> String {
    let mut out = String::new();
    let mut category: Option<Category> = None;
    for spec in all_specs() {
        if category != Some(spec.category) {
            category = Some(spec.category);
            if markdown {
                let _ = writeln!(out, "\n### {}\n", spec.category);
            } else {
                let _ = writeln!(out, "\n== {} ==", spec.category);
            }
        }
        if markdown {
            let _ = writeln!(
                out,
                "#### `{}` — {}\n\n{}\n\n{}\n",
                spec.id, spec.title, spec.summary, spec.doc
            );
        } else {
            let _ = writeln!(out, "\n{} ({})\n  {}", spec.id, spec.title, spec.summary);
        }
        let ports = spec
            .inputs
            .iter()
            .map(|p| format!("input `{}` ({})", p.name, p.ty))
            .chain(
                spec.outputs
                    .iter()
                    .map(|p| format!("output `{}` ({})", p.name, p.ty)),
            )
            .collect::<Vec<_>>()
            .join(", ");
        if markdown {
            let _ = writeln!(out, "Ports: {ports}\n");
            if !spec.params.is_empty() {
                let _ = writeln!(
                    out,
                    "| parameter | type | default | meaning |\n|---|---|---|---|"
                );
            }
        } else {
            let _ = writeln!(out, "  ports: {ports}");
        }
        for p in spec.params {
            if markdown {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | `{}` | {} |",
                    p.name,
                    kind_text(&p.kind).replace('|', "\\|"),
                    default_text(&p.default),
                    p.doc
                );
            } else {
                let _ = writeln!(
                    out,
                    "  {:<20} {} = {}\n  {:<20} {}",
                    p.name,
                    kind_text(&p.kind),
                    default_text(&p.default),
                    "",
                    p.doc
                );
            }
        }
        if markdown {
            out.push('\n');
        }
    }
    out
}

/// The catalogue as one markdown table (kind, ports, what it does): the README's overview.
pub fn catalogue_table() -> String {
    let mut out = String::from("| node | category | ports | what it does |\n|---|---|---|---|\n");
    let names = |ports: &[crate::catalog::PortSpec]| {
        ports
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for spec in all_specs() {
        let ports = match (spec.inputs.is_empty(), spec.outputs.is_empty()) {
            (true, _) => format!("→ {}", names(spec.outputs)),
            (false, true) => format!("{} →", names(spec.inputs)),
            (false, false) => format!("{} → {}", names(spec.inputs), names(spec.outputs)),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            spec.id,
            spec.category,
            ports,
            spec.summary.replace('|', "\\|")
        );
    }
    out
}
