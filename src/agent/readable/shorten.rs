//! Shortening text for a readable transcript: arguments on one line, results to a few lines.
//! Counts are in characters, never bytes, so a cut never splits a UTF-8 sequence.

/// `text` on one line (line breaks shown as `⏎`, runs of blanks as one space), cut to `max`
/// characters with a trailing `…`.
pub(crate) fn one_line_short(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut count = 0;
    let mut blank = false;
    for c in text.trim().chars() {
        let c = match c {
            '\n' => '⏎',
            c if c.is_whitespace() || c.is_control() => ' ',
            c => c,
        };
        if c == ' ' {
            if blank {
                continue;
            }
            blank = true;
        } else {
            blank = false;
        }
        if count == max {
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// The first `max_lines` lines of `text`, at most `max_chars` characters, saying how much was
/// left out.
pub(crate) fn trim_block(text: &str, max_lines: usize, max_chars: usize) -> String {
    let text = text.trim_end();
    let total = text.lines().count();
    let mut out = String::new();
    let mut chars = 0;
    let mut kept = 0;
    for line in text.lines().take(max_lines) {
        let n = line.chars().count();
        if chars + n > max_chars {
            let room = max_chars.saturating_sub(chars);
            if kept > 0 {
                out.push('\n');
            }
            out.extend(line.chars().take(room));
            out.push('…');
            kept += 1;
            break;
        }
        if kept > 0 {
            out.push('\n');
        }
        out.push_str(line);
        chars += n;
        kept += 1;
    }
    if total > kept {
        let more = total - kept;
        out.push_str(&format!(
            "\n… {more} more line{}",
            if more == 1 { "" } else { "s" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_cuts_on_characters() {
        assert_eq!(one_line_short("a\n  b\tc", 10), "a⏎ b c");
        assert_eq!(one_line_short("ééééé", 3), "ééé…");
        assert_eq!(one_line_short("abc", 3), "abc");
        assert_eq!(one_line_short("", 3), "");
    }

    #[test]
    fn blocks_keep_the_first_lines() {
        assert_eq!(trim_block("a\nb\nc\nd", 2, 100), "a\nb\n… 2 more lines");
        assert_eq!(trim_block("a\nb", 5, 100), "a\nb");
        assert_eq!(trim_block("abcdef\nx", 5, 3), "abc…\n… 1 more line");
        assert_eq!(trim_block("", 5, 3), "");
    }
}
