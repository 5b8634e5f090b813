//! The terminal a command talks to: Consul's `cli.Ui` (`Output`/`Info` to stdout, `Error` and
//! `Warn` to stderr, each with a trailing newline) plus the input stream.

use std::io::Read;
use std::io::Write;

/// Output and input streams of one command run.
pub(crate) struct Ui<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    stdin: &'a mut dyn Read,
}

impl<'a> Ui<'a> {
    /// Wraps the given streams.
    pub(crate) fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        stdin: &'a mut dyn Read,
    ) -> Self {
        Ui { out, err, stdin }
    }

    /// Writes `msg` and a newline to stdout (Consul's `Output`/`Info`).
    pub(crate) fn output(&mut self, msg: &str) {
        let _ = writeln!(self.out, "{msg}");
        let _ = self.out.flush();
    }

    /// Writes `msg` and a newline to stderr (Consul's `Error`/`Warn`).
    pub(crate) fn error(&mut self, msg: &str) {
        let _ = writeln!(self.err, "{msg}");
        let _ = self.err.flush();
    }

    /// Writes raw text to stdout, without adding a newline.
    pub(crate) fn write_raw(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// Writes raw text to stderr, without adding a newline.
    pub(crate) fn write_err_raw(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Reads all of the input stream.
    pub(crate) fn read_stdin(&mut self) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.stdin.read_to_end(&mut buf)?;
        Ok(buf)
    }
}
