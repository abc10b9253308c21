//! The command that reruns one case in one cell: the run's own inputs
//! (program, suites, targets, the options that change a verdict) plus
//! `--cell a,b --test feature/test`, quoted for a POSIX shell.

/// How the run was started, as far as a rerun of one case needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reproduce {
    /// The program as it was invoked (`argv[0]`), e.g. `mimi-interop` or
    /// `target/release/mimi-interop`.
    pub program: String,
    /// What follows `run`: `--suites DIR`, `--targets FILE` and the options
    /// that change a case's verdict (timeouts, `--strict`), paths as given.
    pub args: Vec<String>,
}

impl Default for Reproduce {
    /// `mimi-interop run --suites suites`: the defaults of the command line.
    fn default() -> Self {
        Self {
            program: "mimi-interop".to_owned(),
            args: vec!["--suites".to_owned(), "suites".to_owned()],
        }
    }
}

impl Reproduce {
    /// One shell line that runs exactly `feature/test` in cell `a→b`.
    pub fn command(&self, a: &str, b: &str, feature: &str, test: &str) -> String {
        let mut words = vec![self.program.as_str(), "run"];
        words.extend(self.args.iter().map(String::as_str));
        let cell = format!("{a},{b}");
        // `--test` takes a glob; the names are matched literally.
        let test = format!("{}/{}", glob_literal(feature), glob_literal(test));
        words.extend(["--cell", &cell, "--test", &test]);
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A word a POSIX shell reads back as `word`: as is when it has only
/// characters no shell treats specially, else in single quotes (a `'`
/// inside written `'\''`).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=@%+".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `name` as a glob matching only itself: each glob special in brackets.
/// (Feature and test names are `[a-z0-9-]+` today, so this changes nothing
/// for the shipped suites.)
fn glob_literal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "*?[]{}".contains(c) {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_change_them() {
        assert_eq!(shell_quote("suites/minimum"), "suites/minimum");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("my suites"), "'my suites'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("a→b"), "'a→b'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn the_command_selects_one_cell_and_one_test() {
        let r = Reproduce {
            program: "./target/release/mimi-interop".into(),
            args: vec![
                "--suites".into(),
                "my suites".into(),
                "--targets".into(),
                "t.yaml".into(),
            ],
        };
        assert_eq!(
            r.command("ref", "acme", "text", "plain-text"),
            "./target/release/mimi-interop run --suites 'my suites' --targets t.yaml \
             --cell ref,acme --test text/plain-text"
        );
        assert_eq!(
            Reproduce::default().command("a", "b", "f", "t*"),
            "mimi-interop run --suites suites --cell a,b --test 'f/t[*]'"
        );
    }

    #[test]
    fn escaped_globs_match_only_the_name() {
        let glob = glob_literal("a*b?[c]{d}");
        let m = globset::Glob::new(&glob).unwrap().compile_matcher();
        assert!(m.is_match("a*b?[c]{d}"));
        assert!(!m.is_match("axxb?[c]{d}"));
    }
}
