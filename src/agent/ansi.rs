//! Terminal escape sequences, taken out of a line so that a secret printed in colour, or with a
//! colour change inside it (`ghp_AB\e[0mCD…`), is still seen whole by the redactor.

/// `line` without its escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL` or `ESC \`, and
/// two-byte `ESC x`), and for each byte kept its index in `line`, plus `line.len()` at the end.
pub(super) fn strip(line: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut clean = Vec::with_capacity(line.len());
    let mut map = Vec::with_capacity(line.len() + 1);
    let mut i = 0;
    while i < line.len() {
        if line[i] != 0x1b {
            clean.push(line[i]);
            map.push(i);
            i += 1;
            continue;
        }
        i += 1 + match line.get(i + 1) {
            Some(b'[') => {
                // Parameters and intermediates, then one final byte.
                let body = line[i + 2..]
                    .iter()
                    .take_while(|&&b| (0x20..=0x3f).contains(&b))
                    .count();
                let fin = usize::from(
                    line.get(i + 2 + body)
                        .is_some_and(|b| (0x40..=0x7e).contains(b)),
                );
                1 + body + fin
            }
            Some(b']') => {
                let body = &line[i + 2..];
                let end = body
                    .iter()
                    .position(|&b| b == 0x07)
                    .map(|p| p + 1)
                    .or_else(|| body.windows(2).position(|w| w == b"\x1b\\").map(|p| p + 2))
                    .unwrap_or(body.len());
                1 + end
            }
            Some(_) => 1,
            None => 0,
        };
    }
    map.push(line.len());
    (clean, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_go_and_the_map_points_back() {
        let (clean, map) = strip(b"a\x1b[1;32mbc\x1b[0m\x1b]0;title\x07d");
        assert_eq!(clean, b"abcd");
        assert_eq!(map, [0, 8, 9, 24, 25]);
        assert_eq!(strip(b"plain").0, b"plain");
    }
}
