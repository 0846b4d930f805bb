//! Signers: an sr25519 key (what wallets use) or an ed25519 key (what workers use). Both sign
//! for a `MultiSignature` account, so either can send any transaction: the account is the
//! public key itself (`chain.rs` signs for subxt).

use sp_core::{
	crypto::{AccountId32 as AccountId, Ss58AddressFormat, Ss58Codec},
	ed25519, sr25519, Pair,
};

use crate::{Error, Result};

/// Signature scheme of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheme {
	/// Schnorrkel on Ristretto25519: wallets and validators.
	Sr25519,
	/// Ed25519: worker keys.
	Ed25519,
}

/// A key pair that can sign transactions.
// An ed25519 pair is larger than an sr25519 one; a command holds one or two, so boxing would buy
// nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Keypair {
	/// An sr25519 key.
	Sr25519(sr25519::Pair),
	/// An ed25519 key.
	Ed25519(ed25519::Pair),
}

impl Keypair {
	/// Builds a key from a secret URI: a dev name (`//Alice`), a mnemonic with an optional
	/// derivation path, or a hex seed.
	pub fn from_uri(uri: &str, scheme: Scheme) -> Result<Self> {
		// The parser's own errors quote the offending characters: only the kind is told.
		let invalid = |error: sp_core::crypto::SecretStringError| {
			use sp_core::crypto::SecretStringError as Why;
			Error::InvalidSecret(
				match error {
					Why::InvalidFormat(_) => "not a //Name, a mnemonic or a 0x seed",
					Why::InvalidPhrase => "the mnemonic is not a valid BIP-39 phrase",
					Why::InvalidPassword => "the password is wrong",
					Why::InvalidSeed => "the seed is not valid",
					Why::InvalidSeedLength => "the seed is not 32 bytes",
					Why::InvalidPath => "the derivation path is not valid",
				}
				.to_string(),
			)
		};
		Ok(match scheme {
			Scheme::Sr25519 => {
				Self::Sr25519(sr25519::Pair::from_string(uri, None).map_err(invalid)?)
			},
			Scheme::Ed25519 => {
				Self::Ed25519(ed25519::Pair::from_string(uri, None).map_err(invalid)?)
			},
		})
	}

	/// The account this key signs for: for sr25519 and ed25519 keys, a `MultiSignature`
	/// account is the 32-byte public key.
	pub fn account_id(&self) -> AccountId {
		match self {
			Self::Sr25519(pair) => AccountId::from(pair.public().0),
			Self::Ed25519(pair) => AccountId::from(pair.public().0),
		}
	}
}

/// Reads a secret URI from `path`, or from standard input when `path` is `-`. A file that
/// its group or others may read is refused, as the worker refuses its key file: a secret
/// others can read is not secret.
pub fn read_secret(path: &std::path::Path) -> Result<String> {
	let failed = |reason: String| Error::KeyFile { path: path.display().to_string(), reason };
	let text = if path.as_os_str() == "-" {
		let mut text = String::new();
		std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
			.map_err(|error| failed(error.to_string()))?;
		text
	} else {
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let mode = std::fs::metadata(path)
				.map_err(|error| failed(error.to_string()))?
				.permissions()
				.mode() & 0o777;
			if mode & 0o077 != 0 {
				return Err(failed(format!(
					"readable by others (mode {mode:o}); `chmod 600 {}` first",
					path.display()
				)));
			}
		}
		std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?
	};
	let secret = text.trim();
	if secret.is_empty() {
		return Err(failed("it is empty".into()));
	}
	Ok(secret.to_string())
}

/// The Commons address format (SS58 prefix 7342).
pub fn address_format() -> Ss58AddressFormat {
	Ss58AddressFormat::custom(commons_primitives::currency::SS58_PREFIX)
}

/// Renders an account in the Commons address format.
pub fn to_ss58(account: &AccountId) -> String {
	account.to_ss58check_with_version(address_format())
}

/// Parses an account given as an SS58 address (any network's prefix), 32-byte hex, or a secret
/// URI such as `//Bob` (taken as sr25519).
pub fn parse_account(text: &str) -> Result<AccountId> {
	// Our prefix is not in the public registry: declare it so that it parses.
	sp_core::crypto::set_default_ss58_version(address_format());
	if let Ok(account) = AccountId::from_ss58check(text) {
		return Ok(account);
	}
	if let Some(hex_key) = text.strip_prefix("0x") {
		let bytes = hex::decode(hex_key)
			.map_err(|error| Error::InvalidKey(text.to_string(), error.to_string()))?;
		let raw: [u8; 32] = bytes.try_into().map_err(|_| {
			Error::InvalidKey(text.to_string(), "an account id is 32 bytes".to_string())
		})?;
		return Ok(AccountId::from(raw));
	}
	if text.starts_with("//") {
		return Ok(Keypair::from_uri(text, Scheme::Sr25519)?.account_id());
	}
	Err(Error::InvalidKey(
		text.to_string(),
		"expected an SS58 address, 0x-prefixed hex or a //Name dev key".to_string(),
	))
}
