//! Map and Filter expressions (evalexpr) translated into Java with the same meaning: integers
//! stay integers (checked arithmetic, truncating division), floats stay floats, both sides of
//! `&&`/`||` and both branches of `if` are evaluated, and values of different types are never
//! equal. What cannot be translated exactly is refused with the reason.

use super::spec::KeyType;
use crate::stream::expr::Expression;
use evalexpr::{DefaultNumericTypes, Node, Operator, Value};

/// The static type of a translated expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JType {
    Long,
    Double,
    Bool,
    Str,
    /// A number whose evalexpr type depends on the values (min/max or if over integers and
    /// floats): computed as a double, which is its numeric value either way.
    Number,
}

/// A Java expression and its type. `notes` say where results may differ in the last bit.
#[derive(Clone, Debug, PartialEq)]
pub struct JavaExpr {
    pub code: String,
    pub ty: JType,
    pub notes: Vec<String>,
}

impl JavaExpr {
    fn new(code: String, ty: JType) -> Self {
        Self {
            code,
            ty,
            notes: Vec::new(),
        }
    }

    fn with_notes(mut self, parts: &[&JavaExpr]) -> Self {
        for part in parts {
            for note in &part.notes {
                if !self.notes.contains(note) {
                    self.notes.push(note.clone());
                }
            }
        }
        self
    }

    fn note(mut self, note: String) -> Self {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
        self
    }
}

/// What names an expression may read: the record's fields (read from `v[i]` in Java), `key`
/// and `ts`. A Map's later assignments see the fields the earlier ones created.
pub struct Scope<'a> {
    fields: &'a [String],
    visible: Option<&'a [String]>,
    key: KeyType,
}

impl<'a> Scope<'a> {
    pub fn new(fields: &'a [String], key: KeyType) -> Self {
        Self {
            fields,
            visible: None,
            key,
        }
    }

    /// Only these of the fields may be read (a Map's fields assigned so far).
    pub fn visible(mut self, names: &'a [String]) -> Self {
        self.visible = Some(names);
        self
    }
}

type Tree = Node<DefaultNumericTypes>;

fn tree(expr: &Expression) -> Result<Tree, String> {
    evalexpr::build_operator_tree::<DefaultNumericTypes>(&expr.text).map_err(|e| e.to_string())
}

/// A Map assignment's value as a Java double (booleans become 1 or 0, as in Flowbook).
pub fn number(expr: &Expression, scope: &Scope<'_>) -> Result<JavaExpr, String> {
    let e = translate(&tree(expr)?, scope)?;
    let code = match e.ty {
        JType::Double | JType::Number => e.code.clone(),
        JType::Long => format!("(double) {}", e.code),
        JType::Bool => format!("({} ? 1.0 : 0.0)", e.code),
        JType::Str => return Err("gives text, not a number".into()),
    };
    Ok(JavaExpr::new(code, JType::Double).with_notes(&[&e]))
}

/// A Filter's predicate as a Java boolean.
pub fn predicate(expr: &Expression, scope: &Scope<'_>) -> Result<JavaExpr, String> {
    let e = translate(&tree(expr)?, scope)?;
    if e.ty != JType::Bool {
        return Err("is not a condition (true or false)".into());
    }
    Ok(e)
}

