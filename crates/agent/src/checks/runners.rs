//! The set of running checks: one tokio task per check, keyed by check ID, each reporting
//! status changes on one channel. Starting a check whose ID is already running replaces it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::interval::run_interval;
use super::probe::Probe;
use super::thresholds::StatusThresholds;
use super::ttl::TtlTimer;
use crate::definition::CheckDefinition;
use crate::definition::CheckKind;
use crate::definition::DefinitionError;

/// Consul's minimum interval between two runs of an interval check.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A status report from a running check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckUpdate {
    /// The check's ID.
    pub check_id: String,
    /// `passing`, `warning` or `critical`.
    pub status: &'static str,
    /// Output to store on the check.
    pub output: String,
}

/// Agent options that govern which checks may run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunnerOptions {
    /// `enable_script_checks`: script checks from any source.
    pub enable_script_checks: bool,
    /// `enable_local_script_checks`: script checks from local config files only.
    pub enable_local_script_checks: bool,
}

/// Where a check definition came from (decides whether script checks may run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckSource {
    /// The HTTP API (Consul's "remote" source).
    Api,
    /// An agent config file.
    LocalConfig,
}

/// A TTL update for a check that is not a running TTL check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TtlError {
    /// Consul's text; Consul answers it with 404 (older versions: 500).
    #[error("CheckID {0:?} does not have associated TTL")]
    NotTtl(String),
}

/// Runs the agent's checks. Cheap to clone; all clones share the same set. Dropping the last
/// clone stops every check.
#[derive(Clone)]
pub struct CheckRunners {
    inner: Arc<Inner>,
}

struct Inner {
    updates: UnboundedSender<CheckUpdate>,
    opts: RunnerOptions,
    min_interval: Duration,
    running: Mutex<HashMap<String, Running>>,
}

struct Running {
    token: CancellationToken,
    ttl: Option<Arc<TtlTimer>>,
}

impl CheckRunners {
    /// An empty set reporting on `updates`.
    pub fn new(updates: UnboundedSender<CheckUpdate>, opts: RunnerOptions) -> Self {
        Self::with_min_interval(updates, opts, MIN_INTERVAL)
    }

    /// Like [`CheckRunners::new`] with a different interval floor (tests use a short one).
    pub fn with_min_interval(
        updates: UnboundedSender<CheckUpdate>,
        opts: RunnerOptions,
        min_interval: Duration,
    ) -> Self {
        CheckRunners {
            inner: Arc::new(Inner {
                updates,
                opts,
                min_interval,
                running: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts (or replaces) the runner for `def`. Must be called inside a tokio runtime.
    /// Alias checks are accepted here but driven by the agent (see [`CheckRunners::track`]).
    pub fn start(&self, def: &CheckDefinition, source: CheckSource) -> Result<(), DefinitionError> {
        if matches!(def.kind, CheckKind::Script { .. }) {
            let opts = self.inner.opts;
            match source {
                CheckSource::LocalConfig
                    if !(opts.enable_local_script_checks || opts.enable_script_checks) =>
                {
                    return Err(DefinitionError::ScriptsDisabled);
                }
                CheckSource::Api if !opts.enable_script_checks => {
                    return Err(DefinitionError::RemoteScriptsDisabled);
                }
                _ => {}
            }
        }
        self.stop(&def.id);
        let token = CancellationToken::new();
        let emitter = Emitter {
            check_id: Arc::from(def.id.as_str()),
            tx: self.inner.updates.clone(),
            token: token.clone(),
        };
        let mut ttl_timer = None;
        match &def.kind {
            CheckKind::Alias { .. } => return Ok(()),
            CheckKind::Ttl { ttl } => {
                let timer = TtlTimer::new(*ttl, def.effective_output_max_size(), emitter);
                tokio::spawn(Arc::clone(&timer).run());
                ttl_timer = Some(timer);
            }
            _ => {
                let Some(probe) = Probe::from_definition(def) else {
                    return Ok(());
                };
                let interval = def
                    .interval
                    .unwrap_or(self.inner.min_interval)
                    .max(self.inner.min_interval);
                let thresholds = StatusThresholds::new(
                    def.success_before_passing,
                    def.failures_before_warning,
                    def.failures_before_critical,
                );
                tokio::spawn(run_interval(probe, interval, thresholds, emitter));
            }
        }
        self.lock().insert(
            def.id.clone(),
            Running {
                token,
                ttl: ttl_timer,
            },
        );
        Ok(())
    }

    /// Track a check driven from outside this module (alias checks, which watch agent and
    /// catalog state): replaces any runner with the same ID and returns the token that
    /// [`CheckRunners::stop`] and [`CheckRunners::stop_all`] cancel.
    pub fn track(&self, check_id: &str) -> CancellationToken {
        self.stop(check_id);
        let token = CancellationToken::new();
        self.lock().insert(
            check_id.to_string(),
            Running {
                token: token.clone(),
                ttl: None,
            },
        );
        token
    }

    /// Stops the runner for `check_id`, if any. It reports nothing afterwards.
    pub fn stop(&self, check_id: &str) {
        if let Some(running) = self.lock().remove(check_id) {
            running.token.cancel();
        }
    }

    /// Stops every runner.
    pub fn stop_all(&self) {
        for (_, running) in self.lock().drain() {
            running.token.cancel();
        }
    }

    /// True when a runner for `check_id` is active.
    pub fn is_running(&self, check_id: &str) -> bool {
        self.lock().contains_key(check_id)
    }

    /// A TTL update from `/v1/agent/check/{pass,warn,fail,update}`: reports the status (the
    /// update is on the channel when this returns) and resets the TTL timer. Output longer
    /// than the check's `OutputMaxSize` is cut as Consul cuts it.
    pub fn ttl_update(
        &self,
        check_id: &str,
        status: &'static str,
        output: &str,
    ) -> Result<(), TtlError> {
        let timer = self
            .lock()
            .get(check_id)
            .and_then(|r| r.ttl.clone())
            .ok_or_else(|| TtlError::NotTtl(check_id.to_string()))?;
        timer.update(status, output);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let running = self
            .running
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, r) in running.drain() {
            r.token.cancel();
        }
    }
}

/// Sends one check's updates, and nothing once its runner is stopped.
#[derive(Clone)]
pub(crate) struct Emitter {
    check_id: Arc<str>,
    tx: UnboundedSender<CheckUpdate>,
    token: CancellationToken,
}

impl Emitter {
    pub(crate) fn emit(&self, status: &'static str, output: String) {
        if !self.token.is_cancelled() {
            // The receiver going away means the agent is shutting down; nothing to do.
            let _ = self.tx.send(CheckUpdate {
                check_id: self.check_id.to_string(),
                status,
                output,
            });
        }
    }

    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}
