//! A YAML document as a tree of values that remember where they were written.
//!
//! Why not serde: serde stops at the first error and loses positions inside
//! flattened or untagged types, while netloom reports every problem at once,
//! each at the line and column of the offending scalar (unknown keys,
//! duplicate keys, wrong types, bad names). So the file is read with
//! `saphyr-parser`'s event stream into this small positioned tree, and
//! `spec.rs` walks the tree by hand.
//!
//! The tree builder handles anchors and aliases (with a budget against alias
//! bombs), YAML merge keys (`<<`, which containerlab files inherit from Go's
//! YAML library) and a nesting limit, so no input can exhaust the stack.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span as ParserSpan};
use std::collections::HashMap;

/// Where a value starts in the file: 1-based line and column (in
/// characters), and how many characters to underline on that line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

/// Maps the parser's character offsets to lines as `str::lines` sees them
/// (the parser also breaks lines at a lone `\r`, which would make its own
/// line numbers disagree with the snippet shown).
pub(crate) struct LineIndex {
    /// Character offset where each line starts.
    starts: Vec<usize>,
    chars: usize,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut chars = 0;
        for c in text.chars() {
            chars += 1;
            if c == '\n' {
                starts.push(chars);
            }
        }
        LineIndex { starts, chars }
    }

    /// 1-based line and column of a character offset.
    fn position(&self, index: usize) -> (usize, usize) {
        let index = index.min(self.chars);
        let line = self.starts.partition_point(|s| *s <= index).max(1);
        (line, index - self.starts[line - 1] + 1)
    }

    fn span(&self, start: &Marker, end: &Marker) -> Span {
        let (line, column) = self.position(start.index());
        let (end_line, _) = self.position(end.index());
        let len = if end_line == line && end.index() > start.index() {
            end.index() - start.index()
        } else {
            1
        };
        Span { line, column, len }
    }
}

impl Span {
    /// Whether this span points somewhere (a default span means "not given").
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    /// The text and whether it was written plain (unquoted, not a block).
    Scalar(String, bool),
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Yaml {
    pub span: Span,
    pub value: Value,
    /// Written as a block scalar (`|` or `>`): always text, never a path.
    pub block: bool,
}

impl Yaml {
    /// Words for messages: "a mapping", "a list", ...
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Scalar(_, true) if parse_bool(self).is_some() => "a boolean",
            Value::Scalar(..) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Scalar(s, plain) => {
                if *plain {
                    if let Some(b) = parse_bool(self) {
                        return J::Bool(b);
                    }
                    if let Ok(i) = s.parse::<i64>() {
                        return J::from(i);
                    }
                    if let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                        return J::Number(n);
                    }
                }
                J::String(s.clone())
            }
            Value::Seq(items) => J::Array(items.iter().map(Yaml::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match &k.value {
                            Value::Scalar(s, _) => s.clone(),
                            _ => String::new(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
        }
    }

    fn size(&self) -> usize {
        match &self.value {
            Value::Null | Value::Scalar(..) => 1,
            Value::Seq(items) => 1 + items.iter().map(Yaml::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

fn parse_bool(y: &Yaml) -> Option<bool> {
    match &y.value {
        Value::Scalar(s, true) => match s.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Why the text is not one YAML document netloom can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub span: Span,
    pub message: String,
}

const MAX_DEPTH: usize = 128;
const MAX_NODES: usize = 1_000_000;

struct Builder<'a> {
    lines: LineIndex,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Yaml>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, ParserSpan), SyntaxError> {
        match self.parser.next() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => {
                let m = e.marker();
                Err(SyntaxError {
                    span: self.lines.span(m, m),
                    message: format!("invalid YAML: {}", e.info()),
                })
            }
            None => Err(SyntaxError {
                span: Span {
                    line: 1,
                    column: 1,
                    len: 1,
                },
                message: "invalid YAML: unexpected end of input".to_string(),
            }),
        }
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), SyntaxError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                span,
                message: format!(
                    "the document is too large (more than {MAX_NODES} values after expanding aliases)"
                ),
            });
        }
        Ok(())
    }

    fn anchor(&mut self, id: usize, y: &Yaml) {
        if id > 0 {
            self.anchors.insert(id, y.clone());
        }
    }

