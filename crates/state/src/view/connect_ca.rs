//! Connect CA reads.

use crate::connect_ca::CaState;
use crate::view::StateView;

impl StateView {
    /// The CA roots (with private keys) and configuration; empty until a leader bootstraps.
    pub fn ca_state(&self) -> CaState {
        (*self.tables.connect_ca).clone()
    }
}
