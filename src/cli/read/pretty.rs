//! The terminal presenter of readable transcripts (`show --pretty`): one line or block per
//! [`Entry`], coloured when stdout is a terminal (the same `anstream` decision as all other
//! output, so `NO_COLOR` and pipes get plain text).
//!
//! Every piece of text came from an agent, so it goes through [`terminal_safe`] first: a
//! transcript must not retitle the reader's window or clear the screen.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::agent::readable::Entry;
use crate::cli::escape::terminal_safe;

/// Writes `entries`, with ANSI colour when `color`.
pub(crate) fn write_entries(out: &mut dyn Write, entries: &[Entry], color: bool) -> io::Result<()> {
    let paint = |style: Style, text: &str| -> String {
        if color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    };
    let dim = Style::new().dimmed();
    let tool = AnsiColor::Cyan.on_default().bold();
    let red = AnsiColor::Red.on_default();
    let green = AnsiColor::Green.on_default();
    let yellow = AnsiColor::Yellow.on_default();
    for entry in entries {
        match entry {
            Entry::Note { text } => writeln!(out, "{}", paint(dim, &format!("· {}", safe(text))))?,
            Entry::Text { text } => writeln!(out, "{}", safe(text))?,
            Entry::Thinking { text } => {
                for line in safe(text).lines() {
                    writeln!(out, "{}", paint(dim.italic(), &format!("┆ {line}")))?;
                }
            }
            Entry::ToolCall { name, args } => writeln!(
                out,
                "{} {}",
                paint(tool, &format!("→ {}", safe(name))),
                safe(args)
            )?,
            Entry::ToolResult { text, error } => {
                let style = if *error { red } else { dim };
                let mut first = true;
                for line in safe(text).lines() {
                    let mark = if first { "  ← " } else { "    " };
                    first = false;
                    writeln!(out, "{}", paint(style, &format!("{mark}{line}")))?;
                }
                if first && *error {
                    writeln!(out, "{}", paint(style, "  ← (failed)"))?;
                }
            }
            Entry::Error { text } => {
                writeln!(out, "{}", paint(red.bold(), &format!("✗ {}", safe(text))))?
            }
            Entry::Finish(f) => {
                let style = if f.ok { green.bold() } else { red.bold() };
                writeln!(out, "{}", paint(style, &f.line()))?;
                if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
                    for line in safe(text).lines() {
                        writeln!(out, "  {line}")?;
                    }
                }
            }
            Entry::Stderr { text } => writeln!(
                out,
                "{}",
                paint(yellow, &format!("[stderr] {}", safe(text)))
            )?,
            Entry::Plain { text } => writeln!(out, "{}", safe(text))?,
        }
    }
    Ok(())
}

fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    terminal_safe(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::readable::{Backend, entries};

    fn render(bytes: &[u8], backend: Backend, color: bool) -> String {
        let mut out = Vec::new();
        write_entries(&mut out, &entries(backend, bytes), color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn claude_fixture_reads_as_a_conversation() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/claude/write-and-commit.jsonl"
        ))
        .unwrap();
        let text = render(&raw, Backend::Claude, false);
        insta::assert_snapshot!(text, @r"
        · model claude-opus-4-8[1m], Claude Code 2.1.197
        I'll create the file first.
        → Write /tmp/.tmpZZM3Tf/repo/hello.txt
          ← File created successfully at: /tmp/.tmpZZM3Tf/repo/hello.txt (file state is current in your context — no need to Read it back)
        → Bash git add hello.txt && git commit -q -m 'Add hello.txt'
          ← (Bash completed with no output)
        Wrote hello.txt and committed it.
        ✓ done · 3 turns · 1440 in / 82 out / 6200 cache read / 3200 cache write · $0.0323 · 0.2s
        ");
        let coloured = render(&raw, Backend::Claude, true);
        assert!(coloured.contains("\x1b[1m\x1b[36m→ Write"), "{coloured}");
    }

    #[test]
    fn escapes_from_the_agent_are_shown_not_obeyed() {
        let text = render(b"\x1b]0;pwned\x07 hi\n", Backend::Plain, true);
        assert_eq!(text, "\\e]0;pwned\\x07 hi\n");
    }
}