    /// Builds the value that starts with `ev`.
    fn node(
        &mut self,
        ev: Event<'a>,
        pspan: ParserSpan,
        depth: usize,
    ) -> Result<Yaml, SyntaxError> {
        let span = self.lines.span(&pspan.start, &pspan.end);
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                span,
                message: format!("values are nested more than {MAX_DEPTH} levels deep"),
            });
        }
        self.count(1, span)?;
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == ScalarStyle::Plain;
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let value = if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar(text.into_owned(), plain)
                };
                let y = Yaml { span, value, block };
                self.anchor(anchor, &y);
                Ok(y)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(found) => {
                    let mut y = found.clone();
                    self.count(y.size(), span)?;
                    // Point at the alias itself only if the anchored value
                    // has no position of its own (it always has one).
                    if !y.span.is_known() {
                        y.span = span;
                    }
                    Ok(y)
                }
                None => Err(SyntaxError {
                    span,
                    message: "invalid YAML: alias to an unknown anchor".to_string(),
                }),
            },
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, sp, depth + 1)?);
                }
                let y = Yaml {
                    span,
                    value: Value::Seq(items),
                    block: false,
                };
                self.anchor(anchor, &y);
                Ok(y)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Yaml, Yaml)> = Vec::new();
                let mut merges: Vec<Yaml> = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(ev, sp, depth + 1)?;
                    let (ev, sp) = self.next()?;
                    let value = self.node(ev, sp, depth + 1)?;
                    if matches!(&key.value, Value::Scalar(k, true) if k == "<<") {
                        merges.push(value);
                    } else {
                        entries.push((key, value));
                    }
                }
                apply_merges(&mut entries, merges);
                let y = Yaml {
                    span,
                    value: Value::Map(entries),
                    block: false,
                };
                self.anchor(anchor, &y);
                Ok(y)
            }
            other => Err(SyntaxError {
                span,
                message: format!("invalid YAML: unexpected {other:?}"),
            }),
        }
    }
}

/// YAML merge keys: entries of the merged mappings that the mapping does not
/// set itself are added after its own entries. A merge value that is not a
/// mapping (or list of mappings) is kept as an ordinary `<<` key so that the
/// walker reports it as unknown.
fn apply_merges(entries: &mut Vec<(Yaml, Yaml)>, merges: Vec<Yaml>) {
    let key_text = |k: &Yaml| match &k.value {
        Value::Scalar(s, _) => Some(s.clone()),
        _ => None,
    };
    for merge in merges {
        let sources: Vec<Yaml> = match merge.value {
            Value::Map(_) => vec![merge],
            Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => items,
            _ => {
                let key = Yaml {
                    span: merge.span,
                    value: Value::Scalar("<<".to_string(), true),
                    block: false,
                };
                entries.push((key, merge));
                continue;
            }
        };
        for source in sources {
            if let Value::Map(more) = source.value {
                for (k, v) in more {
                    let text = key_text(&k);
                    let present =
                        text.is_some() && entries.iter().any(|(ek, _)| key_text(ek) == text);
                    if !present {
                        entries.push((k, v));
                    }
                }
            }
        }
    }
}

/// Parses `text` into its single document. `Ok(None)` means the text holds
/// no document at all (empty, or only comments).
pub(crate) fn parse(text: &str) -> Result<Option<Yaml>, SyntaxError> {
    let mut b = Builder {
        lines: LineIndex::new(text),
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
    };
    let mut doc: Option<Yaml> = None;
    loop {
        let (ev, sp) = b.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(doc),
            Event::DocumentStart(_) => {
                let (ev, sp2) = b.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                if doc.is_some() {
                    return Err(SyntaxError {
                        span: b.lines.span(&sp.start, &sp.end),
                        message: "a topology file holds one YAML document; this is a second one"
                            .to_string(),
                    });
                }
                doc = Some(b.node(ev, sp2, 0)?);
            }
            other => {
                return Err(SyntaxError {
                    span: b.lines.span(&sp.start, &sp.end),
                    message: format!("invalid YAML: unexpected {other:?}"),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let y = parse("a: 1\nbb:\n  - xyz\n").unwrap().unwrap();
        let Value::Map(entries) = y.value else {
            panic!()
        };
        assert_eq!(
            entries[0].0.span,
            Span {
                line: 1,
                column: 1,
                len: 1
            }
        );
        let Value::Seq(items) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(
            items[0].span,
            Span {
                line: 3,
                column: 5,
                len: 3
            }
        );
    }

    #[test]
    fn positions_count_characters_and_ignore_lone_cr() {
        let y = parse("é: [ab, \"cd\"]\r\nx: 1\ry: 2\n").unwrap().unwrap();
        let Value::Map(entries) = y.value else {
            panic!()
        };
        let Value::Seq(items) = &entries[0].1.value else {
            panic!()
        };
        assert_eq!((items[1].span.line, items[1].span.column), (1, 9));
        // A lone CR is no line break for the snippet, so `y` stays on line 2.
        assert_eq!((entries[2].0.span.line, entries[2].0.span.column), (2, 6));
    }

    #[test]
    fn merges_and_aliases() {
        let y = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
            .unwrap()
            .unwrap();
        let Value::Map(entries) = y.value else {
            panic!()
        };
        let Value::Map(other) = &entries[1].1.value else {
            panic!()
        };
        let keys: Vec<_> = other
            .iter()
            .map(|(k, v)| match (&k.value, &v.value) {
                (Value::Scalar(k, _), Value::Scalar(v, _)) => format!("{k}={v}"),
                _ => String::new(),
            })
            .collect();
        assert_eq!(keys, ["y=3", "x=1"]);
    }

    #[test]
    fn empty_and_comment_only() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# nothing\n").unwrap(), None);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text).is_err());
    }
}
