//! The readers of an agent's stdout and stderr: bytes into bounded lines.
//!
//! One thread per pipe reads 64 KiB at a time and hands complete lines (without `\n` or
//! `\r\n`) to the supervisor through a bounded channel. A line longer than `max_line` is handed
//! over in fragments, cut where a secret cannot straddle the cut when possible, and never inside
//! a UTF-8 character, so memory stays bounded however long a line an agent prints.

use std::io::{self, Read};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

use super::Stream;

/// Look this far back from a cut for a byte that cannot be part of a secret, so a key that
/// straddles a fragment boundary is still redacted whole.
const CUT_LOOKBACK: usize = 256;
/// The smallest `max_line` honoured (a cut leaves up to `CUT_LOOKBACK` bytes behind).
pub(super) const MIN_LINE: usize = 4 * CUT_LOOKBACK;

/// What a reader tells the supervisor.
pub(super) enum Msg {
    Line(Stream, Vec<u8>, bool),
    Eof,
    Warning(String),
}

/// Starts the thread that reads `pipe` to its end.
pub(super) fn spawn_reader(
    pipe: Option<impl Read + Send + 'static>,
    stream: Stream,
    max_line: usize,
    tx: SyncSender<Msg>,
) -> io::Result<JoinHandle<()>> {
    let pipe = pipe.ok_or_else(|| io::Error::other("child pipe missing"))?;
    std::thread::Builder::new()
        .name(format!("agent-{stream:?}").to_lowercase())
        .spawn(move || read_lines(pipe, stream, max_line, &tx))
}

/// Reads `pipe` to its end, sending lines (and fragments of over-long lines) to `tx`.
fn read_lines(mut pipe: impl Read, stream: Stream, max_line: usize, tx: &SyncSender<Msg>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Msg::Warning(format!("reading the agent's {stream:?}: {e}")));
                break;
            }
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let room = max_line - line.len();
            let window = &rest[..rest.len().min(room)];
            if let Some(pos) = window.iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&window[..pos]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if tx
                    .send(Msg::Line(stream, std::mem::take(&mut line), true))
                    .is_err()
                {
                    return;
                }
                rest = &rest[pos + 1..];
            } else {
                line.extend_from_slice(window);
                rest = &rest[window.len()..];
                if line.len() >= max_line {
                    let keep = line.split_off(cut_point(&line));
                    if tx
                        .send(Msg::Line(stream, std::mem::replace(&mut line, keep), false))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
    if !line.is_empty() {
        let _ = tx.send(Msg::Line(stream, line, true));
    }
    let _ = tx.send(Msg::Eof);
}

/// Where to cut an over-long line: after the last byte that cannot be part of a key or word
/// near the end, else at the end but never inside a UTF-8 character.
fn cut_point(line: &[u8]) -> usize {
    let from = line.len().saturating_sub(CUT_LOOKBACK);
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80;
    if let Some(i) = line[from..].iter().rposition(|&b| !word(b)) {
        return from + i + 1;
    }
    // Cut at the end unless the last character is incomplete; then cut before it.
    let Some(start) = line.iter().rposition(|&b| (b & 0xC0) != 0x80) else {
        return line.len();
    };
    let width = match line[start] {
        b if b < 0x80 => 1,
        b if b < 0xE0 => 2,
        b if b < 0xF0 => 3,
        _ => 4,
    };
    if start + width <= line.len() {
        line.len()
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;

    fn collect(input: &[u8], max_line: usize) -> Vec<(Vec<u8>, bool)> {
        let (tx, rx) = sync_channel(1024);
        read_lines(input, Stream::Stdout, max_line, &tx);
        drop(tx);
        rx.iter()
            .filter_map(|m| match m {
                Msg::Line(_, l, c) => Some((l, c)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn lines_crlf_and_a_last_line_without_newline() {
        let got = collect(b"a\nbb\r\n\nccc", 1024);
        let want: Vec<(Vec<u8>, bool)> = vec![
            (b"a".to_vec(), true),
            (b"bb".to_vec(), true),
            (b"".to_vec(), true),
            (b"ccc".to_vec(), true),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn long_lines_come_in_bounded_fragments_cut_between_words() {
        let mut input = Vec::new();
        for i in 0..2000 {
            input.extend_from_slice(format!("word{i} ").as_bytes());
        }
        input.push(b'\n');
        let got = collect(&input, 1024);
        assert!(got.len() > 10);
        assert!(got.iter().all(|(l, _)| l.len() <= 1024));
        assert!(
            got[..got.len() - 1]
                .iter()
                .all(|(l, c)| !c && l.ends_with(b" "))
        );
        assert!(got.last().unwrap().1);
        let joined: Vec<u8> = got.into_iter().flat_map(|(l, _)| l).collect();
        assert_eq!(joined, input[..input.len() - 1]);
    }

    #[test]
    fn cut_point_never_splits_a_utf8_character() {
        let line = "é".repeat(600);
        assert_eq!(cut_point(line.as_bytes()), 1200);
        assert_eq!(cut_point(&line.as_bytes()[..1199]), 1198);
        let ascii = "x".repeat(600);
        assert_eq!(cut_point(ascii.as_bytes()), 600);
    }
}
