//! `commons-client`: talks to a Commons node over JSON-RPC with the runtime's own types.
//!
//! - [`batch`]: one signer's calls sent as few transactions (`Utility.force_batch`).
//! - [`keys`]: sr25519 (wallet) and ed25519 (worker) signers from secret URIs.
//! - [`tx`]: builds and signs extrinsics exactly as the runtime checks them.
//! - [`rpc`]: a typed connection to a node: chain state, balances, submission, inclusion.
//! - [`governance`]: parameter proposals, votes, referenda and the parameter catalogue.

pub mod amount;
pub mod batch;
pub mod chain;
pub mod gateway;
pub mod governance;
pub mod keys;
pub mod market;
pub mod model_files;
pub mod rpc;
pub mod tx;
pub mod votes;
pub mod wallet;

pub use keys::{Keypair, Scheme};
pub use rpc::{Inclusion, Node};

/// Everything that can go wrong between a client and a node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The node could not be reached or answered with a transport error.
	#[error("node at {url} is unreachable: {source}")]
	Unreachable {
		/// The address that was tried.
		url: String,
		/// The underlying transport error.
		#[source]
		source: jsonrpsee::core::ClientError,
	},
	/// The node answered a call with an error.
	#[error("the node rejected `{method}`: {message}")]
	Rpc {
		/// The RPC method that failed.
		method: &'static str,
		/// The node's error, as it said it.
		message: String,
	},
	/// The node's answer could not be decoded as this runtime's types.
	#[error("cannot decode {what} from the node: {detail}")]
	Decode {
		/// What was being decoded.
		what: &'static str,
		/// Why it failed.
		detail: String,
	},
	/// An address that does not parse.
	#[error("invalid account `{0}`: {1}")]
	InvalidKey(String, String),
	/// A secret that does not parse. The secret itself is never part of the message: a
	/// mistyped secret is still mostly a secret.
	#[error("invalid secret key ({0}); the secret is not shown")]
	InvalidSecret(String),
	/// A key file that cannot be used.
	#[error("key file {path}: {reason}")]
	KeyFile {
		/// The file (`-` for standard input).
		path: String,
		/// Why.
		reason: String,
	},
	/// The transaction was included but its call failed; only the fee was charged.
	#[error("transaction failed in block #{block}: {error}")]
	DispatchFailed {
		/// Number of the block that included it.
		block: u32,
		/// The runtime's error, by name.
		error: String,
	},
	/// The transaction was not seen in a finalised block in time.
	#[error("transaction {0} not finalised within {1} seconds")]
	Timeout(String, u64),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
