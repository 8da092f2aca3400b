//! JSON-RPC over a byte stream with LSP's `Content-Length` framing, bounded: a header line over
//! 1 KiB, more than 32 header lines or a body over [`MAX_MESSAGE_BYTES`] ends the session with
//! an error instead of growing a buffer. Two threads move the messages between the streams and
//! an [`lsp_server::Connection`].

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// The largest message read: a whole document of the reader's size cap
/// ([`crate::fsread::MAX_FILE_BYTES`]), JSON-escaped, fits.
pub const MAX_MESSAGE_BYTES: u64 = 4 * crate::fsread::MAX_FILE_BYTES;

const MAX_HEADER_LINE: u64 = 1024;
const MAX_HEADERS: usize = 32;

/// The threads behind a [`Connection`].
pub struct Threads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl Threads {
    /// Waits for the writer to flush every message sent (the connection must be dropped
    /// first). The reader is left alone when `exited`: it stopped at `exit` or waits on input
    /// that will never come. Returns the first error of either.
    pub fn join(self, exited: bool) -> io::Result<()> {
        let written = self
            .writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
        if exited && !self.reader.is_finished() {
            return written;
        }
        let read = self
            .reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
        written.and(read)
    }
}

/// A connection over `input` and `output`.
pub fn connect(
    input: Box<dyn BufRead + Send>,
    output: Box<dyn Write + Send>,
) -> io::Result<(Connection, Threads)> {
    let (to_server, receiver) = crossbeam_channel::bounded::<Message>(64);
    let (sender, to_client) = crossbeam_channel::bounded::<Message>(64);
    let reader = std::thread::Builder::new()
        .name("sandlint-lsp-reader".to_string())
        .spawn(move || {
            let mut input = input;
            while let Some(msg) = read_message(&mut input)? {
                let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                if to_server.send(msg).is_err() || exit {
                    break;
                }
            }
            Ok(())
        })?;
    let writer = std::thread::Builder::new()
        .name("sandlint-lsp-writer".to_string())
        .spawn(move || {
            let mut output = io::BufWriter::new(output);
            for msg in to_client {
                msg.write(&mut output)?;
                output.flush()?;
            }
            Ok(())
        })?;
    Ok((Connection { sender, receiver }, Threads { reader, writer }))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The next message; `None` at the end of the input (before a header).
pub fn read_message(input: &mut dyn BufRead) -> io::Result<Option<Message>> {
    let mut length: Option<u64> = None;
    let mut headers = 0usize;
    loop {
        let mut line = Vec::new();
        let n = Read::take(&mut *input, MAX_HEADER_LINE + 1).read_until(b'\n', &mut line)?;
        if n == 0 {
            return if headers == 0 {
                Ok(None)
            } else {
                Err(invalid(
                    "the input ended inside a message header".to_string(),
                ))
            };
        }
        if line.last() != Some(&b'\n') {
            return Err(invalid(format!(
                "a message header line is longer than {MAX_HEADER_LINE} bytes"
            )));
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Err(invalid(format!(
                "a message has more than {MAX_HEADERS} headers"
            )));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(invalid(format!(
                "malformed message header `{}`",
                crate::escape::line(line)
            )));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n = value.trim().parse::<u64>().map_err(|_| {
                invalid(format!(
                    "Content-Length is not a number: `{}`",
                    crate::escape::line(value.trim())
                ))
            })?;
            length = Some(n);
        }
    }
    let length = length.ok_or_else(|| invalid("a message has no Content-Length".to_string()))?;
    if length > MAX_MESSAGE_BYTES {
        return Err(invalid(format!(
            "a message of {length} bytes is over the limit of {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    let mut body = Vec::new();
    Read::take(&mut *input, length).read_to_end(&mut body)?;
    if body.len() as u64 != length {
        return Err(invalid("the input ended inside a message".to_string()));
    }
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| invalid(format!("a message is not JSON-RPC: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Option<Message>, String> {
        read_message(&mut &bytes[..]).map_err(|e| e.to_string())
    }

    #[test]
    fn frames_are_read_within_bounds() {
        let body = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let msg = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        assert!(matches!(
            read(msg.as_bytes()),
            Ok(Some(Message::Notification(n))) if n.method == "exit"
        ));
        assert!(matches!(read(b""), Ok(None)));
        let huge = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE_BYTES + 1);
        assert!(read(huge.as_bytes()).is_err_and(|e| e.contains("over the limit")));
        let long = format!("X-{}: 1\r\n", "a".repeat(2000));
        assert!(read(long.as_bytes()).is_err_and(|e| e.contains("longer than")));
        assert!(read(b"Content-Length: 10\r\n\r\n{}").is_err_and(|e| e.contains("ended inside")));
        assert!(read(b"Content-Length: x\r\n\r\n").is_err_and(|e| e.contains("not a number")));
        assert!(read(b"\r\n").is_err_and(|e| e.contains("no Content-Length")));
    }
}
