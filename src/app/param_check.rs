//! Parameter values as the editor sees them: defaults, checks against the catalogue (the same
//! rules the validator applies) and live expression syntax checks. No UI here.

use crate::catalog::{NodeKind, NodeParams, NodeSpec, ParamDefault, ParamError, ParamSpec};
use crate::graph::{Node, NodeId, ParamValue};

/// The default value of a parameter as a file value.
pub fn default_value(spec: &ParamSpec) -> ParamValue {
    match spec.default {
        ParamDefault::Int(i) => ParamValue::Int(i),
        ParamDefault::Float(x) => ParamValue::Float(x),
        ParamDefault::Bool(b) => ParamValue::Bool(b),
        ParamDefault::Text(s) => ParamValue::Text(s.to_owned()),
    }
}

/// Whether parameter `param` means anything for `node` as it is set now: a window shows only
/// the fields of its kind (no gap or count for a tumbling window). Hidden values stay in the
/// file untouched, so switching the kind back brings them back.
pub fn param_applies(node: &Node, spec: &NodeSpec, param: &str) -> bool {
    if spec.kind != NodeKind::Window {
        return true;
    }
    let kind = match node.params.get("kind") {
        Some(ParamValue::Text(kind)) => kind.as_str(),
        _ => "tumbling",
    };
    let own: &[&str] = match kind {
        "tumbling" => &["size_ms", "offset_ms", "allowed_lateness_ms"],
        "sliding" => &["size_ms", "slide_ms", "offset_ms", "allowed_lateness_ms"],
        "session" => &["gap_ms", "allowed_lateness_ms"],
        "count" => &["count"],
        "count_sliding" => &["count", "count_slide"],
        // An unknown kind (a problem names it): show everything.
        _ => return true,
    };
    let kind_specific = [
        "size_ms",
        "slide_ms",
        "offset_ms",
        "gap_ms",
        "count",
        "count_slide",
        "allowed_lateness_ms",
    ];
    !kind_specific.contains(&param) || own.contains(&param)
}

/// Whether `value` may be stored in parameter `param` of a node of `spec`'s kind; the error
/// says why not ("is 0, outside 1..=86400000", "expected an assignment ...").
pub fn check_param(spec: &'static NodeSpec, param: &str, value: &ParamValue) -> Result<(), String> {
    let probe = Node {
        id: NodeId(0),
        name: "probe".into(),
        kind: spec.id.into(),
        pos: [0.0, 0.0],
        params: [(param.to_owned(), value.clone())].into_iter().collect(),
        notes: String::new(),
    };
    if let Some(problem) = NodeParams::new(&probe, spec).check().into_iter().next() {
        return Err(match problem {
            ParamError::Unknown(name) => format!("there is no parameter '{name}'"),
            ParamError::Invalid { reason, .. } => reason.to_string(),
        });
    }
    if let (crate::catalog::ParamKind::Expr, ParamValue::Text(text)) = (
        &spec
            .param(param)
            .map(|p| &p.kind)
            .unwrap_or(&crate::catalog::ParamKind::Text),
        value,
    ) {
        check_expression(spec.kind, text)?;
    }
    Ok(())
}

/// The live syntax check of an expression parameter: Map takes `name = expr; ...`
/// assignments, every other kind a single expression.
pub fn check_expression(kind: NodeKind, text: &str) -> Result<(), String> {
    match kind {
        NodeKind::Map => crate::stream::expr::parse_assignments(text).map(|_| ()),
        _ => crate::stream::expr::compile(text).map(|_| ()),
    }
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_and_bad_expressions_are_refused_with_a_reason() {
        let window = NodeKind::Window.spec();
        let err = check_param(window, "size_ms", &ParamValue::Int(0)).unwrap_err();
        assert!(err.contains("outside"), "{err}");
        assert!(check_param(window, "size_ms", &ParamValue::Int(500)).is_ok());
        let filter = NodeKind::Filter.spec();
        assert!(check_param(filter, "predicate", &ParamValue::Text("value > (".into())).is_err());
        assert!(check_param(filter, "predicate", &ParamValue::Text("value > 2".into())).is_ok());
        let map = NodeKind::Map.spec();
        assert!(check_param(map, "assign", &ParamValue::Text("value * 2".into())).is_err());
    }
}
