//! Map and Filter over named fields with `evalexpr`: a pure expression language with no access
//! to files, the network or the process. Expressions are compiled once and checked against the
//! input's fields before the run; pathological texts are refused before parsing.

use super::{Item, Key, OpError, OpResult, Operator, Outputs, Record, Values};
use evalexpr::{
    Context, DefaultNumericTypes, EvalexprError, EvalexprResult, Node, Value, build_operator_tree,
};
use rustc_hash::FxHashMap;

/// Longest expression text accepted; longer ones are refused (they are not hand-written).
pub const MAX_EXPRESSION_LEN: usize = 10_000;
/// Deepest bracket nesting accepted, keeping the recursive parser far from the stack's end.
pub const MAX_NESTING: usize = 64;

/// Why an expression text is refused, before any record flows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("the expression is {0} characters long; the limit is {MAX_EXPRESSION_LEN}")]
    TooLong(usize),
    #[error("brackets nest deeper than {MAX_NESTING} levels")]
    TooDeep,
    #[error("the expression is empty")]
    Empty,
    /// The expression library could not parse the text.
    #[error("{0}")]
    Syntax(String),
    #[error("'{0}' is not an assignment `name = expression`")]
    NotAnAssignment(String),
    #[error("'{0}' is not a field name (letters, digits, _)")]
    NotAFieldName(String),
    #[error(
        "'{0}' is the record's {kind}, not a field, and cannot be assigned; choose another name",
        kind = if .0 == "key" { "key" } else { "event time" }
    )]
    Reserved(String),
    #[error("no assignments: write `name = expression`")]
    NoAssignments,
    /// An assignment's expression is refused; `name` is the field it assigns.
    #[error("{name}: {error}")]
    InAssignment { name: String, error: Box<ExprError> },
    /// A name that is no field of the input. `suggestion` is the closest field, if one is
    /// close enough to be a typo — an editor can offer it as a one-click fix.
    #[error(
        "unknown field '{name}' in `{text}`{hint}; fields are: key, ts{sep}{fields}",
        hint = suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean '{s}'?)")),
        sep = if fields.is_empty() { "" } else { ", " },
        fields = fields.join(", ")
    )]
    UnknownField {
        name: String,
        text: String,
        fields: Vec<String>,
        suggestion: Option<String>,
    },
    /// Parsed, but a trial evaluation on a sample record fails (`value >`).
    #[error("`{text}` cannot be evaluated: {reason}")]
    CannotEvaluate { text: String, reason: String },
}

impl ExprError {
    /// The closest field to a misspelt name, for "did you mean".
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            ExprError::UnknownField { suggestion, .. } => suggestion.as_deref(),
            ExprError::InAssignment { error, .. } => error.suggestion(),
            _ => None,
        }
    }
}

/// The field (or `key`/`ts`) closest to `name`, when it is near enough to be a typo.
fn closest_field<'a>(name: &str, fields: &'a [String]) -> Option<&'a str> {
    fields
        .iter()
        .map(String::as_str)
        .chain(["key", "ts"])
        .map(|f| (strsim::damerau_levenshtein(name, f), f))
        .filter(|&(distance, f)| distance <= (f.chars().count() / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, f)| f)
}

/// A compiled expression and the input fields it reads.
#[derive(Debug, Clone)]
pub struct Expression {
    pub text: String,
    tree: Node<DefaultNumericTypes>,
}

/// Parses an expression, refusing overlong or overdeep texts with a message.
pub fn compile(text: &str) -> Result<Expression, ExprError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(ExprError::TooLong(text.len()));
    }
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ExprError::TooDeep);
                }
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if text.trim().is_empty() {
        return Err(ExprError::Empty);
    }
    let tree = crate::guard::catch(|| build_operator_tree::<DefaultNumericTypes>(text))
        .map_err(|panic| ExprError::Syntax(format!("the expression cannot be read: {panic}")))?
        .map_err(|e| ExprError::Syntax(e.to_string()))?;
    Ok(Expression {
        text: text.to_owned(),
        tree,
    })
}

impl Expression {
    /// Identifiers the expression reads.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.tree.iter_variable_identifiers()
    }
}

