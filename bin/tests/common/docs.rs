//! The transcripts the docs quote: finding them in README.md and docs/*.md,
//! and comparing one with what the programs print today.
//!
//! A transcript is a fenced block with no language (or `text`, `console`).
//! The line before it names the scenario that produces it:
//!
//! ```text
//! <!-- transcript: app-server-sigint -->
//! ```
//!
//! Numbers that differ from run to run are compared by where they first
//! appear, not by value: the k-th distinct port (`('127.0.0.1', N)`,
//! `127.0.0.1:N`, `127.0.0.1 N`) of a run stands for the k-th of the doc,
//! and likewise descriptors (`fd=N`). So a run that reuses fd 6 where the
//! doc reuses fd 6 matches, and one that opens fd 7 instead does not.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One fenced block of a markdown file.
#[derive(Debug, Clone)]
pub struct Block {
    /// The file, relative to the repository root (`docs/tutorial.md`).
    pub file: String,
    /// The line of the opening fence, from 1.
    pub line: usize,
    /// The fence's info string (`python`, or empty).
    pub info: String,
    /// The scenario named by `<!-- transcript: NAME -->` right before it.
    pub name: Option<String>,
    /// The block's lines.
    pub lines: Vec<String>,
    /// The text from the section's heading to the end of the block: where
    /// the commands that make it must be shown.
    pub section: String,
}

impl Block {
    /// Whether the block shows output (as opposed to code in a language).
    pub fn is_transcript(&self) -> bool {
        matches!(self.info.as_str(), "" | "text" | "console")
    }

    /// `docs/tutorial.md:123`.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Whether its section shows `command` whole: in inline code, on an
    /// indented line, or on a `$ ` line (followed by a backtick or the end
    /// of the line, so `app-server 127.0.0.1 65432` is not found in
    /// `app-server 127.0.0.1 65432 --trace`).
    pub fn shows(&self, command: &str) -> bool {
        self.section.match_indices(command).any(|(at, _)| {
            matches!(
                self.section[at + command.len()..].chars().next(),
                None | Some('`') | Some('\n')
            )
        })
    }
}

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bin/ has a parent")
        .to_path_buf()
}

/// README.md and every docs/*.md, relative to the root, sorted.
pub fn markdown_files() -> Vec<String> {
    let root = repo_root();
    let mut files = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("read docs/")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".md").then(|| format!("docs/{name}"))
        })
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The fenced blocks of one markdown text.
pub fn blocks_of(file: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut section_start = 0;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with('#') {
            section_start = i;
        }
        let Some(info) = line.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let open = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            body.push(lines[i].to_string());
            i += 1;
        }
        assert!(
            i < lines.len(),
            "{file}:{}: a fence that never closes",
            open + 1
        );
        let name = lines[..open]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!-- transcript:"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|n| n.trim().to_string());
        blocks.push(Block {
            file: file.to_string(),
            line: open + 1,
            info: info.trim().to_string(),
            name,
            lines: body,
            section: lines[section_start..=i].join("\n"),
        });
        i += 1;
    }
    blocks
}

/// Every fenced block of README.md and docs/*.md.
pub fn all_blocks() -> Vec<Block> {
    let root = repo_root();
    markdown_files()
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(root.join(file))
                .unwrap_or_else(|e| panic!("read {file}: {e}"));
            blocks_of(file, &text)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Numbers that vary from run to run

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Port,
    Fd,
}

/// Where a number of each kind starts: the text right before its digits.
const MARKS: &[(&str, Kind)] = &[
    ("('127.0.0.1', ", Kind::Port),
    ("('::1', ", Kind::Port),
    ("127.0.0.1:", Kind::Port),
    // A command line's `HOST PORT`.
    ("127.0.0.1 ", Kind::Port),
    ("[::1]:", Kind::Port),
    ("fd=", Kind::Fd),
];

/// The varying numbers of a line: (byte range of the digits, kind).
fn numbers(line: &str) -> Vec<(std::ops::Range<usize>, Kind)> {
    let mut found = Vec::new();
    for (mark, kind) in MARKS {
        let mut from = 0;
        while let Some(at) = line[from..].find(mark) {
            let start = from + at + mark.len();
            let len = line[start..]
                .bytes()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if len > 0 {
                found.push((start..start + len, *kind));
            }
            from = start;
        }
    }
    found.sort_by_key(|(range, _)| range.start);
    found
}

