//! `commons-testing`: what the node and runtime tests need below the client's subxt stack.
//!
//! - [`tx`]: extrinsics built and signed with the runtime's own types, byte for byte what the
//!   runtime verifies, and forgeries of them (another signature in place of the signer's).
//! - [`rpc`]: a node over raw JSON-RPC, decoding state and events with the runtime's types.
//!
//! Users' tools (`commons`, the gateway, the worker) never use this: they talk to nodes through
//! `commons_client::chain`, generated from the metadata, which survives runtime upgrades.

pub mod rpc;
pub mod tx;

pub use commons_client::{keys, Keypair, Scheme};
pub use rpc::{Inclusion, Node};

/// Everything that can go wrong between a test and a node.
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

/// Signs `message` with `key` as the runtime's `MultiSignature`.
pub fn sign(key: &Keypair, message: &[u8]) -> commons_runtime::Signature {
	use sp_core::Pair;
	match key {
		Keypair::Sr25519(pair) => pair.sign(message).into(),
		Keypair::Ed25519(pair) => pair.sign(message).into(),
	}
}