/// `name = expression` assignments, separated by `;`.
pub fn parse_assignments(text: &str) -> Result<Vec<(String, Expression)>, ExprError> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, expr)) = split_assignment(part) else {
            return Err(ExprError::NotAnAssignment(part.to_owned()));
        };
        let name = name.trim();
        if !is_identifier(name) {
            return Err(ExprError::NotAFieldName(name.to_owned()));
        }
        if matches!(name, "key" | "ts") {
            // They are the record's key and event time, not fields: assigning would add a
            // second `key` column to the output.
            return Err(ExprError::Reserved(name.to_owned()));
        }
        let compiled = compile(expr.trim()).map_err(|e| ExprError::InAssignment {
            name: name.to_owned(),
            error: Box::new(e),
        })?;
        out.push((name.to_owned(), compiled));
    }
    if out.is_empty() {
        return Err(ExprError::NoAssignments);
    }
    Ok(out)
}

/// Splits at the first `=` that is not part of `==`, `<=`, `>=` or `!=`.
fn split_assignment(part: &str) -> Option<(&str, &str)> {
    let bytes = part.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'=' {
            continue;
        }
        let before = i.checked_sub(1).and_then(|j| bytes.get(j)).copied();
        let after = bytes.get(i + 1).copied();
        if after == Some(b'=') || matches!(before, Some(b'=' | b'<' | b'>' | b'!')) {
            continue;
        }
        return Some((part.get(..i)?, part.get(i + 1..)?));
    }
    None
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Checks that every identifier an expression reads is a field, `key` or `ts`, then evaluates
/// it once on a sample record so that incomplete expressions (`value >`) fail before the run.
pub fn check_variables(expr: &Expression, fields: &[String]) -> Result<(), ExprError> {
    check_names(expr, fields)?;
    let wanted: Vec<&str> = expr.variables().collect();
    let mut context = RecordContext::new(fields, &wanted);
    let sample = Record {
        key: Key::text("k"),
        ts: 0,
        values: fields.iter().map(|_| 1.0).collect(),
    };
    let slots: Vec<(usize, usize)> = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| context.slots.get(f).map(|&s| (i, s)))
        .collect();
    context.load(&sample, &slots);
    guarded_eval(&expr.tree, &context)
        .map(drop)
        .map_err(|reason| ExprError::CannotEvaluate {
            text: expr.text.clone(),
            reason,
        })
}

/// Evaluates a tree under the panic guard: a panic inside the expression library (e.g.
/// `str::substring` cutting a character in two) becomes an error like any other.
fn guarded_eval(
    tree: &Node<DefaultNumericTypes>,
    context: &RecordContext,
) -> Result<Value, String> {
    match crate::guard::catch(|| tree.eval_with_context(context)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("the expression library failed: {panic}")),
    }
}

/// [`guarded_eval`] for a condition: the value must be true or false.
fn guarded_eval_boolean(
    tree: &Node<DefaultNumericTypes>,
    context: &RecordContext,
) -> Result<bool, String> {
    match crate::guard::catch(|| tree.eval_boolean_with_context(context)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("the expression library failed: {panic}")),
    }
}

fn check_names(expr: &Expression, fields: &[String]) -> Result<(), ExprError> {
    for var in expr.variables() {
        if var != "key" && var != "ts" && !fields.iter().any(|f| f == var) {
            return Err(ExprError::UnknownField {
                name: var.to_owned(),
                text: expr.text.clone(),
                fields: fields.to_vec(),
                suggestion: closest_field(var, fields).map(str::to_owned),
            });
        }
    }
    Ok(())
}

/// The variables of one record, looked up by name without allocating.
struct RecordContext {
    slots: FxHashMap<String, usize>,
    values: Vec<Value>,
    key_slot: Option<usize>,
    ts_slot: Option<usize>,
}

impl RecordContext {
    fn new(fields: &[String], wanted: &[&str]) -> Self {
        let mut slots = FxHashMap::default();
        for name in fields.iter().map(String::as_str).chain(["key", "ts"]) {
            if wanted.contains(&name) && !slots.contains_key(name) {
                slots.insert(name.to_owned(), slots.len());
            }
        }
        let key_slot = slots.get("key").copied();
        let ts_slot = slots.get("ts").copied();
        Self {
            values: vec![Value::Empty; slots.len()],
            slots,
            key_slot,
            ts_slot,
        }
    }

