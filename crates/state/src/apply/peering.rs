//! Peering writes, with Consul's state-store rules: upserts keep `CreateIndex`, an UNDEFINED
//! state keeps the stored one, a name keeps its role (dialer or acceptor) and its ID, rows
//! marked for deletion are frozen, and secrets are dropped as soon as a peering stops being
//! active. Secret writes re-check the presented secrets (guarding concurrent exchanges), and
//! trust-bundle writes also refresh the peering's `PeerCAPems`.

use crate::apply::Writer;
use crate::model::Peering;
use crate::model::PeeringSecrets;
use crate::model::PeeringState;
use crate::model::PeeringTrustBundle;
use crate::model::SecretsWrite;
use crate::table::Table;
use crate::tables::fold;

impl Writer {
    /// Upsert a peering, then apply `secrets` to it, all or nothing.
    pub(crate) fn peering_write(
        &mut self,
        mut p: Peering,
        secrets: Option<SecretsWrite>,
    ) -> Result<(), String> {
        if p.id.is_empty() {
            return Err("Missing Peering ID".to_string());
        }
        if p.name.is_empty() {
            return Err("Missing Peering Name".to_string());
        }
        if p.state == PeeringState::Deleting && p.deleted_at_ms.is_none() {
            return Err("Missing deletion time for peering in deleting state".to_string());
        }
        if p.deleted_at_ms.is_some() && p.state != PeeringState::Deleting {
            return Err(format!(
                "Unexpected state for peering with deletion time: {}",
                p.state
            ));
        }
        if let Some(existing) = self.t.peering.by_name(&p.name) {
            if p.should_dial() != existing.should_dial() {
                return Err(format!(
                    "Cannot switch peering dialing mode from {} to {}",
                    existing.should_dial(),
                    p.should_dial()
                ));
            }
            if p.id != existing.id {
                return Err(format!(
                    "A peering already exists with the name {:?} and a different ID {:?}",
                    p.name, existing.id
                ));
            }
            let noop = matches!(
                (existing.state, p.state),
                (PeeringState::Deleting, PeeringState::Terminated)
                    | (PeeringState::Deleting, PeeringState::Deleting)
                    | (PeeringState::Terminated, PeeringState::Terminated)
            );
            if noop {
                return Ok(());
            }
            if existing.state == PeeringState::Deleting {
                return Err("cannot write to peering that is marked for deletion".to_string());
            }
            if p.state == PeeringState::Undefined {
                p.state = existing.state;
            }
            if p.remote.is_empty() {
                p.remote = existing.remote.clone();
            }
            p.create_index = existing.create_index;
        } else {
            if let Some(other) = self.t.peering.peerings.get(&p.id) {
                return Err(format!(
                    "A peering already exists with the ID {:?} and a different name {:?}",
                    p.id, other.name
                ));
            }
            if !p.is_active() {
                return Err("cannot create a new peering marked for deletion".to_string());
            }
            if p.state == PeeringState::Undefined {
                p.state = PeeringState::Pending;
            }
            p.create_index = self.idx;
        }
        p.modify_index = self.idx;
        if !p.is_active() {
            self.drop_peering_secrets(&p.id);
        }
        let id = p.id.clone();
        self.t.peering.insert(p);
        self.touch(Table::Peerings);
        match secrets {
            Some(req) => self.peering_secrets_write(&id, req),
            None => Ok(()),
        }
    }

    /// Mark the peering named `name` for deletion at the proposer's clock. A missing peering or
    /// one already being deleted is left alone.
    pub(crate) fn peering_delete(&mut self, name: &str) {
        let Some(existing) = self.t.peering.by_name(name) else {
            return;
        };
        if existing.state == PeeringState::Deleting {
            return;
        }
        let mut p = existing.clone();
        p.state = PeeringState::Deleting;
        p.deleted_at_ms = Some(self.t.clock_ms);
        p.modify_index = self.idx;
        self.drop_peering_secrets(&p.id);
        self.t.peering.insert(p);
        self.touch(Table::Peerings);
    }

    /// Remove the peering row `id` for good; it must have been marked for deletion or
    /// terminated first. A missing row is left alone.
    pub(crate) fn peering_remove(&mut self, id: &str) -> Result<(), String> {
        let Some(existing) = self.t.peering.peerings.get(id) else {
            return Ok(());
        };
        if existing.is_active() {
            return Err("cannot delete a peering without first marking for deletion".to_string());
        }
        self.t.peering.remove(id);
        self.drop_peering_secrets(id);
        self.touch(Table::Peerings);
        Ok(())
    }

