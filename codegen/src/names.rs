//! Names: model-derived names made safe to print and emit, and checks of the crate or module
//! names kiln is given.
//!
//! A tensor name (or a custom operator code) comes from the model file and can hold anything:
//! newlines that split an error into two lines (the second one looking like another
//! `error:`), ANSI escapes that reach the terminal, `*/`, backticks or `|` that break the
//! generated doc comments and Markdown tables, and TensorFlow's fused names of over 200
//! characters. [`shown`] is the one form in which such a name is printed or emitted:
//! control and invisible formatting characters as Rust escapes, Markdown and comment
//! delimiters escaped, and at most [`MAX_SHOWN_CHARS`] characters, keeping the tail (the part
//! that identifies the layer) after a leading `…`.

/// The longest a model-derived name is shown, in characters (the `…` included).
pub const MAX_SHOWN_CHARS: usize = 64;

/// `name` as kiln prints it in messages and emits it into docs and tables; see the module
/// docs. Safe on one line of a terminal, inside a Markdown code span or table cell, and in a
/// `//` or `/* */` comment.
pub fn shown(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let pieces: Vec<String> = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            // `*` next to `/` would open or close a block comment.
            let by_slash = |j: Option<usize>| j.and_then(|j| chars.get(j)) == Some(&'/');
            if c == '*' && (by_slash(i.checked_sub(1)) || by_slash(Some(i + 1))) {
                "\\u{2a}".to_string()
            } else {
                escape_char(c)
            }
        })
        .collect();
    let total: usize = pieces.iter().map(|p| p.chars().count()).sum();
    if total <= MAX_SHOWN_CHARS {
        return pieces.concat();
    }
    // Keep whole escapes from the end while they fit after the ellipsis.
    let mut kept = Vec::new();
    let mut len = 1;
    for piece in pieces.iter().rev() {
        let n = piece.chars().count();
        if len + n > MAX_SHOWN_CHARS {
            break;
        }
        len += n;
        kept.push(piece.as_str());
    }
    kept.reverse();
    format!("…{}", kept.concat())
}

/// One character of a shown name.
fn escape_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        // Backslash starts the escapes, so it is escaped too (the text stays unambiguous);
        // backtick and bar delimit Markdown code spans and table cells.
        '\\' => "\\\\".into(),
        '`' => "\\u{60}".into(),
        '|' => "\\u{7c}".into(),
        c if c.is_control() || is_invisible(c) => c.escape_unicode().to_string(),
        c => c.to_string(),
    }
}

/// Format characters that change how text around them is displayed without being visible:
/// bidirectional overrides and isolates (the "Trojan Source" characters), zero-width
/// characters, the byte-order mark, and line/paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Words that cannot name a generated crate or module: Rust's strict and reserved keywords
/// (all editions), and the built-in crates a module or package of that name would shadow or
/// clash with.
pub const RESERVED_NAMES: &[&str] = &[
    // Strict keywords.
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    // Reserved keywords.
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    // Built-in crates.
    "alloc",
    "core",
    "proc_macro",
    "std",
    "test",
];

/// Whether `name` is in [`RESERVED_NAMES`].
pub fn is_reserved(name: &str) -> bool {
    RESERVED_NAMES.contains(&name)
}

/// Accepts names that are both a Cargo package name and a Rust identifier: ASCII letters,
/// digits and `_`, starting with a letter or `_`, not a lone `_` and not a keyword or a
/// built-in crate's name.
pub fn is_valid_crate_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
        && !is_reserved(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_unchanged() {
        for name in [
            "",
            "input",
            "model/conv2d/Relu6;model/bn/FusedBatchNormV3",
            "é 名",
        ] {
            assert_eq!(shown(name), name);
        }
    }

    #[test]
    fn control_and_delimiters_are_escaped() {
        assert_eq!(shown("a\nerror: b"), "a\\nerror: b");
        assert_eq!(shown("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(shown("x\r\t\0"), "x\\r\\t\\u{0}");
        assert_eq!(shown("*/ `code` |"), "\\u{2a}/ \\u{60}code\\u{60} \\u{7c}");
        assert_eq!(shown("a/*b*c"), "a/\\u{2a}b*c");
        assert_eq!(shown("a\\nb"), "a\\\\nb");
        assert_eq!(shown("abc\u{202e}def"), "abc\\u{202e}def");
        for name in ["a\nb", "\u{1b}", "\u{202e}", "\u{7f}", "x\u{85}"] {
            let s = shown(name);
            assert!(
                !s.chars().any(|c| c.is_control() || is_invisible(c)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn long_names_keep_their_tail() {
        let long = format!("{}/conv_17/Relu6", "sequential/block".repeat(14));
        let s = shown(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN_CHARS);
        assert!(s.starts_with('…'), "{s}");
        assert!(s.ends_with("block/conv_17/Relu6"), "{s}");
        // Exactly at the limit: unchanged.
        let exact = "x".repeat(MAX_SHOWN_CHARS);
        assert_eq!(shown(&exact), exact);
        assert_eq!(shown(&format!("y{exact}")), format!("…{}", &exact[1..]));
        // Escapes are never cut in half.
        let escapes = "\n".repeat(100);
        let s = shown(&escapes);
        assert!(s.chars().count() <= MAX_SHOWN_CHARS);
        assert_eq!(s.trim_start_matches('…').len() % 2, 0, "{s}");
        assert!(s.trim_start_matches('…').starts_with("\\n"), "{s}");
    }

    #[test]
    fn crate_names() {
        for good in ["kws", "_kws", "Kws2", "r#fn_x", "fn_", "selfie", "stdlib"] {
            let expect = !good.contains('#');
            assert_eq!(is_valid_crate_name(good), expect, "{good}");
        }
        for bad in [
            "", "_", "1a", "a-b", "a b", "fn", "self", "Self", "crate", "super", "std", "core",
            "alloc", "type", "async", "yield", "gen", "test",
        ] {
            assert!(!is_valid_crate_name(bad), "{bad}");
        }
    }
}
