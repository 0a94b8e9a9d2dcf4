//! Redaction of one output stream that arrives in pieces: whole lines, and fragments of lines
//! too long to hold (the readers cut them at 1 MiB).
//!
//! A secret across a cut would reach the transcript in two halves that no rule recognises. So
//! the end of an incomplete fragment is held back and redacted together with the next piece:
//! only bytes that no secret starting before them could still reach are emitted. A private key
//! whose `-----END` has not come yet keeps the stream redacting, across fragments and lines,
//! until it does.

use super::redact::{REDACTED, Redactor};
use super::secret_shapes::pem_end;

/// Bytes held back at the end of an incomplete fragment, at least: longer than any vendor key or
/// PEM header, so every rule sees a secret whole before the bytes before it are emitted.
const HOLD: usize = 1024;
/// Bytes already emitted that are kept as context (a rule looks back for a word boundary or a
/// key-like name before `=`).
const CONTEXT: usize = 80;
/// Bytes of an unfinished private key kept to find an `-----END` split across pieces.
const PEM_TAIL: usize = 96;

/// Redacts one stream (stdout or stderr) of one session.
pub(crate) struct RedactStream<'a> {
    redactor: &'a Redactor,
    /// Bytes not emitted yet, after `context` bytes that were.
    carry: Vec<u8>,
    context: usize,
    /// Inside a private key: everything is redacted until its end line.
    in_pem: bool,
}

impl<'a> RedactStream<'a> {
    pub(crate) fn new(redactor: &'a Redactor) -> Self {
        RedactStream {
            redactor,
            carry: Vec::new(),
            context: 0,
            in_pem: false,
        }
    }

    /// The redacted bytes of `piece` (a line, or a fragment when `complete` is false) that can
    /// be emitted now. For a fragment that may be less than it holds, or nothing; the rest comes
    /// out with the next piece.
    pub(crate) fn push(&mut self, piece: &[u8], complete: bool) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(piece);
        let mut copied = std::mem::take(&mut self.context);
        let mut out = Vec::with_capacity(buf.len() - copied);
        if self.in_pem {
            match pem_end(&buf, copied) {
                Some(end) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    copied = end;
                    self.in_pem = false;
                }
                None => {
                    if buf.len() > copied {
                        out.extend_from_slice(REDACTED.as_bytes());
                    }
                    if !complete {
                        self.carry = buf[buf.len().saturating_sub(PEM_TAIL)..].to_vec();
                    }
                    return out;
                }
            }
        }
        let hold = HOLD.max(self.redactor.longest_secret() + 1);
        let stop = if complete {
            buf.len()
        } else {
            char_start(&buf, buf.len().saturating_sub(hold).max(copied))
        };
        while let Some(h) = self.redactor.next_hit(&buf, copied, stop) {
            out.extend_from_slice(&buf[copied..h.start]);
            out.extend_from_slice(REDACTED.as_bytes());
            copied = h.end;
            if h.open_pem {
                self.in_pem = true;
                if !complete {
                    self.carry = buf[buf.len().saturating_sub(PEM_TAIL)..].to_vec();
                }
                return out;
            }
        }
        let emit_end = copied.max(stop);
        out.extend_from_slice(&buf[copied..emit_end]);
        if !complete {
            let from = emit_end.saturating_sub(CONTEXT);
            self.context = emit_end - from;
            self.carry = buf[from..].to_vec();
        }
        out
    }
}

/// Longest piece [`redact_copy`] holds: a longer line is pushed in fragments, as the session
/// readers do.
const MAX_PIECE: usize = 1024 * 1024;