    /// Apply a secrets change to peering `peering_id`, re-checking presented secrets.
    pub(crate) fn peering_secrets_write(
        &mut self,
        peering_id: &str,
        req: SecretsWrite,
    ) -> Result<(), String> {
        let Some(peering) = self.t.peering.peerings.get(peering_id) else {
            return Err(format!("unknown peering {peering_id:?} for secret"));
        };
        let existing = self.t.peering.secrets.get(peering_id);
        let next = if peering.should_dial() {
            let SecretsWrite::Establish { active } = req else {
                return Err(
                    "invalid request type when persisting stream secret for dialing peer"
                        .to_string(),
                );
            };
            PeeringSecrets {
                peering_id: peering_id.to_string(),
                active: Some(active),
                ..PeeringSecrets::default()
            }
        } else {
            match req {
                SecretsWrite::GenerateToken { establishment } => {
                    self.check_secret_unused(&establishment)?;
                    PeeringSecrets::generate_token(existing, peering_id, establishment)
                }
                SecretsWrite::Exchange {
                    establishment,
                    pending,
                } => {
                    self.check_secret_unused(&pending)?;
                    let Some(existing) = existing else {
                        return Err(
                            "cannot exchange peering secret: no known secrets for peering"
                                .to_string(),
                        );
                    };
                    existing
                        .exchange(&establishment, pending)
                        .map_err(|e| e.to_string())?
                }
                SecretsWrite::PromotePending { active } => {
                    let Some(existing) = existing else {
                        return Err(
                            "cannot promote pending secret: no known secrets for peering"
                                .to_string(),
                        );
                    };
                    existing.promote(&active).map_err(|e| e.to_string())?
                }
                SecretsWrite::Establish { .. } => {
                    return Err(
                        "an accepting peer should not have called Establish RPC".to_string()
                    );
                }
            }
        };
        self.t.peering.secrets.insert(peering_id.to_string(), next);
        self.touch(Table::PeeringSecrets);
        Ok(())
    }

    /// Store a peer's trust bundle (keeping its CreateIndex) and copy its roots, each with a
    /// trailing newline, into the peering's `PeerCAPems`.
    pub(crate) fn trust_bundle_write(&mut self, mut b: PeeringTrustBundle) -> Result<(), String> {
        if b.peer_name.is_empty() {
            return Err("missing peer name".to_string());
        }
        let Some(peering) = self.t.peering.by_name(&b.peer_name) else {
            return Err(format!(
                "cannot write peering trust bundle for unknown peering {}",
                b.peer_name
            ));
        };
        if peering.state == PeeringState::Deleting {
            return Err("cannot write to peering that is marked for deletion".to_string());
        }
        let mut peering = peering.clone();
        peering.peer_ca_pems = b.root_pems.iter().map(|p| with_newline(p)).collect();
        peering.modify_index = self.idx;
        self.t.peering.insert(peering);
        self.touch(Table::Peerings);

        let key = fold(&b.peer_name);
        b.create_index = self
            .t
            .peering
            .trust_bundles
            .get(&key)
            .map_or(self.idx, |e| e.create_index);
        b.modify_index = self.idx;
        self.t.peering.trust_bundles.insert(key, b);
        self.touch(Table::PeeringTrustBundles);
        Ok(())
    }

    /// Delete the trust bundle of peer `name`, if any.
    pub(crate) fn trust_bundle_delete(&mut self, name: &str) {
        if self.t.peering.trust_bundles.remove(&fold(name)).is_some() {
            self.touch(Table::PeeringTrustBundles);
        }
    }

    fn drop_peering_secrets(&mut self, peering_id: &str) {
        if self.t.peering.secrets.remove(peering_id).is_some() {
            self.touch(Table::PeeringSecrets);
        }
    }

    /// Refuse a newly minted secret that some peering already holds.
    fn check_secret_unused(&self, secret: &str) -> Result<(), String> {
        let in_use = self
            .t
            .peering
            .secrets
            .values()
            .any(|s| s.ids().any(|id| id == secret));
        if in_use {
            return Err("peering secret is already in use, retry the operation".to_string());
        }
        Ok(())
    }
}

fn with_newline(pem: &str) -> String {
    if pem.ends_with('\n') {
        pem.to_string()
    } else {
        format!("{pem}\n")
    }
}

#[cfg(test)]
#[path = "peering_tests.rs"]
mod tests;
