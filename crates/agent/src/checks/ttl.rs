//! The TTL check: updates pushed through the agent API reset a timer; when it runs out the
//! check turns critical with `TTL expired`. The update path is synchronous (it emits before
//! returning) and shares one lock with the expiry path, so an update never races an expiry.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_state::model::health;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::output::truncate_head;
use super::runners::Emitter;

/// Shared state of one TTL check.
pub(crate) struct TtlTimer {
    ttl: Duration,
    output_max: usize,
    emitter: Emitter,
    state: Mutex<TtlState>,
    reset: Notify,
}

struct TtlState {
    /// When the check expires; `None` once expired (until the next update).
    deadline: Option<Instant>,
    /// Last output set through an update, quoted in the expiry message.
    last_output: String,
}

impl TtlTimer {
    /// A timer armed for `ttl` from now.
    pub(crate) fn new(ttl: Duration, output_max: usize, emitter: Emitter) -> Arc<Self> {
        Arc::new(TtlTimer {
            ttl,
            output_max,
            emitter,
            state: Mutex::new(TtlState {
                deadline: Some(Instant::now() + ttl),
                last_output: String::new(),
            }),
            reset: Notify::new(),
        })
    }

    /// Sets the status (emitting it) and re-arms the timer.
    pub(crate) fn update(&self, status: &'static str, output: &str) {
        let output = truncate_head(output, self.output_max);
        {
            let mut st = self.lock();
            self.emitter.emit(status, output.clone());
            st.last_output = output;
            st.deadline = Some(Instant::now() + self.ttl);
        }
        self.reset.notify_one();
    }

    /// Waits for expiries until the runner is cancelled.
    pub(crate) async fn run(self: Arc<Self>) {
        let token = self.emitter.token().clone();
        loop {
            let deadline = self.lock().deadline;
            tokio::select! {
                () = token.cancelled() => return,
                () = self.reset.notified() => {}
                () = sleep_until(deadline) => self.expire_if_due(),
            }
        }
    }

    fn expire_if_due(&self) {
        let mut st = self.lock();
        if st.deadline.is_some_and(|d| d <= Instant::now()) {
            st.deadline = None;
            let output = if st.last_output.is_empty() {
                "TTL expired".to_string()
            } else {
                format!(
                    "TTL expired (last output before timeout follows): {}",
                    st.last_output
                )
            };
            self.emitter.emit(health::CRITICAL, output);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TtlState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