    fn load(&mut self, record: &Record, field_slots: &[(usize, usize)]) {
        for &(field, slot) in field_slots {
            if let (Some(v), Some(dst)) = (record.values.get(field), self.values.get_mut(slot)) {
                *dst = Value::Float(*v);
            }
        }
        if let Some(dst) = self.key_slot.and_then(|s| self.values.get_mut(s)) {
            *dst = match &record.key {
                Key::Int(i) => Value::Int(*i),
                Key::Str(s) => Value::String(s.to_string()),
            };
        }
        if let Some(dst) = self.ts_slot.and_then(|s| self.values.get_mut(s)) {
            *dst = Value::Int(record.ts);
        }
    }
}

impl Context for RecordContext {
    type NumericTypes = DefaultNumericTypes;

    fn get_value(&self, identifier: &str) -> Option<&Value> {
        self.slots.get(identifier).and_then(|&i| self.values.get(i))
    }

    fn call_function(
        &self,
        identifier: &str,
        argument: &Value,
    ) -> evalexpr::error::EvalexprResultValue {
        match identifier {
            // The library's own shifts wrap (`shl(1, 64)` was quietly 1) or overflow.
            "shl" | "shr" => shift(identifier, argument),
            _ => Err(EvalexprError::FunctionIdentifierNotFound(
                identifier.to_owned(),
            )),
        }
    }

    fn are_builtin_functions_disabled(&self) -> bool {
        false
    }

    fn set_builtin_functions_disabled(&mut self, _disabled: bool) -> EvalexprResult<()> {
        Err(EvalexprError::CustomMessage(
            "builtins cannot be disabled".into(),
        ))
    }
}

/// `shl(a, b)` / `shr(a, b)` on integers, with a shift outside 0..=63 an error.
fn shift(name: &str, argument: &Value) -> evalexpr::error::EvalexprResultValue {
    let args = argument.as_fixed_len_tuple(2)?;
    let (a, b) = match args.as_slice() {
        [a, b] => (a.as_int()?, b.as_int()?),
        _ => {
            return Err(EvalexprError::CustomMessage(format!(
                "{name} takes 2 integers"
            )));
        }
    };
    if !(0..64).contains(&b) {
        return Err(EvalexprError::CustomMessage(format!(
            "{name}({a}, {b}): the shift must be between 0 and 63"
        )));
    }
    Ok(Value::Int(if name == "shl" { a << b } else { a >> b }))
}

fn as_number(value: Value) -> Option<f64> {
    match value {
        Value::Float(x) => Some(x),
        Value::Int(i) => Some(i as f64),
        Value::Boolean(b) => Some(if b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn record_label(record: &Record) -> String {
    format!("key={} ts={}", record.key, record.ts)
}

/// Computes fields from expressions; later assignments see earlier results.
pub struct MapOperator {
    assignments: Vec<(usize, Expression)>,
    output_width: usize,
    context: RecordContext,
    field_slots: Vec<(usize, usize)>,
}

/// The output fields of a Map: the input's, then each newly assigned name in order.
pub fn map_output_fields(input: &[String], assignments: &[(String, Expression)]) -> Vec<String> {
    let mut fields = input.to_vec();
    for (name, _) in assignments {
        if !fields.contains(name) {
            fields.push(name.clone());
        }
    }
    fields
}

impl MapOperator {
    pub fn new(input_fields: &[String], assignments: Vec<(String, Expression)>) -> Self {
        let output = map_output_fields(input_fields, &assignments);
        let mut wanted: Vec<&str> = Vec::new();
        for (_, e) in &assignments {
            wanted.extend(e.variables());
        }
        let context = RecordContext::new(&output, &wanted);
        let field_slots = output
            .iter()
            .enumerate()
            .filter_map(|(i, f)| context.slots.get(f).map(|&s| (i, s)))
            .collect();
        let assignments = assignments
            .into_iter()
            .map(|(name, e)| (output.iter().position(|f| *f == name).unwrap_or(0), e))
            .collect();
        Self {
            assignments,
            output_width: output.len(),
            context,
            field_slots,
        }
    }
}

impl Operator for MapOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Record(mut record) = item else {
            return Ok(());
        };
        record.values.resize(self.output_width, f64::NAN);
        for (field, expr) in &self.assignments {
            self.context.load(&record, &self.field_slots);
            let value = guarded_eval(&expr.tree, &self.context).map_err(|e| {
                OpError::new(format!(
                    "`{}` failed for {}: {e}",
                    expr.text,
                    record_label(&record)
                ))
            })?;
            let number = as_number(value).ok_or_else(|| {
                OpError::new(format!(
                    "`{}` gave a non-number for {}",
                    expr.text,
                    record_label(&record)
                ))
            })?;
            if let Some(slot) = record.values.get_mut(*field) {
                *slot = number;
            }
        }
        out.push(0, Item::Record(record));
        Ok(())
    }
}

/// Keeps records whose predicate is true.
pub struct FilterOperator {
    predicate: Expression,
    context: RecordContext,
    field_slots: Vec<(usize, usize)>,
}

impl FilterOperator {
    pub fn new(fields: &[String], predicate: Expression) -> Self {
        let wanted: Vec<&str> = predicate.variables().collect();
        let context = RecordContext::new(fields, &wanted);
        let field_slots = fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| context.slots.get(f).map(|&s| (i, s)))
            .collect();
        Self {
            predicate,
            context,
            field_slots,
        }
    }
}

