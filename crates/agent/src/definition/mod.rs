//! Consul service and check definitions as they arrive from `PUT /v1/agent/service/register`,
//! `PUT /v1/agent/check/register` and agent config files: lenient decoding (case-insensitive,
//! snake_case aliases, Go durations), Consul's validation with its exact error texts, and
//! conversion to the state records. Running checks lives in [`crate::checks`].

mod check;
mod error;
mod fields;
mod service;
mod validate;

pub(crate) use validate::validate_meta;

pub use check::CheckDefinition;
pub use check::CheckKind;
pub use check::DEFAULT_OUTPUT_MAX_SIZE;
pub use error::DefinitionError;
pub use fields::normalize_key;
pub use service::ServiceDefinition;
