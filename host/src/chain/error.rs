//! Errors of chain access, split into transient ones (the connection; reconnect and
//! resume) and permanent ones (pruned state, missing metadata, bad input).

/// A chain access error.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("bad endpoint: {0}")]
    BadEndpoint(String),
    /// The connection failed or dropped: retry with backoff.
    #[error("connection to {url} failed: {message}")]
    Connection { url: String, message: String },
    /// The node no longer has the state of a block.
    #[error(
        "the node at {url} no longer has the state of block #{block} ({message}); it is pruned: \
         use an archive endpoint (--subtensor.network archive) to read history"
    )]
    Pruned {
        url: String,
        block: u64,
        message: String,
    },
    #[error(
        "the node's metadata has no {0}: this runtime is not supported (was it renamed or removed in an upgrade?)"
    )]
    MissingMetadata(String),
    #[error("metadata: {0}")]
    Metadata(String),
    #[error("decoding {what}: {message}")]
    Decode { what: String, message: String },
    #[error("block #{0} is not known to the node (not produced or not finalized yet)")]
    UnknownBlock(u64),
    #[error("RPC {method}: {message}")]
    Rpc { method: String, message: String },
}

impl ChainError {
    /// Whether retrying after a reconnect can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ChainError::Connection { .. })
    }

    pub(crate) fn decode(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ChainError::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }
}
