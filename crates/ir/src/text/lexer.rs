//! Tokens of the `.fxir` format, produced on demand (a 10^6-node program would otherwise hold
//! tens of millions of tokens at once). Names are not copied: identifier-like tokens carry only
//! their span and the parser slices the source.

/// A token kind. Identifier-like kinds have no payload: their text is `src[start..end]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// `aten.add.Tensor`, `s0`, `f32`: `[A-Za-z_][A-Za-z0-9_]*` segments joined by `.`.
    Ident,
    /// `%name` (the span includes the `%`).
    Value,
    /// `@name` (the span includes the `@`).
    GraphRef,
    /// A string literal, unescaped.
    Str(String),
    /// An unsigned integer literal (decimal or `0x` hex); signs are parsed separately.
    Int(u64),
    /// An unsigned float literal.
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Lt,
    Gt,
    Comma,
    Colon,
    Eq,
    Star,
    Plus,
    Minus,
    Question,
    /// `->`
    Arrow,
    /// `..`
    DotDot,
    /// `..=`
    DotDotEq,
    Eof,
}

impl Tok {
    /// How the token is named in "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Tok::Ident => "an identifier",
            Tok::Value => "a value reference",
            Tok::GraphRef => "a graph reference",
            Tok::Str(_) => "a string",
            Tok::Int(_) => "an integer",
            Tok::Float(_) => "a float",
            Tok::LParen => "'('",
            Tok::RParen => "')'",
            Tok::LBracket => "'['",
            Tok::RBracket => "']'",
            Tok::LBrace => "'{'",
            Tok::RBrace => "'}'",
            Tok::Lt => "'<'",
            Tok::Gt => "'>'",
            Tok::Comma => "','",
            Tok::Colon => "':'",
            Tok::Eq => "'='",
            Tok::Star => "'*'",
            Tok::Plus => "'+'",
            Tok::Minus => "'-'",
            Tok::Question => "'?'",
            Tok::Arrow => "'->'",
            Tok::DotDot => "'..'",
            Tok::DotDotEq => "'..='",
            Tok::Eof => "end of input",
        }
    }
}

