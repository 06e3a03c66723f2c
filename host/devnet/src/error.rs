//! The crate's error type: every failure names what was wrong.

use thiserror::Error;

/// Errors of the devnet (model, encoding, scenario, server).
#[derive(Debug, Error)]
pub enum DevnetError {
    #[error("metadata: {0}")]
    Metadata(String),
    #[error("encoding: {0}")]
    Encode(String),
    #[error("decoding: {0}")]
    Decode(String),
    #[error("{0}")]
    Chain(String),
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("invalid action: {0}")]
    Action(String),
    #[error("server: {0}")]
    Server(String),
}

/// Short form for results of this crate.
pub type Result<T, E = DevnetError> = std::result::Result<T, E>;
