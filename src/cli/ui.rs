//! Terminal output: data to stdout, progress and status to stderr, colour only on a terminal
//! and never with `NO_COLOR`.
//!
//! Whether to colour is `anstream`'s decision, the one clap makes for its own help and errors
//! (`NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, a `dumb` terminal); the styles are `anstyle`'s.

use std::io::Write;

/// How this invocation talks to the user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub color_stderr: bool,
    pub color_stdout: bool,
}

impl Ui {
    pub(crate) fn from_env() -> Ui {
        let colour = |choice| choice != anstream::ColorChoice::Never;
        Ui {
            color_stderr: colour(anstream::AutoStream::choice(&std::io::stderr())),
            color_stdout: colour(anstream::AutoStream::choice(&std::io::stdout())),
        }
    }

    /// A status line on stderr (`warning: …`, progress). Errors writing to stderr are ignored:
    /// there is nowhere left to report them.
    pub(crate) fn status(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    pub(crate) fn warn(&self, line: &str) {
        let style = if self.color_stderr {
            Style::Warn.ansi()
        } else {
            anstyle::Style::new()
        };
        let _ = writeln!(std::io::stderr().lock(), "{style}warning:{style:#} {line}");
    }

    /// Wraps `text` in an ANSI style when stdout is a terminal.
    pub(crate) fn paint(&self, style: Style, text: &str) -> String {
        if !self.color_stdout {
            return text.to_string();
        }
        let style = style.ansi();
        format!("{style}{text}{style:#}")
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    Good,
    Bad,
    Warn,
    Dim,
    Bold,
}

impl Style {
    fn ansi(self) -> anstyle::Style {
        use anstyle::AnsiColor;
        match self {
            Style::Good => AnsiColor::Green.on_default(),
            Style::Bad => AnsiColor::Red.on_default(),
            Style::Warn => AnsiColor::Yellow.on_default(),
            Style::Dim => anstyle::Style::new().dimmed(),
            Style::Bold => anstyle::Style::new().bold(),
        }
    }
}

/// Standard output, locked and buffered; a broken pipe surfaces as an `io::Error` that the exit
/// funnel turns into a quiet exit.
pub(crate) fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_the_same_escapes_as_before() {
        let ui = Ui {
            color_stderr: false,
            color_stdout: true,
        };
        assert_eq!(ui.paint(Style::Good, "ok"), "\x1b[32mok\x1b[0m");
        assert_eq!(ui.paint(Style::Bad, "x"), "\x1b[31mx\x1b[0m");
        assert_eq!(ui.paint(Style::Warn, "w"), "\x1b[33mw\x1b[0m");
        assert_eq!(ui.paint(Style::Dim, "d"), "\x1b[2md\x1b[0m");
        assert_eq!(ui.paint(Style::Bold, "b"), "\x1b[1mb\x1b[0m");
        let plain = Ui {
            color_stdout: false,
            ..ui
        };
        assert_eq!(plain.paint(Style::Good, "ok"), "ok");
    }
}
