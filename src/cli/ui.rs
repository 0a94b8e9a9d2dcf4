//! Terminal output: data to stdout, progress and status to stderr, colour only on a terminal
//! and never with `NO_COLOR`.

use std::io::{IsTerminal, Write};

/// How this invocation talks to the user.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub color_stderr: bool,
    pub color_stdout: bool,
}

impl Ui {
    pub fn from_env() -> Ui {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ui {
            color_stderr: !no_color && std::io::stderr().is_terminal(),
            color_stdout: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// A status line on stderr (`warning: …`, progress). Errors writing to stderr are ignored:
    /// there is nowhere left to report them.
    pub fn status(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    pub fn warn(&self, line: &str) {
        let prefix = if self.color_stderr {
            "\x1b[33mwarning:\x1b[0m"
        } else {
            "warning:"
        };
        let _ = writeln!(std::io::stderr().lock(), "{prefix} {line}");
    }

    /// Wraps `text` in an ANSI style when stdout is a terminal.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color_stdout {
            return text.to_string();
        }
        let code = match style {
            Style::Good => "32",
            Style::Bad => "31",
            Style::Warn => "33",
            Style::Dim => "2",
            Style::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Good,
    Bad,
    Warn,
    Dim,
    Bold,
}

/// Standard output, locked and buffered; a broken pipe surfaces as an `io::Error` that the exit
/// funnel turns into a quiet exit.
pub fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}
