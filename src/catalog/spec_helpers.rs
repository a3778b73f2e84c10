//! Small constructors the node spec tables share, so each table reads as data.

use super::{ParamDefault, ParamKind, ParamSpec, PortSpec, PortType};

/// A parameter that is fixed while the graph runs.
pub const fn p(
    name: &'static str,
    kind: ParamKind,
    default: ParamDefault,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        doc,
        live: false,
    }
}

/// A parameter that can change while the graph runs (e.g. a learning rate).
pub const fn live(
    name: &'static str,
    kind: ParamKind,
    default: ParamDefault,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        doc,
        live: true,
    }
}

/// A port that takes one wire.
pub const fn port(name: &'static str, ty: PortType, doc: &'static str, required: bool) -> PortSpec {
    PortSpec {
        name,
        ty,
        doc,
        required,
        many: false,
    }
}

pub const RECORDS_IN: PortSpec = port("in", PortType::Records, "records to process", true);
pub const RECORDS_OUT: PortSpec = port("out", PortType::Records, "records produced", false);
