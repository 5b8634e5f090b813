//! Autopilot configuration read.

use crate::autopilot::AutopilotConfig;
use crate::view::StateView;

impl StateView {
    /// The stored autopilot configuration; `None` until a leader has written one.
    pub fn autopilot_config(&self) -> Option<AutopilotConfig> {
        self.tables.autopilot.clone()
    }
}