/// The distinct numbers of each kind, in the order they first appear.
fn first_appearances(lines: &[String]) -> BTreeMap<Kind, Vec<String>> {
    let mut seen: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    for line in lines {
        for (range, kind) in numbers(line) {
            let values = seen.entry(kind).or_default();
            let value = &line[range];
            if !values.iter().any(|v| v == value) {
                values.push(value.to_string());
            }
        }
    }
    seen
}

/// `actual` with its varying numbers replaced by those of `reference`: the
/// k-th distinct port (or fd) of `actual` becomes the k-th of `reference`,
/// or `?k` when the reference has fewer.
pub fn renumber(actual: &[String], reference: &[String]) -> Vec<String> {
    let ours = first_appearances(actual);
    let theirs = first_appearances(reference);
    actual
        .iter()
        .map(|line| {
            let mut out = String::new();
            let mut last = 0;
            for (range, kind) in numbers(line) {
                let k = ours[&kind]
                    .iter()
                    .position(|v| *v == line[range.clone()])
                    .expect("seen above");
                out.push_str(&line[last..range.start]);
                match theirs.get(&kind).and_then(|values| values.get(k)) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&format!("?{}", k + 1)),
                }
                last = range.end;
            }
            out.push_str(&line[last..]);
            out
        })
        .collect()
}

// ---------------------------------------------------------------------------
// What a run may print

/// A way a run may differ from the doc, which the doc's text names ("on
/// another run the two messages may arrive in two reads"): the lines
/// `from`, found in a row in the doc's transcript, may read `to` instead.
/// Written with the doc's numbers.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Why the run may differ.
    pub why: &'static str,
    pub from: &'static [&'static str],
    pub to: &'static [&'static str],
}

fn strings(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

/// Every form a transcript may take: the doc's, and what the variants make
/// of it, applied anywhere, in any combination. Fails if a variant's `from`
/// is nowhere in the doc's transcript (the doc changed under the test).
pub fn forms(doc: &[String], variants: &[Variant]) -> Result<Vec<Vec<String>>, String> {
    for v in variants {
        let from = strings(v.from);
        assert!(!from.is_empty(), "the variant `{}` replaces nothing", v.why);
        if !doc.windows(from.len()).any(|w| w == from.as_slice()) {
            return Err(format!(
                "the variant `{}` expects these lines in a row in the doc's transcript, \
                 which no longer has them:\n{}",
                v.why,
                from.join("\n")
            ));
        }
    }
    let mut all = vec![doc.to_vec()];
    let mut next = 0;
    while next < all.len() {
        let form = all[next].clone();
        next += 1;
        for v in variants {
            let from = strings(v.from);
            for at in 0..(form.len() + 1).saturating_sub(from.len()) {
                if form[at..at + from.len()] == from[..] {
                    let mut made = form[..at].to_vec();
                    made.extend(strings(v.to));
                    made.extend_from_slice(&form[at + from.len()..]);
                    if !all.contains(&made) {
                        all.push(made);
                    }
                }
            }
        }
        assert!(all.len() < 1000, "the variants keep making new forms");
    }
    Ok(all)
}

/// Whether the run printed one of the forms (renumbered to it); with
/// `prefix`, whether the run begins with one. `Err` shows the doc's form
/// beside the run.
pub fn compare(actual: &[String], forms: &[Vec<String>], prefix: bool) -> Result<(), String> {
    for form in forms {
        let ours = renumber(actual, form);
        let fits = if prefix {
            ours.len() >= form.len() && ours[..form.len()] == form[..]
        } else {
            ours == *form
        };
        if fits {
            return Ok(());
        }
    }
    let doc = &forms[0];
    let ours = renumber(actual, doc);
    let mut report = String::new();
    let n = doc.len().max(if prefix { 0 } else { ours.len() });
    for i in 0..n {
        let d = doc.get(i).map(String::as_str).unwrap_or("(nothing)");
        let o = ours.get(i).map(String::as_str).unwrap_or("(nothing)");
        let mark = if d == o { ' ' } else { '!' };
        report.push_str(&format!("{mark} doc: {d}\n{mark} run: {o}\n"));
    }
    Err(format!(
        "the run printed none of the {} form(s) the doc allows{}.\n\
         Line by line, the doc's form against the run (its numbers mapped to the doc's):\n{report}\
         The run as printed:\n{}",
        forms.len(),
        if prefix { " (as a beginning)" } else { "" },
        actual.join("\n")
    ))
}