impl Operator for FilterOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        let Item::Record(record) = item else {
            return Ok(());
        };
        self.context.load(&record, &self.field_slots);
        let keep = guarded_eval_boolean(&self.predicate.tree, &self.context).map_err(|e| {
            OpError::new(format!(
                "`{}` failed for {}: {e}",
                self.predicate.text,
                record_label(&record)
            ))
        })?;
        if keep {
            out.push(0, Item::Record(record));
        }
        Ok(())
    }
}

/// Helper for building a record in tests and generators.
pub fn record(key: Key, ts: i64, values: &[f64]) -> Record {
    Record {
        key,
        ts,
        values: Values::from_slice(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn map_adds_and_replaces_fields_in_order() {
        let assignments =
            parse_assignments("c = (value - 32) * 5 / 9; value = value * 2; big = c >= 100")
                .unwrap();
        let input = fields(&["value"]);
        assert_eq!(
            map_output_fields(&input, &assignments),
            fields(&["value", "c", "big"])
        );
        let mut op = MapOperator::new(&input, assignments);
        let mut out = Outputs::new(1);
        op.on_item(
            0,
            Item::Record(record(Key::text("a"), 5, &[212.0])),
            &mut out,
        )
        .unwrap();
        let Some(Item::Record(r)) = out.ports[0].pop() else {
            panic!("no output")
        };
        assert_eq!(r.values.as_slice(), &[424.0, 100.0, 1.0]);
    }

    #[test]
    fn filter_sees_key_and_ts() {
        let pred = compile("value > 10 && key != \"k1\" && ts >= 0").unwrap();
        let mut op = FilterOperator::new(&fields(&["value"]), pred);
        let mut out = Outputs::new(1);
        for (k, v) in [("k0", 11.0), ("k1", 50.0), ("k2", 3.0)] {
            op.on_item(0, Item::Record(record(Key::text(k), 1, &[v])), &mut out)
                .unwrap();
        }
        assert_eq!(out.ports[0].len(), 1);
    }

    #[test]
    fn unknown_fields_and_bad_syntax_are_refused_with_names() {
        let e = compile("valeu > 3").unwrap();
        let err = check_variables(&e, &fields(&["value", "x1"])).unwrap_err();
        assert_eq!(err.suggestion(), Some("value"));
        assert_eq!(
            err.to_string(),
            "unknown field 'valeu' in `valeu > 3` (did you mean 'value'?); fields are: key, ts, value, x1"
        );
        // Nothing close: no guess.
        let e = compile("temperature > 3").unwrap();
        let err = check_variables(&e, &fields(&["value", "x1"])).unwrap_err();
        assert!(
            matches!(
                &err,
                ExprError::UnknownField {
                    suggestion: None,
                    ..
                }
            ),
            "{err:?}"
        );
        // A typo inside an assignment is found the same way, through the assignment.
        let assignments = parse_assignments("y = x2 * 2").unwrap();
        let err = check_variables(&assignments[0].1, &fields(&["x1"])).unwrap_err();
        assert_eq!(err.suggestion(), Some("x1"));
        let incomplete = compile("value > ").and_then(|e| check_variables(&e, &fields(&["value"])));
        assert!(incomplete.is_err());
        assert!(matches!(
            parse_assignments("x == 3"),
            Err(ExprError::NotAnAssignment(_))
        ));
        assert_eq!(
            parse_assignments("2x = 3").unwrap_err(),
            ExprError::NotAFieldName("2x".into())
        );
        assert_eq!(
            parse_assignments("ts = 3").unwrap_err().to_string(),
            "'ts' is the record's event time, not a field, and cannot be assigned; choose another name"
        );
        let err = parse_assignments("y = (1 +").unwrap_err();
        assert!(
            matches!(&err, ExprError::InAssignment { name, .. } if name == "y"),
            "{err:?}"
        );
    }

    #[test]
    fn pathological_expressions_are_refused_not_overflowed() {
        let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(compile(&deep).unwrap_err(), ExprError::TooDeep);
        let long = "1+".repeat(6000) + "1";
        assert_eq!(compile(&long).unwrap_err(), ExprError::TooLong(12_001));
        assert_eq!(compile("  ").unwrap_err(), ExprError::Empty);
    }

    #[test]
    fn a_failing_expression_names_the_record() {
        let assignments = parse_assignments("x = key + 1").unwrap();
        let mut op = MapOperator::new(&fields(&["value"]), assignments);
        let mut out = Outputs::new(1);
        let err = op
            .on_item(
                0,
                Item::Record(record(Key::text("k9"), 77, &[1.0])),
                &mut out,
            )
            .unwrap_err();
        assert!(err.0.contains("key=k9 ts=77"), "{err}");
    }

    #[test]
    fn a_panic_inside_the_expression_library_is_an_error_at_check_and_at_run_time() {
        // evalexpr's `str::substring` slices bytes and panics inside a multi-byte character.
        let text = r#"len(str::substring("é", 0, 1))"#;
        let e = compile(text).unwrap();
        let err = check_variables(&e, &fields(&["value"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot be evaluated") && err.contains("char boundary"),
            "{err}"
        );
        let assignments = parse_assignments(&format!("x = {text}")).unwrap();
        let mut op = MapOperator::new(&fields(&["value"]), assignments);
        let mut out = Outputs::new(1);
        let err = op
            .on_item(0, Item::Record(record(Key::text("k"), 3, &[1.0])), &mut out)
            .unwrap_err();
        assert!(
            err.0.contains("key=k ts=3") && err.0.contains("library failed"),
            "{err}"
        );
        let mut filter = FilterOperator::new(
            &fields(&["value"]),
            compile(&format!("{text} > 0")).unwrap(),
        );
        assert!(
            filter
                .on_item(0, Item::Record(record(Key::text("k"), 3, &[1.0])), &mut out)
                .is_err()
        );
    }

    #[test]
    fn shifts_out_of_range_are_errors_and_key_and_ts_cannot_be_assigned() {
        let value = |text: &str| {
            let e = compile(text).unwrap();
            check_variables(&e, &fields(&["value"]))
        };
        // `shl(1, 64)` was quietly 1 (the library's shift wraps).
        for text in ["shl(1, 64) > 0", "shr(8, -1) > 0", "shl(1, 100) > 0"] {
            let err = value(text).unwrap_err().to_string();
            assert!(
                err.contains("the shift must be between 0 and 63"),
                "{text}: {err}"
            );
        }
        let e = compile("shl(3, 4) + shr(256, 8)").unwrap();
        let mut map = MapOperator::new(&fields(&["value"]), vec![("x".into(), e)]);
        let mut out = Outputs::new(1);
        map.on_item(0, Item::Record(record(Key::text("k"), 1, &[1.0])), &mut out)
            .unwrap();
        let Item::Record(r) = &out.ports[0][0] else {
            panic!("no record")
        };
        assert_eq!(r.values.as_slice(), &[1.0, 49.0]);
        for name in ["key", "ts"] {
            let err = parse_assignments(&format!("{name} = 5")).unwrap_err();
            assert_eq!(err, ExprError::Reserved(name.into()));
        }
    }
}
