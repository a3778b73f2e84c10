//! Which wires may be drawn: an output feeds an input whose type accepts it, between two
//! different nodes, without closing a cycle. The refusal reads as the user would say it
//! ("Records cannot feed a Tensor input"). Pure: it reads the graph and the catalogue.

use super::layout::spec_of;
use crate::catalog::PortSpec;
use crate::graph::{Edge, Graph, PortRef};

/// The port specs of a wire's two ends, if both exist in the catalogue.
fn ends(
    graph: &Graph,
    from: &PortRef,
    to: &PortRef,
) -> Result<(&'static PortSpec, &'static PortSpec), String> {
    let from_node = graph.node(from.node).ok_or("the source node is gone")?;
    let to_node = graph.node(to.node).ok_or("the target node is gone")?;
    let from_spec = spec_of(from_node).ok_or_else(|| {
        format!(
            "'{}' has an unknown kind '{}'",
            from_node.name, from_node.kind
        )
    })?;
    let to_spec = spec_of(to_node)
        .ok_or_else(|| format!("'{}' has an unknown kind '{}'", to_node.name, to_node.kind))?;
    let out = from_spec
        .output(&from.port)
        .ok_or_else(|| format!("'{}' has no output '{}'", from_node.name, from.port))?;
    let inp = to_spec
        .input(&to.port)
        .ok_or_else(|| format!("'{}' has no input '{}'", to_node.name, to.port))?;
    Ok((out, inp))
}

/// Whether the wire `from` -> `to` may be added; the error is the reason shown to the user.
pub fn check_wire(graph: &Graph, from: &PortRef, to: &PortRef) -> Result<(), String> {
    let (out, inp) = ends(graph, from, to)?;
    if !inp.ty.accepts(out.ty) {
        return Err(format!("{} cannot feed a {} input", out.ty, inp.ty));
    }
    if from.node == to.node {
        return Err("a node cannot feed itself".into());
    }
    let edge = Edge {
        from: from.clone(),
        to: to.clone(),
    };
    if graph.edges.contains(&edge) {
        return Err("these ports are already connected".into());
    }
    if let Some(path) = graph.path_between(to.node, from.node) {
        let mut names: Vec<String> = path.iter().map(|id| graph.display_name(*id)).collect();
        names.push(graph.display_name(to.node));
        return Err(format!(
            "this wire would close a cycle: {}",
            names.join(" -> ")
        ));
    }
    Ok(())
}

/// Whether an input takes a single wire (a new wire then replaces the old one).
pub fn single_input(graph: &Graph, to: &PortRef) -> bool {
    graph
        .node(to.node)
        .and_then(spec_of)
        .and_then(|s| s.input(&to.port))
        .is_none_or(|p| !p.many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_into_a_tensor_input_is_refused_with_the_types_named() {
        let mut g = Graph::new("t");
        let source = g.add_node("sequence_source", "source", [0.0, 0.0]);
        let dense = g.add_node("dense", "dense", [0.0, 0.0]);
        let window = g.add_node("window", "window", [0.0, 0.0]);
        let err = check_wire(&g, &PortRef::new(source, "out"), &PortRef::new(dense, "in"));
        assert_eq!(err, Err("Records cannot feed a Tensor input".into()));
        assert_eq!(
            check_wire(
                &g,
                &PortRef::new(source, "out"),
                &PortRef::new(window, "in")
            ),
            Ok(())
        );
        assert!(single_input(&g, &PortRef::new(window, "in")));
    }
}
