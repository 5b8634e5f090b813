//! The one error type of configuration loading; `Display` follows Consul's wording so the
//! CLI can print it as Consul would.

use std::path::PathBuf;

use crate::goflag::FlagError;

/// Why the agent configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The command line did not parse (Go `flag` rules); `Help` means `-h` was given.
    #[error("{0}")]
    Flag(#[from] FlagError),
    /// A `-config-file` / `-config-dir` path could not be opened or read.
    #[error("config: Open failed on {}. {source}", path.display())]
    Open {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `-config-file` has neither a `.json` nor a `.hcl` extension and no `-config-format`.
    #[error(
        "file {} has unknown extension; must be .hcl or .json, or config format must be set",
        .0.display()
    )]
    UnknownExtension(PathBuf),
    /// `-config-format` was neither `json` nor `hcl`.
    #[error("config: -config-format must be either 'hcl' or 'json'")]
    BadFormat,
    /// A source did not parse or decode: syntax error, unknown key, wrongly typed value.
    /// `message` is Consul's text, e.g. `1 error occurred:\n\t* invalid config key foo\n\n`.
    #[error("failed to parse {source_name}: {message}")]
    Parse {
        /// The file path (or `flags-0.hcl` for `-hcl` fragments).
        source_name: String,
        /// What went wrong, in Consul's wording.
        message: String,
    },
    /// The merged configuration is invalid (bad port, duration, address, combination).
    #[error("{0}")]
    Invalid(String),
}

/// Formats a list of errors as Go's `go-multierror` does.
pub(crate) fn multierror(errors: &[String]) -> String {
    let noun = if errors.len() == 1 {
        "1 error occurred"
    } else {
        return format!(
            "{} errors occurred:\n{}\n\n",
            errors.len(),
            errors
                .iter()
                .map(|e| format!("\t* {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    };
    format!("{noun}:\n\t* {}\n\n", errors[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multierror_format() {
        assert_eq!(
            multierror(&["invalid config key foo".into()]),
            "1 error occurred:\n\t* invalid config key foo\n\n"
        );
        assert_eq!(
            multierror(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b\n\n"
        );
    }

    #[test]
    fn parse_error_text() {
        let e = ConfigError::Parse {
            source_name: "/tmp/x.json".into(),
            message: multierror(&["invalid config key foo".into()]),
        };
        assert_eq!(
            e.to_string(),
            "failed to parse /tmp/x.json: 1 error occurred:\n\t* invalid config key foo\n\n"
        );
    }
}