fn translate(node: &Tree, scope: &Scope<'_>) -> Result<JavaExpr, String> {
    let children = node.children();
    let child = |i: usize| -> Result<JavaExpr, String> {
        let Some(c) = children.get(i) else {
            return Err("an operator is missing an operand".into());
        };
        translate(c, scope)
    };
    match node.operator() {
        Operator::RootNode => match children {
            [only] => translate(only, scope),
            [] => Err("the expression is empty".into()),
            _ => Err("several expressions where one is expected".into()),
        },
        Operator::Const { value } => constant(value),
        Operator::VariableIdentifierRead { identifier } => variable(identifier, scope),
        Operator::Add => arithmetic("+", "Math.addExact", child(0)?, child(1)?, true),
        Operator::Sub => arithmetic("-", "Math.subtractExact", child(0)?, child(1)?, false),
        Operator::Mul => arithmetic("*", "Math.multiplyExact", child(0)?, child(1)?, false),
        Operator::Div => division("/", "Ops.div", child(0)?, child(1)?),
        Operator::Mod => division("%", "Ops.rem", child(0)?, child(1)?),
        Operator::Neg => {
            let a = child(0)?;
            match a.ty {
                JType::Long => Ok(JavaExpr::new(
                    format!("Math.negateExact({})", a.code),
                    JType::Long,
                )
                .with_notes(&[&a])),
                JType::Double | JType::Number => {
                    Ok(JavaExpr::new(format!("(-{})", a.code), a.ty).with_notes(&[&a]))
                }
                _ => Err("`-` needs a number".into()),
            }
        }
        Operator::Exp => {
            let (a, b) = (child(0)?, child(1)?);
            let exact = matches!(
                children.get(1).map(Node::operator),
                Some(
                    Operator::Const {
                        value: Value::Int(1 | 2)
                    } | Operator::Const {
                        value: Value::Float(1.0 | 2.0)
                    }
                )
            );
            let e = JavaExpr::new(
                format!("Ops.pow({}, {})", as_double(&a)?, as_double(&b)?),
                JType::Double,
            )
            .with_notes(&[&a, &b]);
            Ok(if exact {
                e
            } else {
                e.note("`^` uses Java's Math.pow".into())
            })
        }
        Operator::Eq | Operator::Neq => {
            let negate = matches!(node.operator(), Operator::Neq);
            equality(child(0)?, child(1)?, negate)
        }
        Operator::Gt => comparison(">", child(0)?, child(1)?),
        Operator::Lt => comparison("<", child(0)?, child(1)?),
        Operator::Geq => comparison(">=", child(0)?, child(1)?),
        Operator::Leq => comparison("<=", child(0)?, child(1)?),
        Operator::And | Operator::Or => {
            let (a, b) = (child(0)?, child(1)?);
            if a.ty != JType::Bool || b.ty != JType::Bool {
                return Err("`&&` and `||` need conditions on both sides".into());
            }
            // `&`/`|` evaluate both sides, as evalexpr does (an error on the right still fails).
            let op = if matches!(node.operator(), Operator::And) {
                "&"
            } else {
                "|"
            };
            Ok(
                JavaExpr::new(format!("({} {op} {})", a.code, b.code), JType::Bool)
                    .with_notes(&[&a, &b]),
            )
        }
        Operator::Not => {
            let a = child(0)?;
            if a.ty != JType::Bool {
                return Err("`!` needs a condition".into());
            }
            Ok(JavaExpr::new(format!("(!{})", a.code), JType::Bool).with_notes(&[&a]))
        }
        Operator::FunctionIdentifier { identifier } => {
            // Parentheses are root nodes of their own: look through them for the tuple.
            let mut argument = children;
            while let [only] = argument
                && matches!(only.operator(), Operator::RootNode)
            {
                argument = only.children();
            }
            let args: Vec<JavaExpr> = match argument {
                [only] if matches!(only.operator(), Operator::Tuple) => only
                    .children()
                    .iter()
                    .map(|c| translate(c, scope))
                    .collect::<Result<_, _>>()?,
                [only] => vec![translate(only, scope)?],
                _ => return Err(format!("`{identifier}` is called without arguments")),
            };
            function(identifier, args)
        }
        Operator::Tuple => Err("a tuple `(a, b)` is only allowed as function arguments".into()),
        Operator::Chain => Err("`;` separates assignments; an expression cannot contain it".into()),
        other => Err(format!("`{other}` has no Flink translation")),
    }
}

fn constant(value: &Value<DefaultNumericTypes>) -> Result<JavaExpr, String> {
    Ok(match value {
        Value::Int(i) if *i == i64::MIN => JavaExpr::new("Long.MIN_VALUE".into(), JType::Long),
        Value::Int(i) => JavaExpr::new(format!("{i}L"), JType::Long),
        Value::Float(x) => JavaExpr::new(java_double(*x), JType::Double),
        Value::Boolean(b) => JavaExpr::new(b.to_string(), JType::Bool),
        Value::String(s) => JavaExpr::new(java_string(s), JType::Str),
        Value::Tuple(_) | Value::Empty => {
            return Err("a tuple or empty value has no Flink translation".into());
        }
    })
}

/// A double literal Java reads as exactly this value.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        "Double.NaN".into()
    } else if x == f64::INFINITY {
        "Double.POSITIVE_INFINITY".into()
    } else if x == f64::NEG_INFINITY {
        "Double.NEGATIVE_INFINITY".into()
    } else {
        // Debug prints the shortest text that reads back exactly, always with '.' or 'e'.
        format!("{x:?}")
    }
}

