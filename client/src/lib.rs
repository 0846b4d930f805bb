//! `commons-client`: talks to a Commons node through subxt and the runtime's metadata.
//!
//! - [`chain`]: the typed API generated from the metadata, connection, signing and inclusion.
//! - [`batch`]: one signer's calls sent as few transactions (`Utility.force_batch`).
//! - [`keys`]: sr25519 (wallet) and ed25519 (worker) signers from secret URIs.
//! - [`market`]: posting, following and reading jobs; [`wallet`]: balances and transfers.
//! - [`governance`], [`votes`]: parameter proposals read from the chain, votes, referenda.
//! - [`model_files`]: model files and tokenizers on this machine; [`gateway`]: the HTTP API.

pub mod amount;
pub mod batch;
pub mod chain;
pub mod gateway;
pub mod governance;
pub mod keys;
pub mod market;
pub mod model_files;
pub mod votes;
pub mod wallet;

pub use keys::{Keypair, Scheme};

/// A key or address that cannot be used; chain failures are [`chain::ChainError`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