/// A token with its byte span.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// A lexical error at a byte offset.
#[derive(Debug)]
pub(crate) struct LexError {
    pub offset: usize,
    pub msg: String,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
        }
    }

    fn peek_byte(&self, k: usize) -> Option<u8> {
        self.bytes.get(self.pos + k).copied()
    }

    fn err<T>(&self, offset: usize, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            offset,
            msg: msg.into(),
        })
    }

    fn skip_trivia(&mut self) {
        while let Some(b) = self.peek_byte(0) {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else if b == b'#' {
                // Comments run to the end of the line (`# RUN: ...` headers included).
                while let Some(c) = self.peek_byte(0) {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next token; `Eof` forever at the end.
    pub(crate) fn next_token(&mut self) -> Result<Token, LexError> {
        self.skip_trivia();
        let start = self.pos;
        let Some(b) = self.peek_byte(0) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let single = |tok| (tok, 1);
        let (tok, len) = match b {
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b'{' => single(Tok::LBrace),
            b'}' => single(Tok::RBrace),
            b'<' => single(Tok::Lt),
            b'>' => single(Tok::Gt),
            b',' => single(Tok::Comma),
            b':' => single(Tok::Colon),
            b'=' => single(Tok::Eq),
            b'*' => single(Tok::Star),
            b'+' => single(Tok::Plus),
            b'?' => single(Tok::Question),
            b'-' if self.peek_byte(1) == Some(b'>') => (Tok::Arrow, 2),
            b'-' => single(Tok::Minus),
            b'.' if self.peek_byte(1) == Some(b'.') => {
                if self.peek_byte(2) == Some(b'=') {
                    (Tok::DotDotEq, 3)
                } else {
                    (Tok::DotDot, 2)
                }
            }
            b'%' | b'@' => {
                let n = self.bytes[start + 1..]
                    .iter()
                    .take_while(|&&c| is_name_byte(c))
                    .count();
                if n == 0 {
                    let what = if b == b'%' { "value" } else { "graph" };
                    return self.err(
                        start,
                        format!("expected a {what} name after '{}'", b as char),
                    );
                }
                (if b == b'%' { Tok::Value } else { Tok::GraphRef }, n + 1)
            }
            b'"' => return self.string(),
            b'0'..=b'9' => return self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut p = start;
                loop {
                    while p < self.bytes.len() && is_name_byte(self.bytes[p]) {
                        p += 1;
                    }
                    // A dot continues the identifier only when a name character follows, so
                    // `1..=4` and `a..` still lex as ranges.
                    if p + 1 < self.bytes.len()
                        && self.bytes[p] == b'.'
                        && is_name_byte(self.bytes[p + 1])
                    {
                        p += 1;
                    } else {
                        break;
                    }
                }
                (Tok::Ident, p - start)
            }
            _ => {
                let c = self.src[start..].chars().next().unwrap_or('?');
                return self.err(start, format!("unexpected character {c:?}"));
            }
        };
        self.pos += len;
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn number(&mut self) -> Result<Token, LexError> {
        let start = self.pos;
        if self.peek_byte(0) == Some(b'0') && matches!(self.peek_byte(1), Some(b'x' | b'X')) {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek_byte(0).is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let digits = &self.src[digits_start..self.pos];
            if digits.is_empty() {
                return self.err(start, "expected hex digits after '0x'");
            }
            return match u64::from_str_radix(digits, 16) {
                Ok(v) => Ok(Token {
                    tok: Tok::Int(v),
                    start,
                    end: self.pos,
                }),
                Err(_) => self.err(start, "integer literal does not fit in 64 bits"),
            };
        }
        let digits = |l: &mut Self| {
            while l.peek_byte(0).is_some_and(|c| c.is_ascii_digit()) {
                l.pos += 1;
            }
        };
        digits(self);
        let mut is_float = false;
        if self.peek_byte(0) == Some(b'.') && self.peek_byte(1).is_some_and(|c| c.is_ascii_digit())
        {
            is_float = true;
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek_byte(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_byte(1), Some(b'+' | b'-')));
            if self.peek_byte(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos += 1 + sign;
                digits(self);
            }
        }
        let text = &self.src[start..self.pos];
        let tok = if is_float {
            match text.parse::<f64>() {
                Ok(v) => Tok::Float(v),
                Err(_) => return self.err(start, format!("invalid float literal `{text}`")),
            }
        } else {
            match text.parse::<u64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => return self.err(start, "integer literal does not fit in 64 bits"),
            }
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    /// A string with Rust's `{:?}` escapes, which is how the printer writes strings.
    fn string(&mut self) -> Result<Token, LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.src[self.pos..].chars().next() else {
                return self.err(start, "unterminated string");
            };
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\n' => return self.err(start, "unterminated string"),
                '\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let Some(e) = self.src[self.pos..].chars().next() else {
                        return self.err(start, "unterminated string");
                    };
                    self.pos += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        'u' => {
                            if self.peek_byte(0) != Some(b'{') {
                                return self.err(esc_at, "expected '{' after \\u");
                            }
                            self.pos += 1;
                            let hex_start = self.pos;
                            while self.peek_byte(0).is_some_and(|c| c.is_ascii_hexdigit()) {
                                self.pos += 1;
                            }
                            let hex = &self.src[hex_start..self.pos];
                            if self.peek_byte(0) != Some(b'}') || hex.is_empty() || hex.len() > 6 {
                                return self.err(esc_at, "malformed \\u{...} escape");
                            }
                            self.pos += 1;
                            let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                            match ch {
                                Some(ch) => out.push(ch),
                                None => {
                                    return self.err(esc_at, "\\u{...} is not a Unicode scalar")
                                }
                            }
                        }
                        other => {
                            return self.err(esc_at, format!("unknown escape \\{other}"));
                        }
                    }
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        Ok(Token {
            tok: Tok::Str(out),
            start,
            end: self.pos,
        })
    }
}