/// A Java string literal (non-ASCII escaped, so the source is plain ASCII).
pub fn java_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn variable(name: &str, scope: &Scope<'_>) -> Result<JavaExpr, String> {
    // As in Flowbook, `key` and `ts` are the record's key and event time even if a field has
    // the same name.
    match name {
        "key" => match scope.key {
            KeyType::Text => Ok(JavaExpr::new("e.key".into(), JType::Str)),
            KeyType::Integer => Ok(JavaExpr::new("Long.parseLong(e.key)".into(), JType::Long)),
            KeyType::Mixed => {
                Err("reads `key`, but this stream merges text keys and integer keys".into())
            }
        },
        "ts" => Ok(JavaExpr::new("e.ts".into(), JType::Long)),
        field => {
            let visible = scope.visible.unwrap_or(scope.fields);
            let index = scope.fields.iter().position(|f| f == field);
            match index {
                Some(i) if visible.iter().any(|f| f == field) => {
                    Ok(JavaExpr::new(format!("v[{i}]"), JType::Double))
                }
                _ => Err(format!("unknown field '{field}'")),
            }
        }
    }
}

fn as_double(e: &JavaExpr) -> Result<String, String> {
    match e.ty {
        JType::Double | JType::Number => Ok(e.code.clone()),
        JType::Long => Ok(format!("(double) {}", e.code)),
        JType::Bool | JType::Str => Err("expected a number".into()),
    }
}

fn arithmetic(
    op: &str,
    checked: &str,
    a: JavaExpr,
    b: JavaExpr,
    strings_concatenate: bool,
) -> Result<JavaExpr, String> {
    let code_ty = match (a.ty, b.ty) {
        (JType::Str, JType::Str) if strings_concatenate => {
            (format!("({} + {})", a.code, b.code), JType::Str)
        }
        (JType::Long, JType::Long) => (format!("{checked}({}, {})", a.code, b.code), JType::Long),
        (JType::Number, _) | (_, JType::Number) => (
            format!("({} {op} {})", as_double(&a)?, as_double(&b)?),
            JType::Number,
        ),
        _ => (
            format!("({} {op} {})", as_double(&a)?, as_double(&b)?),
            JType::Double,
        ),
    };
    Ok(JavaExpr::new(code_ty.0, code_ty.1).with_notes(&[&a, &b]))
}

fn division(op: &str, checked: &str, a: JavaExpr, b: JavaExpr) -> Result<JavaExpr, String> {
    if a.ty == JType::Number || b.ty == JType::Number {
        return Err(format!(
            "`{op}` of a min/max/if mixing integers and floats: its type depends on the values (integer division or not); write float literals (`2.0`)"
        ));
    }
    let e = match (a.ty, b.ty) {
        (JType::Long, JType::Long) => {
            JavaExpr::new(format!("{checked}({}, {})", a.code, b.code), JType::Long)
        }
        _ => JavaExpr::new(
            format!("({} {op} {})", as_double(&a)?, as_double(&b)?),
            JType::Double,
        ),
    };
    Ok(e.with_notes(&[&a, &b]))
}

fn equality(a: JavaExpr, b: JavaExpr, negate: bool) -> Result<JavaExpr, String> {
    let same = match (a.ty, b.ty) {
        (JType::Number, _) | (_, JType::Number) => {
            return Err(
                "`==` on a min/max/if mixing integers and floats: evalexpr compares types too; write float literals (`2.0`)".into(),
            );
        }
        (JType::Str, JType::Str) => format!("{}.equals({})", a.code, b.code),
        (x, y) if x == y => format!("({} == {})", a.code, b.code),
        // evalexpr never finds values of different types equal (1 == 1.0 is false).
        _ => format!("Ops.differentTypes({}, {})", a.code, b.code),
    };
    let code = if negate { format!("(!{same})") } else { same };
    Ok(JavaExpr::new(code, JType::Bool).with_notes(&[&a, &b]))
}

fn comparison(op: &str, a: JavaExpr, b: JavaExpr) -> Result<JavaExpr, String> {
    let code = match (a.ty, b.ty) {
        (JType::Str, JType::Str) => format!("(Ops.compare({}, {}) {op} 0)", a.code, b.code),
        (JType::Long, JType::Long) => format!("({} {op} {})", a.code, b.code),
        (JType::Bool, _) | (_, JType::Bool) | (JType::Str, _) | (_, JType::Str) => {
            return Err(format!("`{op}` compares two numbers or two texts"));
        }
        _ => format!("({} {op} {})", as_double(&a)?, as_double(&b)?),
    };
    Ok(JavaExpr::new(code, JType::Bool).with_notes(&[&a, &b]))
}

