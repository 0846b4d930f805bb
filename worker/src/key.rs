//! The worker's ed25519 key: its chain account (`MultiSignature::Ed25519`, the account id is the
//! public key) and its signer. Stored as a `0x`-hex seed in a file only its owner can read.

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
};

use commons_client::chain::{ss58, CommonsConfig};
use ed25519_dalek::{Signer as _, SigningKey};
use subxt::utils::{AccountId32, MultiSignature};

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
	/// `generate` never overwrites a key: the account it controls may hold stake.
	#[error("{0} already exists; refusing to overwrite a key (its account may hold stake)")]
	Exists(PathBuf),
	/// The file could not be read or written.
	#[error("{path}: {source}")]
	Io {
		/// The key file.
		path: PathBuf,
		/// Why.
		#[source]
		source: std::io::Error,
	},
	/// Others can read the file, so the key may be known to them.
	#[error("{path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`")]
	Exposed {
		/// The key file.
		path: PathBuf,
		/// Its permission bits.
		mode: u32,
	},
	/// The file does not hold a key.
	#[error("{path} is not a worker key file: {reason}")]
	Malformed {
		/// The key file.
		path: PathBuf,
		/// What is wrong with it.
		reason: String,
	},
	/// Another process serves with this key file.
	#[error(
		"{0} is in use by another commons-worker process: one key is served by one process (two \
		 would commit different salts for the same seats and one of them would be slashed)"
	)]
	InUse(PathBuf),
	/// The system's random number generator failed.
	#[error("cannot draw a random seed: {0}")]
	Random(getrandom::Error),
}

/// A worker's signing key. Cloned only within the process (the batcher signs with one copy,
/// fee estimates with another); zeroed when dropped.
#[derive(Clone)]
pub struct WorkerKey {
	signing: SigningKey,
}

impl WorkerKey {
	/// A key from a 32-byte seed.
	pub fn from_seed(seed: [u8; 32]) -> Self {
		Self { signing: SigningKey::from_bytes(&seed) }
	}

	/// A new key from the operating system's random number generator.
	pub fn generate() -> Result<Self, KeyError> {
		let mut seed = [0u8; 32];
		getrandom::getrandom(&mut seed).map_err(KeyError::Random)?;
		Ok(Self::from_seed(seed))
	}

	/// Writes the seed to a new file at `path` with mode 0600; never overwrites.
	pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
		use std::os::unix::fs::OpenOptionsExt;
		let io = |source| KeyError::Io { path: path.to_path_buf(), source };
		let mut file =
			fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(
				|error| match error.kind() {
					std::io::ErrorKind::AlreadyExists => KeyError::Exists(path.to_path_buf()),
					_ => io(error),
				},
			)?;
		writeln!(file, "0x{}", hex::encode(self.signing.to_bytes())).map_err(io)?;
		file.sync_all().map_err(io)
	}

	/// Reads a key file, refusing one that other users can read.
	pub fn read(path: &Path) -> Result<Self, KeyError> {
		use std::os::unix::fs::PermissionsExt;
		let io = |source| KeyError::Io { path: path.to_path_buf(), source };
		let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
		if mode & 0o077 != 0 {
			return Err(KeyError::Exposed { path: path.to_path_buf(), mode });
		}
		let text = fs::read_to_string(path).map_err(io)?;
		let malformed =
			|reason: &str| KeyError::Malformed { path: path.to_path_buf(), reason: reason.into() };
		let hex_seed =
			text.trim().strip_prefix("0x").ok_or_else(|| malformed("expected a 0x-hex seed"))?;
		let bytes = hex::decode(hex_seed).map_err(|_| malformed("the seed is not hex"))?;
		let seed: [u8; 32] =
			bytes.try_into().map_err(|_| malformed("an ed25519 seed is 32 bytes"))?;
		Ok(Self::from_seed(seed))
	}

	/// The chain account this key controls: its public key.
	pub fn account(&self) -> AccountId32 {
		AccountId32(self.signing.verifying_key().to_bytes())
	}

	/// The account in the Commons address format.
	pub fn address(&self) -> String {
		ss58(&self.account())
	}

	/// The public key as hex.
	pub fn public_hex(&self) -> String {
		format!("0x{}", hex::encode(self.signing.verifying_key().to_bytes()))
	}

	/// The salt of this key's commitment to job `job` of the chain with `genesis`, whose
	/// content has `digest`: derived from the secret seed, so that nobody else can compute it
	/// and a worker that lost its database commits, and can reveal, the same salt again.
	pub fn salt(&self, genesis: &[u8; 32], job: u64, digest: &[u8; 32]) -> [u8; 32] {
		use codec::Encode;
		let preimage = (SALT_CONTEXT, self.signing.to_bytes(), genesis, job, digest).encode();
		sp_crypto_hashing::blake2_256(&preimage)
	}

	/// An ed25519 signature of `message`.
	pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
		self.signing.sign(message).to_bytes()
	}
}

