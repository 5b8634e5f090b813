//! `consul keygen`: a new 32-byte gossip encryption key, base64 encoded.

use base64::Engine;
use legate_config::goflag::FlagSet;

use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Generates a new encryption key";

const USAGE: &str = "Usage: consul keygen

  Generates a new encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.";

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, None)
}

/// A fresh key: 32 random bytes, standard base64.
pub(crate) fn generate() -> Result<String, getrandom::Error> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(key))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = FlagSet::new("keygen");
    if flags::parse(&fs, args, ui).is_none() {
        return 1;
    }
    match generate() {
        Ok(k) => {
            ui.output(&k);
            0
        }
        Err(e) => {
            ui.error(&format!("Error reading random data: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_32_bytes() {
        let k = generate().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&k)
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(generate().unwrap(), k);
    }
}
