//! Aider's plain-text output (`--no-pretty`): its edits, commits and token lines are picked out;
//! every other line is what the assistant said, or aider's own chatter, shown as it is.

use super::{Entry, one_line_short};

pub(super) fn line(text: &str, out: &mut Vec<Entry>) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    if let Some(path) = trimmed.strip_prefix("Applied edit to ") {
        out.push(Entry::ToolCall {
            name: "edit".to_string(),
            args: one_line_short(path, super::ARGS_CHARS),
        });
    } else if let Some(rest) = trimmed.strip_prefix("Commit ") {
        out.push(Entry::ToolCall {
            name: "commit".to_string(),
            args: one_line_short(rest, super::ARGS_CHARS),
        });
    } else if trimmed.starts_with("Tokens: ") {
        out.push(Entry::Note {
            text: trimmed.to_string(),
        });
    } else if trimmed.starts_with("litellm.") || trimmed.contains("Error:") {
        out.push(Entry::Error {
            text: trimmed.to_string(),
        });
    } else {
        out.push(Entry::Plain {
            text: text.to_string(),
        });
    }
}
