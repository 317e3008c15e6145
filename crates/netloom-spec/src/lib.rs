//! Topology files to validated netloom models.
//!
//! A topology file is containerlab's YAML format, extended (see the
//! "topology file" section of the product description). [`load_file`] and
//! [`load_str`] read one and return a [`Loaded`]: the validated
//! [`netloom_model::Topology`] plus any warnings, or [`Diagnostics`], every
//! problem found at once, each a [`Diagnostic`] with file, line, column, the
//! field path (`topology.nodes.r1.kind`) and the source line, rendered like
//! rustc does.
//!
//! The pipeline is: text → positioned YAML tree (`yaml`) → what the file said,
//! the `*Spec` types of [`spec`] (unresolved, every value [`Spanned`]) →
//! inheritance (`defaults` / `kinds` / `groups`), kind mapping, FRR config and
//! link checks (`resolve`) → [`netloom_model::Topology`]. [`json_schema`]
//! derives the file format's JSON Schema from the same `*Spec` types.
//!
//! The topology file's netloom extensions are read here too: `sites` (a
//! built-in city from [`netloom_model::cities`] or coordinates), a node's
//! `site`, `sites_latency` (a CSV of measured RTTs), `link_defaults`, and a
//! link's `mode`, `state` and impairments (`delay`, `jitter`, `reorder`,
//! `loss`, `duplicate`, `corrupt`, `rate`, `queue`, on the link or per
//! direction under `a_to_b` / `b_to_a`), whose units are parsed exactly by
//! `units`.
//!
//! Fabric intent is read and checked here too, before anything is planned:
//! `addressing` (pools of the right family, host bits zero, big enough for
//! what they are cut into and for the lab, not overlapping), `routing`
//! (protocol and BGP settings, filled with their defaults), and on routers
//! `routing` (per-router overrides), `ha` (the peer is another router that
//! names this one back with the same `vip`, on a shared switch segment) and
//! `config_extra`; on routers and hosts, explicit `addresses` (on a link
//! interface of the node or `lo`, unique in the lab). These node keys are
//! inherited like the other single values.
//!
//! [`to_yaml`] goes the other way: a topology back to a self-contained
//! netloom file (FRR configurations and measured RTTs inline) that loads to
//! an equal topology; the daemon's export uses it.
//!
//! The only I/O is reading the topology file, `startup-config` files, the
//! FRR files that `binds` point at (and checking that bind sources exist)
//! and the `sites_latency` file.

mod emit;
mod resolve;
mod schema;
pub mod spec;
pub mod units;
mod yaml;

pub use emit::to_yaml;
pub use schema::json_schema;
pub use spec::Spanned;
pub use yaml::Span;

use netloom_model::Topology;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be loaded.
    Error,
    /// The file loads, but something in it is ignored or unusual.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in a topology file, with where it is.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Path of the offending field, e.g. `topology.nodes.r1.kind`.
    pub field: String,
    pub message: String,
    /// The source line, for display.
    pub snippet: Option<String>,
}

impl Diagnostic {
    /// Renders like rustc:
    ///
    /// ```text
    /// error: kind `ciscoo` is not supported; ...
    ///   --> lab.yml:7:11
    ///    |
    ///  7 |     kind: ciscoo
    ///    |           ^^^^^^ field `topology.nodes.r1.kind`
    /// ```
    pub fn render(&self) -> String {
        let width = self.line.to_string().len();
        let pad = " ".repeat(width);
        let mut out = format!("{}: {}\n", self.severity.as_str(), self.message);
        out.push_str(&format!(
            "{pad} --> {}:{}:{}\n",
            self.file, self.line, self.column
        ));
        let field = if self.field.is_empty() {
            String::new()
        } else {
            format!(" field `{}`", self.field)
        };
        match &self.snippet {
            Some(snippet) => {
                let snippet = snippet.trim_end();
                out.push_str(&format!("{pad}  |\n"));
                out.push_str(&format!(" {} | {}\n", self.line, snippet));
                let indent = " ".repeat(self.column.saturating_sub(1));
                let carets = "^".repeat(token_len(snippet, self.column));
                out.push_str(&format!("{pad}  | {indent}{carets}{field}\n"));
            }
            None if !field.is_empty() => {
                out.push_str(&format!("{pad}  ={field}\n"));
            }
            None => {}
        }
        out
    }
}

