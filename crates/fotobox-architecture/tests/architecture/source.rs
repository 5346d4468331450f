//! Rust source lexing just good enough for path scanning: blank out comments and literals, then
//! split the rest into identifier and punctuation tokens that remember their line.

/// Replaces comments (line, doc and nested block comments), string literals (plain, byte, C and
/// raw, with any number of `#`) and char literals with spaces. Newlines are kept, so line numbers
/// of the result match the input.
pub fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let end = if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            line_comment_end(&c, i)
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            block_comment_end(&c, i)
        } else if c[i] == '"' {
            string_end(&c, i)
        } else if c[i] == 'r' && starts_literal(&c, i) {
            raw_string_end(&c, i).unwrap_or(i)
        } else if c[i] == '\'' {
            char_literal_end(&c, i).unwrap_or(i)
        } else {
            i
        };
        if end == i {
            out.push(c[i]);
            i += 1;
        } else {
            out.extend(
                c[i..end]
                    .iter()
                    .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
            );
            i = end;
        }
    }
    out
}

fn is_ident_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// `r` at `i` may open a raw string: it is not the tail of an identifier (a `b` or `c` prefix is
/// allowed, as in `br"…"`).
fn starts_literal(c: &[char], i: usize) -> bool {
    let prev = |k: usize| i.checked_sub(k).map(|j| c[j]);
    match prev(1) {
        None => true,
        Some('b' | 'c') => !prev(2).is_some_and(is_ident_char),
        Some(p) => !is_ident_char(p),
    }
}

fn line_comment_end(c: &[char], i: usize) -> usize {
    c[i..]
        .iter()
        .position(|&ch| ch == '\n')
        .map_or(c.len(), |p| i + p)
}

fn block_comment_end(c: &[char], i: usize) -> usize {
    let (mut depth, mut j) = (0usize, i);
    while j < c.len() {
        if c[j] == '/' && c.get(j + 1) == Some(&'*') {
            depth += 1;
            j += 2;
        } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    c.len()
}

fn string_end(c: &[char], i: usize) -> usize {
    let mut j = i + 1;
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// `r#*"…"#*` starting at `i`; `None` when this is not a raw string (e.g. a raw identifier).
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
    let open = i + 1 + hashes;
    if c.get(open) != Some(&'"') {
        return None;
    }
    let mut j = open + 1;
    while j < c.len() {
        if c[j] == '"'
            && c[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&ch| ch == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

/// `'x'` or `'\n'`, `'\''`, `'\u{..}'`; `None` for a lifetime or label such as `'a`.
fn char_literal_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        let close = c.get(i + 3..)?.iter().position(|&ch| ch == '\'')?;
        return Some(i + 3 + close + 1);
    }
    (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

/// One token of stripped source: an identifier/keyword/number, `::`, or one punctuation char.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub line: usize,
}

impl Token {
    pub fn is(&self, text: &str) -> bool {
        self.text == text
    }

    pub fn is_ident(&self) -> bool {
        self.text.chars().next().is_some_and(is_ident_char)
    }
}

/// Tokenizes stripped source (see [`strip`]). Lines are 1-based.
pub fn tokenize(stripped: &str) -> Vec<Token> {
    let c: Vec<char> = stripped.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let start = i;
        if c[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if c[i].is_whitespace() {
            i += 1;
            continue;
        } else if is_ident_char(c[i]) {
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            i += 1;
        }
        tokens.push(Token {
            text: c[start..i].iter().collect(),
            line,
        });
    }
    tokens
}

/// `strip` then `tokenize`.
pub fn lex(src: &str) -> Vec<Token> {
    tokenize(&strip(src))
}
