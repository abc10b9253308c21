//! rustc-style diagnostics for files the harness reads (suites, targets):
//! `error: <message>`, ` --> file:line:column`, the source line and a caret
//! under the offending token. Shared by suite and targets loading.

use std::fmt;

/// A position in a source file: 1-based line, 1-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One error found in one file, with the text needed to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the caller named it (relative paths stay relative).
    pub file: String,
    pub message: String,
    /// Absent for errors about the whole file (unreadable, empty).
    pub position: Option<Position>,
    /// The source line at `position`, without its line break.
    pub source_line: String,
    /// How many characters the caret covers (at least 1).
    pub width: usize,
}

impl Diagnostic {
    /// An error about the whole file, shown without a snippet.
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            message: message.into(),
            position: None,
            source_line: String::new(),
            width: 0,
        }
    }

    /// An error at `pos` in `source`; the caret covers the token found there.
    pub fn at(file: &str, source: &str, pos: Position, message: impl Into<String>) -> Self {
        let source_line = source
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or("")
            .to_string();
        let rest: String = source_line
            .chars()
            .skip(pos.column.saturating_sub(1))
            .collect();
        let width = token_width(&rest).max(1);
        Diagnostic {
            file: file.to_string(),
            message: message.into(),
            position: Some(pos),
            source_line,
            width,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        match self.position {
            None => write!(f, " --> {}", self.file),
            Some(pos) => {
                let num = pos.line.to_string();
                let pad = " ".repeat(num.len());
                writeln!(f, "{pad}--> {}:{}:{}", self.file, pos.line, pos.column)?;
                writeln!(f, "{pad} |")?;
                writeln!(f, "{num} | {}", self.source_line)?;
                // Keep tabs so the caret lines up under them.
                let lead: String = self
                    .source_line
                    .chars()
                    .take(pos.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "{pad} | {lead}{}", "^".repeat(self.width))
            }
        }
    }
}

/// Renders several diagnostics separated by blank lines, like rustc.
pub fn render_all(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&d.to_string());
    }
    out
}

/// Width in characters of the YAML token at the start of `rest`: a quoted
/// scalar up to its closing quote, a key up to its colon, a plain scalar up
/// to the end of the value, a flow bracket as one character.
fn token_width(rest: &str) -> usize {
    let chars: Vec<char> = rest.chars().collect();
    let Some(&first) = chars.first() else {
        return 1;
    };
    match first {
        '"' => {
            let mut i = 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => return i + 1,
                    _ => i += 1,
                }
            }
            chars.len()
        }
        '\'' => {
            let mut i = 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            chars.len()
        }
        '{' | '[' | '-' | '|' | '>' => 1,
        _ => {
            let mut end = chars.len();
            for i in 0..chars.len() {
                let c = chars[i];
                let next = chars.get(i + 1).copied();
                let ends_key = c == ':' && matches!(next, None | Some(' ') | Some('\t'));
                let comment = c == '#' && i > 0 && chars[i - 1] == ' ';
                if ends_key || comment || matches!(c, ',' | '}' | ']') {
                    end = i;
                    break;
                }
            }
            chars[..end]
                .iter()
                .rposition(|c| !c.is_whitespace())
                .map_or(1, |p| p + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_covers_the_token() {
        let src = "a: 1\n  statsu: 200\n";
        let d = Diagnostic::at(
            "x.yaml",
            src,
            Position { line: 2, column: 3 },
            "unknown field `statsu`",
        );
        assert_eq!(
            d.to_string(),
            "error: unknown field `statsu`\n --> x.yaml:2:3\n  |\n2 |   statsu: 200\n  |   ^^^^^^"
        );
    }

    #[test]
    fn token_widths() {
        assert_eq!(token_width("\"a \\\" b\", x"), 8);
        assert_eq!(token_width("'it''s' x"), 7);
        assert_eq!(token_width("5 minutes # c"), 9);
        assert_eq!(token_width("alice, room: x}"), 5);
        assert_eq!(token_width("{ a: 1 }"), 1);
    }
}
