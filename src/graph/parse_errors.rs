//! RON's parser errors in words a person understands: what was expected at that place of a
//! graph file, and what is there instead ("expected `,` between two entries, found `kind`"),
//! plus the line itself with a caret under the place. Line:column stay in the message's prefix.

use ron::error::{Error, Position};

/// The plain sentence for `code` at `at` in `text`.
pub fn plain_message(code: &Error, text: &str, at: Position) -> String {
    let found = token_at(text, at);
    let found_text = match &found {
        Some(token) if ends_after(text, at, token) => {
            format!("found `{token}` and then the end of the file (is a closing bracket missing?)")
        }
        Some(token) => format!("found `{token}`"),
        None => "found the end of the file (is a closing bracket missing?)".to_owned(),
    };
    match code {
        Error::Eof => {
            "the file ends too early: a closing `)`, `]` or `}` (or a value) is missing".to_owned()
        }
        Error::ExpectedArray => format!("expected a list in `[` … `]` here, {found_text}"),
        Error::ExpectedArrayEnd => {
            format!("expected `,` and another item, or `]` to close the list; {found_text}")
        }
        Error::ExpectedBoolean => format!("expected `true` or `false`, {found_text}"),
        Error::ExpectedComma => {
            format!("expected a comma `,` between two entries, {found_text}")
        }
        Error::ExpectedFloat => format!("expected a number such as `0.5`, {found_text}"),
        Error::ExpectedInteger => format!("expected a whole number such as `3`, {found_text}"),
        Error::IntegerOutOfBounds => format!("this number is too large, {found_text}"),
        Error::FloatUnderscore | Error::UnderscoreAtBeginning => {
            format!("numbers may not contain `_` here, {found_text}")
        }
        Error::InvalidIntegerDigit { digit, .. } => {
            format!("`{digit}` is not a digit of a whole number")
        }
        Error::ExpectedMap => format!(
            "expected `{{` to open a table of parameters (`{{\"name\": value}}`), {found_text}"
        ),
        Error::ExpectedMapColon => {
            format!("expected `:` between a parameter's name and its value, {found_text}")
        }
        Error::ExpectedMapEnd => {
            format!("expected `,` and another entry, or `}}` to close the table; {found_text}")
        }
        Error::ExpectedDifferentStructName { expected, found } => {
            format!("expected {}, found `{found}`", describe(expected))
        }
        Error::ExpectedNamedStructLike(name) if !name.is_empty() => {
            format!("expected `(` to open {}, {found_text}", describe(name))
        }
        Error::ExpectedStructLike | Error::ExpectedNamedStructLike(_) => {
            format!("expected `(` to open a group of fields, {found_text}")
        }
        Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => {
            format!("expected `,` and another field, or `)` to close; {found_text}")
        }
        Error::ExpectedString => {
            format!("expected a text in double quotes (such as `\"x\"`), {found_text}")
        }
        Error::ExpectedStringEnd => {
            "a text in quotes is not closed: its ending `\"` is missing".to_owned()
        }
        Error::ExpectedIdentifier => {
            format!("expected a field name (such as `name`), {found_text}")
        }
        Error::UnexpectedChar(c) => format!("the character `{c}` does not belong here"),
        Error::TrailingCharacters => {
            format!("there is more text after the graph's closing `)`: {found_text}")
        }
        Error::UnclosedBlockComment => "a `/*` comment is not closed with `*/`".to_owned(),
        Error::InvalidEscape(what) => format!("a text contains a bad `\\` escape: {what}"),
        Error::InvalidValueForType { expected, found } => {
            format!("expected {}, found {found}", plain_type(expected))
        }
        Error::NoSuchEnumVariant {
            expected, found, ..
        } => format!(
            "`{found}` is not one of the choices here: {}",
            choices(expected)
        ),
        Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "{} has no field `{found}`; its fields are {}",
            outer
                .as_deref()
                .map_or_else(|| "this".to_owned(), describe_short),
            choices(expected)
        ),
        Error::MissingStructField { field, outer } => format!(
            "{} is missing its `{field}` field{}",
            outer
                .as_deref()
                .map_or_else(|| "an entry".to_owned(), describe_short),
            example_of(field)
        ),
        Error::DuplicateStructField { field, outer } => format!(
            "the field `{field}` is given twice in {}",
            outer
                .as_deref()
                .map_or_else(|| "one entry".to_owned(), describe_short)
        ),
        Error::ExceededRecursionLimit => {
            "the file nests `(`, `[` or `{` too deeply to be a graph".to_owned()
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// "a node (`(id: 1, name: "x", kind: "map", …)`)" for the structs a graph file holds.
fn describe(name: &str) -> String {
    match name {
        "Graph" => "a Flowbook graph: `(` and the graph's fields \
                    `format_version: 1, name: \"…\", nodes: [...], edges: [...]`"
            .to_owned(),
        "Node" => "a node: `(id: 1, name: \"x\", kind: \"map\", params: {…})`".to_owned(),
        "Edge" => {
            "a wire: `(from: (node: 1, port: \"out\"), to: (node: 2, port: \"in\"))`".to_owned()
        }
        "PortRef" => "a port: `(node: 1, port: \"out\")`".to_owned(),
        other => describe_short(other),
    }
}

/// "a node", "the graph": the struct's name as a person says it.
fn describe_short(name: &str) -> String {
    match name {
        "Graph" => "the graph".to_owned(),
        "Node" => "a node".to_owned(),
        "Edge" => "a wire".to_owned(),
        "PortRef" => "a wire's end".to_owned(),
        "Comment" => "a comment card".to_owned(),
        "Cell" => "a notebook cell".to_owned(),
        "Group" => "a node group".to_owned(),
        other => format!("`{other}`"),
    }
}

/// An example of a field commonly forgotten.
fn example_of(field: &str) -> &'static str {
    match field {
        "format_version" => " (`format_version: 1`)",
        "id" => " (a number: `id: 1`)",
        "kind" => " (such as `kind: \"map\"`)",
        "name" => " (such as `name: \"source\"`)",
        "from" | "to" => " (`(node: 1, port: \"out\")`)",
        "node" => " (the node's id: `node: 1`)",
        "port" => " (such as `port: \"out\"`)",
        _ => "",
    }
}

/// serde's type words ("a string", "u32", "i64") in plain words.
fn plain_type(expected: &str) -> String {
    match expected {
        "u32" | "u64" | "usize" | "u16" | "u8" => "a whole number (0 or more)".to_owned(),
        "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a string" | "string" => "a text in double quotes".to_owned(),
        "a boolean" => "`true` or `false`".to_owned(),
        other => other.to_owned(),
    }
}

fn choices(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The word, number or punctuation mark at `at` (1-based line and column, in characters).
fn token_at(text: &str, at: Position) -> Option<String> {
    let line = text.lines().nth(at.line.checked_sub(1)?)?;
    let rest: String = line.chars().skip(at.col.saturating_sub(1)).collect();
    let rest = rest.trim_start();
    let mut chars = rest.chars();
    let first = chars.next()?;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '-';
    let token: String = if first == '"' {
        let body: String = chars.take_while(|c| *c != '"').take(30).collect();
        format!("\"{body}\"")
    } else if word(first) {
        rest.chars().take_while(|c| word(*c)).take(30).collect()
    } else {
        first.to_string()
    };
    Some(token)
}

/// Whether nothing but white space follows `token` at `at`.
fn ends_after(text: &str, at: Position, token: &str) -> bool {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == at.line {
            offset += line
                .char_indices()
                .nth(at.col.saturating_sub(1))
                .map_or(line.len(), |(byte, _)| byte);
            break;
        }
        offset += line.len();
    }
    let rest = text.get(offset..).unwrap_or_default().trim_start();
    rest.strip_prefix(token)
        .is_some_and(|after| after.trim().is_empty())
}

/// The line at `line` (1-based) and a caret under `column`, for showing under the message.
pub fn excerpt(text: &str, line: usize, column: usize) -> String {
    let Some(source) = line.checked_sub(1).and_then(|i| text.lines().nth(i)) else {
        return String::new();
    };
    // Long lines (a minified file) are cut around the place.
    let chars: Vec<char> = source.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(40);
    let end = (at + 30).min(chars.len());
    let shown: String = chars[start..end]
        .iter()
        .map(|c| if *c == '\t' { ' ' } else { *c })
        .collect();
    let gutter = format!("{line} | ");
    format!(
        "{gutter}{}{shown}\n{}^",
        if start > 0 { "…" } else { "" },
        " ".repeat(gutter.chars().count() + at - start + usize::from(start > 0))
    )
}

#[cfg(test)]
mod tests {
    use crate::graph::from_ron_str;

    fn message(text: &str) -> String {
        from_ron_str(text, "g.ron").unwrap_err().to_string()
    }

    #[test]
    fn parser_errors_say_what_was_expected_and_what_was_found() {
        let cases = [
            (
                "p0(format_version: 1)",
                "g.ron:1:1: expected a Flowbook graph: `(` and the graph's fields",
            ),
            (
                "(\n  format_version: 1,\n  nodes: [\n    (id: 1 name: \"x\")\n  ],\n)",
                "g.ron:4:12: expected a comma `,` between two entries, found `name`",
            ),
            (
                "(format_version: 1, nodes: [(id: 1, name: \"x\")])",
                "g.ron:1:",
            ),
            ("(format_version: \"one\")", "expected a whole number"),
            ("(format_version: 1, nodes: [", "the end of the file"),
            (
                "(format_version: 1, nodes: [(id: 1",
                "found `1` and then the end of the file",
            ),
        ];
        for (text, start) in cases {
            let got = message(text);
            assert!(
                got.contains(start),
                "{text:?}\n  got: {got}\n  want: {start}"
            );
            assert!(!got.contains("Expected"), "parser language left: {got}");
        }
        assert!(
            message("(format_version: 1, nodes: [(id: 1, name: \"x\")])")
                .contains("a node is missing its `kind` field (such as `kind: \"map\"`)"),
            "{}",
            message("(format_version: 1, nodes: [(id: 1, name: \"x\")])")
        );
    }

    #[test]
    fn the_excerpt_points_at_the_place() {
        let text = "(\n  nodes: [ (id: ]\n)";
        let caret = format!("{}^", " ".repeat("2 | ".len() + 16));
        assert_eq!(
            super::excerpt(text, 2, 17),
            format!("2 |   nodes: [ (id: ]\n{caret}")
        );
    }
}
