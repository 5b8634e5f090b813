//! Why a service or check definition was refused. `Display` is the exact text Consul returns,
//! so the HTTP layer can send it as the plain-text body unchanged.

/// A refused service or check definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The JSON did not decode into the definition's shape (wrong types, bad duration…).
    #[error("Request decode failed: {0}")]
    Decode(String),
    /// A config-file definition carried a key Consul does not know.
    #[error("invalid config key {0}")]
    UnknownKey(String),
    /// The service has no `Name`.
    #[error("Missing service name")]
    MissingServiceName,
    /// The service address is an "any" address (`0.0.0.0`, `::`).
    #[error("Invalid service address")]
    InvalidServiceAddress,
    /// The service port is outside 0–65535.
    #[error("Invalid service port {0}: must be between 0 and 65535")]
    InvalidPort(i64),
    /// The DNS weights are out of range.
    #[error("Invalid Weights: {0}")]
    InvalidWeights(String),
    /// A service meta pair breaks Consul's meta rules.
    #[error("Invalid Service Meta: {0}")]
    InvalidMeta(String),
    /// A check failed Consul's `CheckType.Validate`.
    #[error("Invalid check: {0}")]
    InvalidCheck(String),
    /// A standalone check has no `Name`.
    #[error("Missing check name")]
    MissingCheckName,
    /// A standalone check has a `Status` other than passing/warning/critical.
    #[error("Bad check status")]
    BadCheckStatus,
    /// A service's check has a `Status` other than passing/warning/critical.
    #[error("Status for checks must 'passing', 'warning', 'critical'")]
    BadServiceCheckStatus,
    /// A script check from a local config file while neither script option is enabled.
    #[error(
        "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or \
         'enable_local_script_checks' to true"
    )]
    ScriptsDisabled,
    /// A script check from the HTTP API while `enable_script_checks` is off.
    #[error(
        "Scripts are disabled on this agent from remote calls; to enable, configure \
         'enable_script_checks' to true"
    )]
    RemoteScriptsDisabled,
    /// A check type Consul knows but this agent does not run (docker, h2ping, os_service).
    #[error("Invalid check: {0} checks are not supported by this agent")]
    UnsupportedCheck(&'static str),
}

impl DefinitionError {
    /// The HTTP status Consul answers with: 500 for refused script checks (raised inside the
    /// agent, after validation), 400 for everything else.
    pub fn http_status(&self) -> u16 {
        match self {
            DefinitionError::ScriptsDisabled | DefinitionError::RemoteScriptsDisabled => 500,
            _ => 400,
        }
    }
}