/// How many characters to underline: the YAML token that starts at
/// `column` (a quoted string through its closing quote, else a plain scalar
/// up to `: `, `,`, `]`, `}`, ` #` or the end of the line).
fn token_len(line: &str, column: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(column.saturating_sub(1)).collect();
    let Some(&first) = rest.first() else {
        return 1;
    };
    if first == '"' || first == '\'' {
        let mut i = 1;
        while i < rest.len() {
            if rest[i] == '\\' && first == '"' {
                i += 2;
                continue;
            }
            if rest[i] == first {
                return i + 1;
            }
            i += 1;
        }
        return rest.len().max(1);
    }
    let second = rest.get(1).copied();
    if matches!(first, '|' | '>' | '[' | '{' | '&' | '*' | '!')
        || (first == '-' && second.is_none_or(char::is_whitespace))
    {
        return 1;
    }
    let mut end = rest.len();
    for i in 0..rest.len() {
        let c = rest[i];
        let next = rest.get(i + 1).copied();
        let at_break = match c {
            ':' => next.is_none_or(char::is_whitespace),
            ',' | ']' | '}' => true,
            '#' => i > 0 && rest[i - 1].is_whitespace(),
            _ => false,
        };
        if at_break {
            end = i;
            break;
        }
    }
    let len = rest[..end]
        .iter()
        .collect::<String>()
        .trim_end()
        .chars()
        .count();
    len.max(1)
}

/// All problems found in a file that could not be loaded (errors, and the
/// warnings found alongside them), in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rendered: Vec<String> = self.0.iter().map(Diagnostic::render).collect();
        f.write_str(&rendered.join("\n"))
    }
}

impl std::error::Error for Diagnostics {}

/// A topology that loaded, with the warnings found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub topology: Topology,
    pub warnings: Vec<Diagnostic>,
}

/// Collects diagnostics while a file is read; knows the file's lines.
pub(crate) struct Sink<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
    pub(crate) diags: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        Sink {
            file,
            lines: text.lines().collect(),
            diags: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        span: Span,
        field: &str,
        message: impl Into<String>,
    ) {
        let (span, snippet) = if span.is_known() {
            (span, self.lines.get(span.line - 1).map(|l| l.to_string()))
        } else {
            let start = Span {
                line: 1,
                column: 1,
                len: 1,
            };
            (start, None)
        };
        let d = Diagnostic {
            severity,
            file: self.file.to_string(),
            line: span.line,
            column: span.column,
            field: field.to_string(),
            message: message.into(),
            snippet,
        };
        self.diags.push(d);
    }

    pub(crate) fn error(&mut self, span: Span, field: &str, message: impl Into<String>) {
        self.push(Severity::Error, span, field, message);
    }

    pub(crate) fn warn(&mut self, span: Span, field: &str, message: impl Into<String>) {
        self.push(Severity::Warning, span, field, message);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Reads a topology file. Relative paths inside it (`startup-config`,
/// `binds`) are resolved against the file's directory, and
/// [`Topology::source`] is the file's absolute path.
pub fn load_file(path: &Path) -> Result<Loaded, Diagnostics> {
    let file_name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                return Err(Diagnostics(vec![Diagnostic {
                    severity: Severity::Error,
                    file: file_name,
                    line: 1,
                    column: 1,
                    field: String::new(),
                    message: format!("the file is not valid UTF-8: {e}"),
                    snippet: None,
                }]))
            }
        },
        Err(e) => {
            return Err(Diagnostics(vec![Diagnostic {
                severity: Severity::Error,
                file: file_name,
                line: 1,
                column: 1,
                field: String::new(),
                message: format!("cannot read the topology file: {e}"),
                snippet: None,
            }]))
        }
    };
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| absolute_path(path));
    let base_dir = absolute
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut loaded = load_str(&text, &file_name, &base_dir)?;
    loaded.topology.source = Some(absolute.display().to_string());
    Ok(loaded)
}

fn absolute_path(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Reads a topology from `text`. `file_name` is used in diagnostics only;
/// relative paths inside the file are resolved against `base_dir`.
/// [`Topology::source`] is `None`.
pub fn load_str(text: &str, file_name: &str, base_dir: &Path) -> Result<Loaded, Diagnostics> {
    let mut sink = Sink::new(file_name, text);
    let topology = match yaml::parse(text) {
        Err(e) => {
            sink.error(e.span, "", e.message);
            None
        }
        Ok(None) => {
            sink.error(
                Span::default(),
                "",
                "the file is empty; a topology needs at least `name` and `topology`",
            );
            None
        }
        Ok(Some(doc)) => {
            let file = spec::walk(&doc, &mut sink);
            file.and_then(|f| resolve::resolve(&f, base_dir, &mut sink))
        }
    };
    let mut diags = std::mem::take(&mut sink.diags);
    // Stable: diagnostics at the same place keep the order they were found.
    diags.sort_by_key(|d| (d.line, d.column));
    // A bad value in `defaults`, `kinds` or `groups` is found once per node
    // that inherits it: report it once.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.line, d.column, d.message.clone())));
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    match topology {
        Some(topology) if !failed => Ok(Loaded {
            topology,
            warnings: diags,
        }),
        _ => Err(Diagnostics(diags)),
    }
}

/// The YAML `text` as plain JSON (plain scalars that read as integers,
/// floats or booleans become numbers and booleans, `null`/`~`/empty become
/// null), or `None` if it is not one valid YAML document. Meant for checking
/// a file against [`json_schema`].
pub fn yaml_to_json(text: &str) -> Option<serde_json::Value> {
    yaml::parse(text).ok().flatten().map(|y| y.to_json())
}