fn function(name: &str, args: Vec<JavaExpr>) -> Result<JavaExpr, String> {
    let refs: Vec<&JavaExpr> = args.iter().collect();
    let one = || -> Result<&JavaExpr, String> {
        match args.as_slice() {
            [a] => Ok(a),
            _ => Err(format!("`{name}` takes one argument")),
        }
    };
    let two = || -> Result<(&JavaExpr, &JavaExpr), String> {
        match args.as_slice() {
            [a, b] => Ok((a, b)),
            _ => Err(format!("`{name}` takes two arguments")),
        }
    };
    let double_of = |java: &str| -> Result<JavaExpr, String> {
        Ok(JavaExpr::new(
            format!("{java}({})", as_double(one()?)?),
            JType::Double,
        ))
    };
    let inexact = |e: JavaExpr| e.note(format!("`{name}` uses Java's Math"));
    let e = match name {
        "min" | "max" => {
            if args.is_empty() {
                return Err(format!("`{name}` needs arguments"));
            }
            if args.iter().all(|a| a.ty == JType::Long) {
                let list: Vec<&str> = args.iter().map(|a| a.code.as_str()).collect();
                let java = if name == "min" {
                    "Ops.minLong"
                } else {
                    "Ops.maxLong"
                };
                JavaExpr::new(format!("{java}({})", list.join(", ")), JType::Long)
            } else {
                let mut ints = Vec::new();
                let mut floats = Vec::new();
                for a in &args {
                    match a.ty {
                        JType::Long => ints.push(a.code.clone()),
                        JType::Double => floats.push(a.code.clone()),
                        _ => return Err(format!("`{name}` takes numbers whose type is known")),
                    }
                }
                JavaExpr::new(
                    format!(
                        "Ops.{name}(new long[] {{{}}}, new double[] {{{}}})",
                        ints.join(", "),
                        floats.join(", ")
                    ),
                    JType::Number,
                )
            }
        }
        "floor" => double_of("Math.floor")?,
        "ceil" => double_of("Math.ceil")?,
        "round" => double_of("Ops.round")?,
        "if" => {
            let [c, a, b] = args.as_slice() else {
                return Err("`if` takes a condition and two values".into());
            };
            if c.ty != JType::Bool {
                return Err("the first argument of `if` must be a condition".into());
            }
            let ty = match (a.ty, b.ty) {
                (x, y) if x == y => x,
                (
                    JType::Long | JType::Double | JType::Number,
                    JType::Long | JType::Double | JType::Number,
                ) => JType::Number,
                _ => {
                    return Err(
                        "the two branches of `if` must both be numbers, texts or conditions".into(),
                    );
                }
            };
            let (x, y) = if ty == JType::Number {
                (as_double(a)?, as_double(b)?)
            } else {
                (a.code.clone(), b.code.clone())
            };
            JavaExpr::new(format!("Ops.pick({}, {x}, {y})", c.code), ty)
        }
        "math::abs" => {
            let a = one()?;
            match a.ty {
                JType::Long => JavaExpr::new(format!("Math.absExact({})", a.code), JType::Long),
                JType::Double => JavaExpr::new(format!("Math.abs({})", a.code), JType::Double),
                _ => return Err("`math::abs` needs a number whose type is known".into()),
            }
        }
        "math::sqrt" => double_of("Math.sqrt")?,
        "math::cbrt" => inexact(double_of("Math.cbrt")?),
        "math::ln" => inexact(double_of("Math.log")?),
        "math::log10" => inexact(double_of("Math.log10")?),
        "math::exp" => inexact(double_of("Math.exp")?),
        "math::sin" => inexact(double_of("Math.sin")?),
        "math::cos" => inexact(double_of("Math.cos")?),
        "math::tan" => inexact(double_of("Math.tan")?),
        "math::asin" => inexact(double_of("Math.asin")?),
        "math::acos" => inexact(double_of("Math.acos")?),
        "math::atan" => inexact(double_of("Math.atan")?),
        "math::sinh" => inexact(double_of("Math.sinh")?),
        "math::cosh" => inexact(double_of("Math.cosh")?),
        "math::tanh" => inexact(double_of("Math.tanh")?),
        "math::log2" => {
            let a = as_double(one()?)?;
            inexact(JavaExpr::new(
                format!("(Math.log({a}) / Math.log(2.0))"),
                JType::Double,
            ))
        }
        "math::exp2" => inexact(JavaExpr::new(
            format!("Math.pow(2.0, {})", as_double(one()?)?),
            JType::Double,
        )),
        "math::log" => {
            let (a, b) = two()?;
            inexact(JavaExpr::new(
                format!(
                    "(Math.log({}) / Math.log({}))",
                    as_double(a)?,
                    as_double(b)?
                ),
                JType::Double,
            ))
        }
        "math::pow" => {
            let (a, b) = two()?;
            inexact(JavaExpr::new(
                format!("Ops.pow({}, {})", as_double(a)?, as_double(b)?),
                JType::Double,
            ))
        }
        "math::atan2" | "math::hypot" => {
            let (a, b) = two()?;
            let java = if name == "math::atan2" {
                "atan2"
            } else {
                "hypot"
            };
            inexact(JavaExpr::new(
                format!("Math.{java}({}, {})", as_double(a)?, as_double(b)?),
                JType::Double,
            ))
        }
        "math::is_nan" => {
            JavaExpr::new(format!("Double.isNaN({})", as_double(one()?)?), JType::Bool)
        }
        "math::is_finite" => JavaExpr::new(
            format!("Double.isFinite({})", as_double(one()?)?),
            JType::Bool,
        ),
        "math::is_infinite" => JavaExpr::new(
            format!("Double.isInfinite({})", as_double(one()?)?),
            JType::Bool,
        ),
        other => return Err(format!("the function `{other}` has no Flink translation")),
    };
    Ok(e.with_notes(&refs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::expr::compile;

    fn java(text: &str) -> Result<JavaExpr, String> {
        let fields = vec!["value".to_string(), "n".to_string()];
        number(&compile(text).unwrap(), &Scope::new(&fields, KeyType::Text))
    }

    fn condition(text: &str) -> Result<JavaExpr, String> {
        let fields = vec!["value".to_string()];
        predicate(&compile(text).unwrap(), &Scope::new(&fields, KeyType::Text))
    }

    #[test]
    fn integers_stay_integers_and_floats_floats() {
        assert_eq!(
            java("ts / 1000").unwrap().code,
            "(double) Ops.div(e.ts, 1000L)"
        );
        assert_eq!(
            java("(value - 32) * 5 / 9").unwrap().code,
            "(((v[0] - (double) 32L) * (double) 5L) / (double) 9L)"
        );
        assert_eq!(
            java("ts + 1").unwrap().code,
            "(double) Math.addExact(e.ts, 1L)"
        );
    }

    #[test]
    fn conditions_evaluate_both_sides_and_compare_text_by_code_point() {
        let c = condition("value > 10 && key != \"k1\"").unwrap();
        assert_eq!(c.code, "((v[0] > (double) 10L) & (!e.key.equals(\"k1\")))");
        assert_eq!(
            condition("key < \"m\"").unwrap().code,
            "(Ops.compare(e.key, \"m\") < 0)"
        );
        assert_eq!(
            condition("value == 1").unwrap().code,
            "Ops.differentTypes(v[0], 1L)",
            "1 == 1.0 is false in evalexpr"
        );
    }

    #[test]
    fn booleans_become_numbers_in_a_map() {
        assert_eq!(
            java("value > 100").unwrap().code,
            "((v[0] > (double) 100L) ? 1.0 : 0.0)"
        );
    }

    #[test]
    fn untranslatable_expressions_are_refused_with_the_reason() {
        let err = java("str::to_lowercase(key)").unwrap_err();
        assert!(err.contains("no Flink translation"), "{err}");
        assert!(java("key").unwrap_err().contains("text"));
        let err = java("max(value, 0) / 2").unwrap_err();
        assert!(err.contains("integers and floats"), "{err}");
        assert!(
            condition("value + 1")
                .unwrap_err()
                .contains("not a condition")
        );
        assert!(
            java("valeu + 1")
                .unwrap_err()
                .contains("unknown field 'valeu'")
        );
    }

    #[test]
    fn transcendental_functions_carry_a_note() {
        let e = java("math::ln(value) + math::sqrt(value)").unwrap();
        assert_eq!(e.notes, vec!["`math::ln` uses Java's Math".to_string()]);
        assert!(java("value ^ 2").unwrap().notes.is_empty());
    }

    #[test]
    fn literals_read_back_exactly() {
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(1e-7), "1e-7");
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_string("a\"é"), "\"a\\\"\\u00e9\"");
    }
}