/// Separates salts from any other hash of the seed.
const SALT_CONTEXT: &[u8] = b"commons/worker/salt/v1";

/// The key file, locked for as long as this lives: one serving process per key file.
pub struct KeyLock {
	_file: fs::File,
}

impl KeyLock {
	/// Locks the key file at `path` (an advisory lock, released when the process ends however
	/// it ends), or fails with [`KeyError::InUse`] when another process holds it.
	pub fn acquire(path: &Path) -> Result<Self, KeyError> {
		let file =
			fs::File::open(path).map_err(|source| KeyError::Io { path: path.into(), source })?;
		match file.try_lock() {
			Ok(()) => Ok(Self { _file: file }),
			Err(fs::TryLockError::WouldBlock) => Err(KeyError::InUse(path.into())),
			Err(fs::TryLockError::Error(source)) => Err(KeyError::Io { path: path.into(), source }),
		}
	}
}

impl subxt::tx::Signer<CommonsConfig> for WorkerKey {
	fn account_id(&self) -> AccountId32 {
		self.account()
	}

	fn sign(&self, signer_payload: &[u8]) -> MultiSignature {
		MultiSignature::Ed25519(self.sign_bytes(signer_payload))
	}
}

#[cfg(test)]
mod tests {
	use std::os::unix::fs::PermissionsExt;

	use ed25519_dalek::{Signature, Verifier};

	use super::*;

	#[test]
	fn a_generated_key_is_written_private_and_read_back() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.key");
		let key = WorkerKey::generate().unwrap();
		key.write_new(&path).unwrap();
		assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
		let read = WorkerKey::read(&path).unwrap();
		assert_eq!(read.account(), key.account());
		let parsed = commons_client::keys::parse_account(&read.address()).unwrap();
		assert_eq!(commons_client::chain::account(&parsed), key.account());
		let signature = Signature::from_bytes(&read.sign_bytes(b"job 7"));
		assert!(key.signing.verifying_key().verify(b"job 7", &signature).is_ok());
	}

	#[test]
	fn a_key_file_serves_one_process_at_a_time() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.key");
		WorkerKey::generate().unwrap().write_new(&path).unwrap();
		let first = KeyLock::acquire(&path).unwrap();
		// Another open file description, as another process would have.
		let second = KeyLock::acquire(&path).err().unwrap();
		assert!(matches!(second, KeyError::InUse(_)), "{second}");
		drop(first);
		KeyLock::acquire(&path).unwrap();
	}

	#[test]
	fn salts_are_fixed_by_key_chain_and_job_and_differ_between_them() {
		let key = WorkerKey::from_seed([1; 32]);
		let salt = key.salt(&[2; 32], 7, &[3; 32]);
		assert_eq!(salt, WorkerKey::from_seed([1; 32]).salt(&[2; 32], 7, &[3; 32]));
		assert_ne!(salt, WorkerKey::from_seed([9; 32]).salt(&[2; 32], 7, &[3; 32]));
		assert_ne!(salt, key.salt(&[4; 32], 7, &[3; 32]));
		assert_ne!(salt, key.salt(&[2; 32], 8, &[3; 32]));
		assert_ne!(salt, key.salt(&[2; 32], 7, &[5; 32]));
	}

	#[test]
	fn an_existing_key_is_never_overwritten() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.key");
		let first = WorkerKey::generate().unwrap();
		first.write_new(&path).unwrap();
		let error = WorkerKey::generate().unwrap().write_new(&path).unwrap_err();
		assert!(matches!(error, KeyError::Exists(_)), "{error}");
		assert_eq!(WorkerKey::read(&path).unwrap().account(), first.account());
	}

	#[test]
	fn unsafe_or_malformed_key_files_are_refused_by_name() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.key");
		WorkerKey::generate().unwrap().write_new(&path).unwrap();
		fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
		let error = WorkerKey::read(&path).err().unwrap();
		assert!(error.to_string().contains("chmod 600"), "{error}");

		for (text, reason) in
			[("hello", "expected a 0x-hex seed"), ("0xzz", "not hex"), ("0x0102", "32 bytes")]
		{
			let bad = dir.path().join(format!("bad-{}.key", text.len()));
			fs::write(&bad, text).unwrap();
			fs::set_permissions(&bad, fs::Permissions::from_mode(0o600)).unwrap();
			let error = WorkerKey::read(&bad).err().unwrap();
			assert!(error.to_string().contains(reason), "{error}");
		}
		let missing = WorkerKey::read(&dir.path().join("missing.key")).err().unwrap();
		assert!(matches!(missing, KeyError::Io { .. }), "{missing}");
	}
}
