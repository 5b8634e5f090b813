//! Script checks (`args`): run the program directly, no shell. Exit 0 is passing, 1 warning,
//! anything else critical; output is stdout and stderr together, keeping the last bytes.

use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use legate_state::model::health;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::output::TailBuffer;
use super::probe::ProbeResult;

/// A script check.
pub(crate) struct ScriptProbe {
    args: Vec<String>,
    timeout: Duration,
    output_max: usize,
}

impl ScriptProbe {
    pub(crate) fn new(args: Vec<String>, timeout: Duration, output_max: usize) -> Self {
        ScriptProbe {
            args,
            timeout,
            output_max,
        }
    }

    pub(crate) async fn check(&self) -> ProbeResult {
        let critical = |output: String| ProbeResult {
            status: health::CRITICAL,
            output,
        };
        let Some((program, rest)) = self.args.split_first() else {
            return critical("exec: no command".into());
        };
        let mut child = match Command::new(program)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return critical(format!(
                    "exec: \"{program}\": executable file not found in $PATH"
                ));
            }
            Err(e) => return critical(format!("fork/exec {program}: {e}")),
        };
        let buf = Mutex::new(TailBuffer::new(self.output_max));
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let run = async {
            let ((), (), status) =
                tokio::join!(pump(stdout, &buf), pump(stderr, &buf), child.wait());
            status
        };
        let outcome = tokio::time::timeout(self.timeout, run).await;
        let output = buf.lock().map(|b| b.captured_text()).unwrap_or_default();
        match outcome {
            Err(_) => {
                // Best effort: the process may already be gone.
                let _ = child.start_kill();
                let mut msg = format!(
                    "Timed out ({}) running check",
                    legate_types::go_duration::format(self.timeout)
                );
                if !output.is_empty() {
                    msg.push_str("\n\n");
                    msg.push_str(&output);
                }
                critical(msg)
            }
            Ok(Err(e)) => critical(e.to_string()),
            Ok(Ok(status)) => {
                let status = match status.code() {
                    Some(0) => health::PASSING,
                    Some(1) => health::WARNING,
                    _ => health::CRITICAL,
                };
                ProbeResult { status, output }
            }
        }
    }
}

/// Copies a pipe into the shared buffer until EOF.
async fn pump<R: AsyncRead + Unpin>(pipe: Option<R>, buf: &Mutex<TailBuffer>) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = [0u8; 4096];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut b) = buf.lock() {
                    b.write(&chunk[..n]);
                }
            }
        }
    }
}
