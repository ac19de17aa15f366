//! T-SQL text split into batches at `GO` lines, as sqlcmd and SSMS split it: a `GO` (with an
//! optional repeat count) separates batches only as the one word of its line, and only outside
//! comments, strings and quoted names. So a `GO` line inside `/* … */` or `'…'` stays part of its
//! statement, and text a source's user wrote cannot end a statement early and start another.

/// One batch: the 1-based line it starts on, and its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch<'a> {
    pub line: usize,
    pub lines: Vec<&'a str>,
}

/// Where a scan is between characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Code,
    /// Inside `/* … */`, nested this deep (T-SQL nests block comments).
    Comment(u32),
    /// Inside `'…'`.
    Text,
    /// Inside `[…]`.
    Bracketed,
    /// Inside `"…"`.
    Quoted,
}

/// The batches of `text`, in order; a text with no `GO` is one batch.
pub fn split(text: &str) -> Vec<Batch<'_>> {
    split_with_end(text).0
}

/// Whether `text` reads back as exactly one batch that ends outside any comment, string or
/// quoted name: what a writer checks before it puts a statement between `GO` lines.
pub fn is_one_batch(text: &str) -> bool {
    let (batches, end) = split_with_end(text);
    batches.len() == 1 && end == State::Code
}

fn split_with_end(text: &str) -> (Vec<Batch<'_>>, State) {
    let mut batches = Vec::new();
    let mut current = Batch {
        line: 1,
        lines: Vec::new(),
    };
    let mut state = State::Code;
    for (i, line) in text.lines().enumerate() {
        if state == State::Code && is_go(line) {
            let next = Batch {
                line: i + 2,
                lines: Vec::new(),
            };
            batches.push(std::mem::replace(&mut current, next));
            continue;
        }
        state = scan(line, state);
        current.lines.push(line);
    }
    if !current.lines.is_empty() || batches.is_empty() {
        batches.push(current);
    }
    (batches, state)
}

/// `GO` or `GO n` alone on its line (case-insensitive, any blanks around it).
fn is_go(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first = words.next().is_some_and(|w| w.eq_ignore_ascii_case("go"));
    let count = words.next();
    first && words.next().is_none() && count.is_none_or(|c| c.chars().all(|d| d.is_ascii_digit()))
}

/// The state after `line`, starting in `state`; a `--` comment ends with its line.
fn scan(line: &str, mut state: State) -> State {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match state {
            State::Code => match (b[i], next) {
                (b'-', Some(b'-')) => return State::Code,
                (b'/', Some(b'*')) => {
                    state = State::Comment(1);
                    i += 1;
                }
                (b'\'', _) => state = State::Text,
                (b'[', _) => state = State::Bracketed,
                (b'"', _) => state = State::Quoted,
                _ => {}
            },
            State::Comment(depth) => match (b[i], next) {
                (b'/', Some(b'*')) => {
                    state = State::Comment(depth + 1);
                    i += 1;
                }
                (b'*', Some(b'/')) => {
                    state = if depth == 1 {
                        State::Code
                    } else {
                        State::Comment(depth - 1)
                    };
                    i += 1;
                }
                _ => {}
            },
            // A doubled closing character is that character, not the end.
            State::Text | State::Bracketed | State::Quoted => {
                let close = match state {
                    State::Text => b'\'',
                    State::Bracketed => b']',
                    _ => b'"',
                };
                if b[i] == close {
                    if next == Some(close) {
                        i += 1;
                    } else {
                        state = State::Code;
                    }
                }
            }
        }
        i += 1;
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        split(text).iter().map(|b| b.lines.join("\n")).collect()
    }

    #[test]
    fn go_lines_separate_batches_with_their_line_numbers() {
        let b = split("SELECT 1\nGO\n\nSELECT 2\n  go 3  \nSELECT 3");
        assert_eq!(b.iter().map(|b| b.line).collect::<Vec<_>>(), vec![1, 3, 6]);
        assert_eq!(texts("SELECT 1\nGO"), vec!["SELECT 1"]);
        // A word that only starts with GO, or GO with more after it, is code.
        assert_eq!(
            texts("SELECT 1\nGOTO x\nGO it"),
            vec!["SELECT 1\nGOTO x\nGO it"]
        );
    }

    #[test]
    fn a_go_inside_a_comment_string_or_quoted_name_is_part_of_the_statement() {
        let smuggled = "SELECT 1 /*\nGO\nEXEC('DROP TABLE dbo.Orders')\nGO\n*/";
        assert_eq!(texts(smuggled), vec![smuggled]);
        assert!(is_one_batch(smuggled));
        let nested = "SELECT 1 /* a /* b */\nGO\n*/";
        assert_eq!(texts(nested).len(), 1);
        let string = "SELECT N'it''s\nGO\nstill text' AS t";
        assert_eq!(texts(string), vec![string]);
        let names = "SELECT 1 AS [a]]\nGO\n], 2 AS \"b\nGO\n\"";
        assert_eq!(texts(names), vec![names]);
        // A line comment ends with its line: the GO after it separates.
        assert_eq!(texts("SELECT 1 -- /* not a block\nGO\nSELECT 2").len(), 2);
    }

    #[test]
    fn a_statement_that_would_not_read_back_whole_is_not_one_batch() {
        assert!(!is_one_batch("SELECT a\nGO\nSELECT b"));
        assert!(!is_one_batch("SELECT 1 /* never closed"));
        assert!(!is_one_batch("SELECT 'never closed"));
        assert!(is_one_batch("SELECT 1"));
    }
}