/// Copies `from` to `to` redacted, line by line (a line over 1 MiB in overlapping fragments),
/// in flat memory: for transcripts that `record` and `import` store. Returns the bytes written.
pub(crate) fn redact_copy(
    redactor: &Redactor,
    from: &mut dyn std::io::Read,
    to: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, from);
    let mut stream = RedactStream::new(redactor);
    let mut line: Vec<u8> = Vec::new();
    let mut written = 0u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            if !line.is_empty() {
                let out = stream.push(&line, true);
                to.write_all(&out)?;
                written += out.len() as u64;
            }
            return Ok(written);
        }
        let (take, newline) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len().min(MAX_PIECE - line.len()), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        // The newline stays out of the piece: a private key open to the end of a line must not
        // swallow it.
        let out = if newline {
            line.pop();
            let mut out = stream.push(&line, true);
            out.push(b'\n');
            line.clear();
            out
        } else if line.len() >= MAX_PIECE {
            let out = stream.push(&line, false);
            line.clear();
            out
        } else {
            continue;
        };
        to.write_all(&out)?;
        written += out.len() as u64;
    }
}

/// `i`, moved back to the start of the UTF-8 character it falls in.
fn char_start(buf: &[u8], mut i: usize) -> usize {
    while i > 0 && i < buf.len() && (buf[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` cut every `size` bytes, as the readers do, and joins what comes out.
    fn through(red: &Redactor, text: &[u8], size: usize) -> String {
        let mut s = RedactStream::new(red);
        let mut out = Vec::new();
        let chunks: Vec<&[u8]> = text.chunks(size).collect();
        for (i, c) in chunks.iter().enumerate() {
            out.extend(s.push(c, i + 1 == chunks.len()));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_secret_across_a_cut_is_redacted_whole() {
        let red = Redactor::from_env([("MY_API_KEY", "hunter 2 hunter 2")]);
        for at in [1000, 1010, 1013, 1020] {
            let mut line = "x".repeat(at).into_bytes();
            line.extend_from_slice(b"hunter 2 hunter 2 and ghp_ABCDEFGHIJKLMNOPQRSTuvwx1234 ");
            line.extend(std::iter::repeat_n(b'y', 3000));
            let got = through(&red, &line, 1024);
            assert!(
                !got.contains("hunter") && !got.contains("ghp_"),
                "cut at {at}"
            );
            assert_eq!(got.matches(REDACTED).count(), 2);
            assert_eq!(got.len(), line.len() - 17 - 32 + 2 * REDACTED.len());
        }
    }

    #[test]
    fn a_private_key_over_several_lines_goes_whole() {
        let red = Redactor::default();
        let mut s = RedactStream::new(&red);
        let lines = [
            "key: -----BEGIN RSA PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA1234",
            "abcd",
            "-----END RSA PRIVATE KEY----- done",
            "after",
        ];
        let out: Vec<String> = lines
            .iter()
            .map(|l| String::from_utf8(s.push(l.as_bytes(), true)).unwrap())
            .collect();
        assert_eq!(
            out,
            [
                "key: [REDACTED]",
                "[REDACTED]",
                "[REDACTED]",
                "[REDACTED] done",
                "after"
            ]
        );
    }

    #[test]
    fn redact_copy_keeps_lines_and_redacts_across_fragments() {
        let red = Redactor::from_env([("MY_API_KEY", "hunter2hunter2")]);
        let mut text = b"one hunter2hunter2\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n".to_vec();
        text.extend_from_slice(b"-----END RSA PRIVATE KEY-----\n");
        text.extend(std::iter::repeat_n(b'x', MAX_PIECE - 5));
        text.extend_from_slice(b" hunter2hunter2 end");
        let mut out = Vec::new();
        let n = redact_copy(&red, &mut &text[..], &mut out).unwrap();
        assert_eq!(n, out.len() as u64);
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("one [REDACTED]\n[REDACTED]\n[REDACTED]\n[REDACTED]\nxxx"));
        assert!(
            out.ends_with("x [REDACTED] end"),
            "{}",
            &out[out.len() - 40..]
        );
        assert!(!out.contains("hunter") && !out.contains("MIIE"));
    }

    #[test]
    fn plain_text_passes_unchanged_in_any_cut() {
        let red = Redactor::default();
        let text = "héllo wörld, nothing secret here. ".repeat(200);
        for size in [1024, 1500, 4096] {
            assert_eq!(through(&red, text.as_bytes(), size), text);
        }
    }
}
