//! What the loader checks before the YAML parser sees a file: its size, that
//! it is UTF-8, how deeply it nests, and that it uses no YAML tags. The
//! parser's time grows with the square of the nesting depth (20,000 levels:
//! seconds), so a hostile or broken file is stopped here, in one linear
//! pass, with a position like every other load error.

use super::diag::{Diagnostic, Position};
use std::io::Read as _;
use std::path::Path;

/// Largest suite or targets file read; the shipped suites are a few KiB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Deepest nesting of mappings and sequences accepted; the shipped suites
/// nest about ten levels.
pub const MAX_DEPTH: usize = 64;

/// Reads `path` up to the size cap and decodes it as UTF-8; returns the
/// bytes (for hashing) and the text, or a positioned diagnostic.
pub(crate) fn read_source(path: &Path, what: &str) -> Result<(Vec<u8>, String), Diagnostic> {
    let file = path.display().to_string();
    let cannot =
        |e: std::io::Error| Diagnostic::whole_file(&file, format!("cannot read {what}: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let text = String::from_utf8_lossy(&bytes[..MAX_FILE_BYTES as usize]).into_owned();
        let pos = position_at(&text, text.len());
        return Err(Diagnostic::at(
            &file,
            &text,
            pos,
            format!("the file is larger than {MAX_FILE_BYTES} bytes; nothing past here is read"),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text.clone().into_bytes(), text)),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let valid = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
            let pos = position_at(valid, valid.len());
            let mut d = Diagnostic::at(
                &file,
                &text,
                pos,
                format!(
                    "not UTF-8: invalid byte 0x{:02x} at offset {bad}",
                    bytes[bad]
                ),
            );
            d.width = 1;
            Err(d)
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn position_at(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[start..].chars().count() + 1,
    }
}

/// The first place where `source` nests deeper than [`MAX_DEPTH`] or uses
/// a YAML tag, as a diagnostic.
///
/// The scan follows YAML's structure closely enough to bound it: block
/// nesting from indentation (each `- ` that opens a compact nested sequence
/// counts too), flow nesting from brackets outside quotes and comments,
/// block scalars (`|`, `>`) skipped. It may count a level too many, never
/// one too few for these forms.
pub(crate) fn prescan(file: &str, source: &str) -> Result<(), Diagnostic> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    // Indentation of the line that opened a block scalar being skipped.
    let mut scalar_parent: Option<usize> = None;
    for (i, line) in source.split('\n').enumerate() {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let blank = content.trim().is_empty() || content.starts_with('#');
        if let Some(parent) = scalar_parent {
            if blank || indent > parent {
                continue;
            }
            scalar_parent = None;
        }
        if blank {
            continue;
        }
        let at = |column: usize| Position {
            line: i + 1,
            column: line[..column].chars().count() + 1,
        };
        let mut col = indent;
        if flow == 0 {
            while indents.last().is_some_and(|&t| t > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            // `- - x`: each dash opens one more level.
            let mut rest = content;
            while let Some(after) = rest.strip_prefix('-')
                && (after.is_empty() || after.starts_with(' '))
            {
                let skipped = after.len() - after.trim_start_matches(' ').len();
                col += 1 + skipped;
                indents.push(col);
                rest = after.trim_start_matches(' ');
            }
        }
        if indents.len() + flow > MAX_DEPTH {
            return Err(too_deep(file, source, at(col)));
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut code_end = line.len();
        let mut chars = line.char_indices().skip_while(|&(b, _)| b < col).peekable();
        let mut last_significant = None;
        while let Some((b, c)) = chars.next() {
            match quote {
                Some('"') => match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => quote = None,
                    _ => {}
                },
                Some(_) => {
                    if c == '\'' {
                        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                            chars.next();
                        } else {
                            quote = None;
                        }
                    }
                }
                None => {
                    let node_start = matches!(prev, ' ' | '[' | '{' | ',')
                        && (b == col
                            || matches!(last_significant, Some(':' | '-' | '[' | '{' | ',' | '?')));
                    match c {
                        '#' if prev == ' ' || b == col => {
                            code_end = b;
                            break;
                        }
                        '"' | '\'' if node_start => quote = Some(c),
                        '!' if node_start => return Err(tag(file, source, line, b, at(b))),
                        '[' | '{' => {
                            flow += 1;
                            if indents.len() + flow > MAX_DEPTH {
                                return Err(too_deep(file, source, at(b)));
                            }
                        }
                        ']' | '}' => flow = flow.saturating_sub(1),
                        _ => {}
                    }
                    if c != ' ' {
                        last_significant = Some(c);
                    }
                }
            }
            prev = c;
        }
        // A block scalar header (`|`, `>-`, `|2`…) ends the line: the more
        // indented lines after it are text.
        let code = line[..code_end].trim_end();
        let last = code.rsplit(' ').next().unwrap_or("");
        if flow == 0
            && quote.is_none()
            && last.starts_with(['|', '>'])
            && last[1..]
                .chars()
                .all(|c| matches!(c, '-' | '+' | '1'..='9'))
        {
            scalar_parent = Some(indent);
        }
    }
    Ok(())
}

fn tag(file: &str, source: &str, line: &str, b: usize, pos: Position) -> Diagnostic {
    let mut d = Diagnostic::at(
        file,
        source,
        pos,
        "YAML tags (`!…`) are not part of the format: write the value plainly",
    );
    d.width = line[b..]
        .find([' ', ',', ']', '}'])
        .map_or(line[b..].chars().count(), |w| {
            line[b..b + w].chars().count()
        })
        .max(1);
    d
}

fn too_deep(file: &str, source: &str, pos: Position) -> Diagnostic {
    let mut d = Diagnostic::at(
        file,
        source,
        pos,
        format!("nested more than {MAX_DEPTH} levels deep: the format needs far fewer"),
    );
    d.width = 1;
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Result<(), (String, Position)> {
        prescan("x.yaml", src).map_err(|d| (d.message, d.position.unwrap()))
    }

    #[test]
    fn the_shipped_suites_and_targets_pass() {
        for dir in ["suites/minimum", "suites/maximum"] {
            for f in std::fs::read_dir(dir).unwrap() {
                let p = f.unwrap().path();
                let src = std::fs::read_to_string(&p).unwrap();
                assert_eq!(check(&src), Ok(()), "{}", p.display());
            }
        }
        let src = std::fs::read_to_string("fixtures/targets/sample.yaml").unwrap();
        assert_eq!(check(&src), Ok(()));
    }

    #[test]
    fn deep_flow_and_block_nesting_is_stopped_where_it_passes_the_limit() {
        let flow = "a: ".to_owned() + &"[".repeat(40_000) + &"]".repeat(40_000);
        let (msg, pos) = check(&flow).unwrap_err();
        assert!(msg.contains("nested more than 64"), "{msg}");
        assert_eq!(
            pos,
            Position {
                line: 1,
                column: 4 + 63
            }
        );
        let dashes = "- ".repeat(100) + "x";
        let (_, pos) = check(&dashes).unwrap_err();
        assert_eq!(pos.line, 1);
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        let (_, pos) = check(&block).unwrap_err();
        assert_eq!(
            pos,
            Position {
                line: 65,
                column: 65
            }
        );
    }

    #[test]
    fn tags_are_found_but_not_in_strings_comments_or_words() {
        let (msg, pos) = check("a: 1\nb: !!str 5\n").unwrap_err();
        assert!(msg.contains("YAML tags"), "{msg}");
        assert_eq!(pos, Position { line: 2, column: 4 });
        assert!(check("- !custom {x: 1}\n").is_err());
        assert!(check("a: [1, !t 2]\n").is_err());
        assert_eq!(check("a: \"!x\"\nb: 'it''s !'\nc: Hello! # !no\n"), Ok(()));
        assert_eq!(check("d: |\n  !not a tag\n  [[[[\ne: 1\n"), Ok(()));
        assert_eq!(check("d: >-\n  [ unbalanced\ne: [1]\n"), Ok(()));
    }

    #[test]
    fn oversized_and_non_utf8_files_are_positioned() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "a: 1\n".repeat(300_000)).unwrap();
        let d = read_source(&big, "suite").unwrap_err();
        assert!(
            d.message.contains("larger than 1048576 bytes"),
            "{}",
            d.message
        );
        assert_eq!(d.position.unwrap().line, (MAX_FILE_BYTES / 5 + 1) as usize);
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, b"a: 1\nb: caf\xe9\n").unwrap();
        let d = read_source(&bad, "suite").unwrap_err();
        assert_eq!(d.position, Some(Position { line: 2, column: 7 }));
        assert!(d.message.contains("0xe9"), "{}", d.message);
    }
}
