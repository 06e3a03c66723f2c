//! Errors of loading and calling policies. Each names the policy and what went wrong.

use super::ErrorCode;

/// Why a component could not be loaded as a policy.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid wasm component: {0}")]
    Compile(String),
    #[error(
        "the component imports {found}; a policy may import nothing but the contract's types ({allowed})"
    )]
    Imports {
        found: String,
        allowed: &'static str,
    },
    #[error("the component does not implement a contract this host speaks ({speaks}): {0}", speaks = super::contract::Contract::ALL.map(|c| c.export()).join(" or "))]
    Contract(String),
    #[error("{0}")]
    Call(#[from] CallError),
}

/// How a policy call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The policy returned its typed error (bad input or parameters).
    Refused { code: ErrorCode, message: String },
    /// It used all its fuel (a loop, or far more work than allowed).
    OutOfFuel { limit: u64 },
    /// It tried to grow its memory beyond the limit.
    MemoryLimit { limit_bytes: usize },
    /// It trapped (a bug in the policy: an unreachable, a bad memory access, ...).
    Trap(String),
    /// Its output breaks the contract's invariants.
    InvalidOutput(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused { code, message } => write!(f, "refused ({code:?}): {message}"),
            Failure::OutOfFuel { limit } => write!(f, "ran out of fuel (limit {limit})"),
            Failure::MemoryLimit { limit_bytes } => {
                write!(f, "exceeded its memory limit of {limit_bytes} bytes")
            }
            Failure::Trap(t) => write!(f, "trapped: {t}"),
            Failure::InvalidOutput(why) => write!(f, "returned invalid output: {why}"),
        }
    }
}

/// A failed call of one policy function.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy `{policy}` failed in `{function}`: {failure}")]
pub struct CallError {
    /// `name@version (sha256 prefix)`.
    pub policy: String,
    pub function: &'static str,
    pub failure: Failure,
}
