//! Text that came from outside, made safe to print for a person (in a terminal, a pull
//! request or a page a terminal may show).
//!
//! Summaries, prompts, error texts and ids in a run were written by agents, or fetched from a
//! remote anyone can push to. Printed raw, their control characters act on the reader's
//! terminal: `ESC ] 0;…` retitles the window, `ESC [ 2J` clears the screen, `ESC ] 8;;…` plants
//! a link, cursor moves overwrite what pitboss printed, and bidirectional overrides reorder what
//! is shown. Every piece of such text in human output goes through [`terminal_safe`] (or
//! [`one_line`]), which shows those characters as visible escapes instead. Machine output
//! (`--json`, `--jsonl`) is JSON, whose encoder escapes control characters already; `show
//! --transcript` is the stored bytes, on purpose.

use std::borrow::Cow;

/// True for characters that must not reach a terminal as they are: C0 and C1 controls and DEL
/// (but newline and tab, when `keep_lines`), and the Unicode bidirectional controls.
fn unsafe_char(c: char, keep_lines: bool) -> bool {
    if keep_lines && (c == '\n' || c == '\t') {
        return false;
    }
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c, keep_lines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c, keep_lines) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` with every control character but newline and tab shown as an escape (`\e`, `\r`,
/// `\x07`, `\u{202e}`): it prints as the characters it holds, and does nothing to the terminal.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// [`terminal_safe`] for a field shown on one line: newlines and tabs are escaped too.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_window_titles_are_shown_not_obeyed() {
        assert_eq!(
            terminal_safe("ok\tdone\nnext \u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{9b}31m\u{202e}x\u{7f}"),
            "ok\tdone\nnext \\e]0;pwned\\x07\\e[2J\\r\\x9b31m\\u{202e}x\\x7f"
        );
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
        assert!(matches!(terminal_safe("plain ünïcode ✓"), Cow::Borrowed(_)));
    }
}
