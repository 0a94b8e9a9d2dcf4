//! The transcript sink: agent output to a file as it comes, size-capped.
//!
//! A session's transcript is stored in the run ref and pushed with it, so it must stay a sane
//! size whatever the agent prints (an agent in a loop can print gigabytes). The sink writes
//! lines through until the *head* budget is spent, then keeps only a bounded *tail* in memory
//! (the end of a transcript is where an agent says how it finished: Claude's `result` event),
//! and on [`TranscriptSink::finish`] writes one marker line saying how many bytes were dropped,
//! followed by the tail. Memory stays bounded by the tail size; nothing is held whole.
//! Lines arrive already redacted; stderr lines are prefixed with `[stderr] `.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::outcome::TranscriptStats;
use super::process::Stream;

/// Default transcript cap: 20 MiB.
pub(crate) const DEFAULT_CAP: u64 = 20 * 1024 * 1024;

/// The most of the cap kept for the tail.
const MAX_TAIL: u64 = 1024 * 1024;

pub(crate) const STDERR_PREFIX: &[u8] = b"[stderr] ";

/// Writes a capped transcript. `W` is a file in production, a `Vec` in tests.
#[derive(Debug)]
pub(crate) struct TranscriptSink<W: Write = BufWriter<File>> {
    out: W,
    path: PathBuf,
    cap: u64,
    head_limit: u64,
    tail_keep: usize,
    written: u64,
    dropped: u64,
    capped: bool,
    tail: VecDeque<Vec<u8>>,
    tail_bytes: usize,
}

impl TranscriptSink {
    /// Creates (truncates) the transcript file.
    pub(crate) fn create(path: &Path, cap: u64) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(TranscriptSink::new(
            BufWriter::with_capacity(64 * 1024, file),
            path.to_path_buf(),
            cap,
        ))
    }
}

impl<W: Write> TranscriptSink<W> {
    pub(crate) fn new(out: W, path: PathBuf, cap: u64) -> Self {
        let tail_keep = (cap / 4).min(MAX_TAIL);
        TranscriptSink {
            out,
            path,
            cap,
            head_limit: cap - tail_keep,
            tail_keep: tail_keep as usize,
            written: 0,
            dropped: 0,
            capped: false,
            tail: VecDeque::new(),
            tail_bytes: 0,
        }
    }

    /// Appends one line (without its newline). Returns true the first time the cap is reached,
    /// so the caller can say so once.
    pub(crate) fn write_line(&mut self, stream: Stream, line: &[u8]) -> io::Result<bool> {
        let prefix: &[u8] = match stream {
            Stream::Stdout => b"",
            Stream::Stderr => STDERR_PREFIX,
        };
        let len = (prefix.len() + line.len() + 1) as u64;
        if !self.capped && self.written + len <= self.head_limit {
            self.out.write_all(prefix)?;
            self.out.write_all(line)?;
            self.out.write_all(b"\n")?;
            self.written += len;
            return Ok(false);
        }
        let newly = !self.capped;
        self.capped = true;
        let mut owned = Vec::with_capacity(len as usize);
        owned.extend_from_slice(prefix);
        owned.extend_from_slice(line);
        owned.push(b'\n');
        self.push_tail(owned);
        Ok(newly)
    }

    fn push_tail(&mut self, mut line: Vec<u8>) {
        if line.len() > self.tail_keep {
            let cut = line.len() - self.tail_keep;
            self.dropped += cut as u64;
            line.drain(..cut);
        }
        self.tail_bytes += line.len();
        self.tail.push_back(line);
        while self.tail_bytes > self.tail_keep {
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= old.len();
            self.dropped += old.len() as u64;
        }
    }

    /// Pushes buffered bytes to the file, so `tail -f` shows progress.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes the truncation marker and the kept tail, flushes, and says what was written.
    pub(crate) fn finish(mut self) -> io::Result<(TranscriptStats, W)> {
        if self.dropped > 0 {
            let marker = format!(
                "[pitboss] transcript truncated: {} bytes of output dropped here (cap {} bytes); \
                 the last {} bytes follow\n",
                self.dropped, self.cap, self.tail_bytes
            );
            self.out.write_all(marker.as_bytes())?;
            self.written += marker.len() as u64;
        }
        for line in std::mem::take(&mut self.tail) {
            self.out.write_all(&line)?;
            self.written += line.len() as u64;
        }
        self.out.flush()?;
        let stats = TranscriptStats {
            path: self.path,
            bytes_written: self.written,
            truncated: self.dropped > 0,
            bytes_dropped: self.dropped,
        };
        Ok((stats, self.out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(cap: u64) -> TranscriptSink<Vec<u8>> {
        TranscriptSink::new(Vec::new(), PathBuf::from("t.log"), cap)
    }

    #[test]
    fn small_output_passes_through_with_stderr_marked() {
        let mut s = sink(1000);
        assert!(!s.write_line(Stream::Stdout, b"hello").unwrap());
        assert!(!s.write_line(Stream::Stderr, b"oops").unwrap());
        let (stats, out) = s.finish().unwrap();
        assert_eq!(out, b"hello\n[stderr] oops\n");
        assert_eq!(stats.bytes_written, out.len() as u64);
        assert!(!stats.truncated);
        assert_eq!(stats.bytes_dropped, 0);
    }

    #[test]
    fn cap_keeps_head_and_tail_with_one_marker() {
        // cap 400: head 300, tail 100.
        let mut s = sink(400);
        let mut first_cap = 0;
        for i in 0..100 {
            if s.write_line(Stream::Stdout, format!("line {i:04}").as_bytes())
                .unwrap()
            {
                first_cap += 1;
            }
        }
        let (stats, out) = s.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(first_cap, 1);
        assert!(stats.truncated);
        assert!(text.starts_with("line 0000\nline 0001\n"));
        assert!(text.ends_with("line 0099\n"));
        let marker: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("[pitboss]"))
            .collect();
        assert_eq!(marker.len(), 1);
        // 100 lines of 10 bytes; 30 in the head, 10 in the tail.
        assert_eq!(stats.bytes_dropped, 600);
        assert!(
            marker[0].contains("600 bytes of output dropped"),
            "{}",
            marker[0]
        );
        assert!(stats.bytes_written <= 400 + marker[0].len() as u64 + 1);
        assert_eq!(stats.bytes_written, text.len() as u64);
    }

    #[test]
    fn slightly_over_the_head_loses_nothing_and_says_nothing() {
        let mut s = sink(400);
        for i in 0..32 {
            s.write_line(Stream::Stdout, format!("line {i:04}").as_bytes())
                .unwrap();
        }
        let (stats, out) = s.finish().unwrap();
        assert!(!stats.truncated);
        assert_eq!(out.len(), 320);
        assert!(!String::from_utf8(out).unwrap().contains("[pitboss]"));
    }

    #[test]
    fn a_giant_line_keeps_only_its_end_in_the_tail() {
        let mut s = sink(400);
        let giant = vec![b'x'; 10_000];
        s.write_line(Stream::Stdout, &giant).unwrap();
        let (stats, out) = s.finish().unwrap();
        assert!(stats.truncated);
        assert_eq!(stats.bytes_dropped, 10_001 - 100);
        assert!(out.len() < 400 + 200);
    }
}
