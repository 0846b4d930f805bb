//! The worker's local record of what it committed to, in an embedded database (redb).
//!
//! A record is written, and made durable, before the commitment is sent: a worker that crashes or
//! is restarted between commit and reveal still holds the output and salt the commitment hides,
//! and reveals on time instead of being slashed for a no-show.
//!
//! The database knows what it answers: it is bound to one chain (its genesis hash) and one key
//! the first time the worker connects, and refuses any other, since job ids restart on a
//! relaunched chain and another chain's output for "job 5" would be a wrong answer here. Each
//! record carries a digest of the job it was computed for, checked against the chain's job
//! before it is used. A record that cannot be read is an error, reported with its job, never
//! taken for a missing one.

use std::path::{Path, PathBuf};

use codec::{Decode, Encode};
use commons_primitives::{JobId, ModelId, OutputHash, Salt, TokenId};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("commitments");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The genesis hash of the chain the records answer.
const GENESIS: &str = "genesis";
/// The account that committed them.
const ACCOUNT: &str = "account";
/// The layout of the records: absent before records carried their job's digest.
const FORMAT: &str = "format";
/// The layout written by this release.
const CURRENT_FORMAT: u32 = 1;

/// A digest of what a job asks (`blake2_256` of its requester, model, engine version, prompt,
/// token budget, sampling and posting block): the same job id on a relaunched chain, or after a
/// fork replaced it, is a different job.
pub type JobDigest = [u8; 32];

/// What a worker committed to for one job.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Record {
	/// The job it answers; `None` for a record written before records carried it.
	pub job: Option<JobDigest>,
	/// The job's model.
	pub model: ModelId,
	/// The generated token ids.
	pub output: Vec<TokenId>,
	/// Their hash, as the chain computes it.
	pub output_hash: OutputHash,
	/// The salt mixed into the commitment.
	pub salt: Salt,
}

/// A record as releases before [`CURRENT_FORMAT`] wrote it.
#[derive(Decode)]
struct RecordWithoutDigest {
	model: ModelId,
	output: Vec<TokenId>,
	output_hash: OutputHash,
	salt: Salt,
}

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// redb could not open, read or write it.
	#[error("worker database: {0}")]
	Database(#[from] redb::Error),
	/// It holds the records of another chain.
	#[error(
		"worker database {path}: written for the chain with genesis 0x{expected}, but the node \
		 serves the chain with genesis 0x{found}; job ids mean other jobs there. Give this chain \
		 its own database (`--database`), or connect to the chain the database belongs to"
	)]
	OtherChain {
		/// The database.
		path: PathBuf,
		/// The genesis it was bound to, hex.
		expected: String,
		/// The node's, hex.
		found: String,
	},
	/// It holds another key's records.
	#[error(
		"worker database {path}: written by the worker {expected}, not by this key ({found}); \
		 each key needs its own database"
	)]
	OtherKey {
		/// The database.
		path: PathBuf,
		/// The account it was bound to, hex.
		expected: String,
		/// This key's, hex.
		found: String,
	},
	/// A record is not in any layout this release knows.
	#[error(
		"worker database {path}: the record of job {job} cannot be read ({reason}); it was kept \
		 aside, and the job is answered from a fresh run whose commitment is checked against the \
		 chain's"
	)]
	Unreadable {
		/// The database.
		path: PathBuf,
		/// The job.
		job: JobId,
		/// What failed.
		reason: String,
	},
	/// The database was written by a newer release.
	#[error(
		"worker database {path}: written in layout {format}, newer than this release's \
		 ({CURRENT_FORMAT}); run the release that wrote it"
	)]
	Newer {
		/// The database.
		path: PathBuf,
		/// Its layout.
		format: u32,
	},
}

macro_rules! store_error_from {
	($($error:ty),*) => {$(
		impl From<$error> for StoreError {
			fn from(error: $error) -> Self {
				Self::Database(error.into())
			}
		}
	)*};
}
store_error_from!(
	redb::DatabaseError,
	redb::TransactionError,
	redb::TableError,
	redb::StorageError,
	redb::CommitError
);

/// Records by job id.
pub struct Store {
	db: Database,
	path: PathBuf,
}

/// Records that could not be read, kept for inspection.
const UNREADABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("unreadable");

impl Store {
	/// Opens (or creates) the database at `path`, bringing records of an older layout to the
	/// current one. redb holds the file locked: a second process cannot open it.
	pub fn open(path: &Path) -> Result<Self, StoreError> {
		let db = Database::create(path)?;
		let store = Self { db, path: path.to_path_buf() };
		let tx = store.db.begin_write()?;
		{
			// Create the tables once so that readers never meet a missing one.
			let mut records = tx.open_table(RECORDS)?;
			tx.open_table(UNREADABLE)?;
			let mut meta = tx.open_table(META)?;
			let format = match meta.get(FORMAT)? {
				Some(bytes) => u32::decode(&mut bytes.value()).unwrap_or(u32::MAX),
				None => 0,
			};
			if format > CURRENT_FORMAT {
				return Err(StoreError::Newer { path: store.path.clone(), format });
			}
			if format == 0 {
				let mut upgraded = Vec::new();
				for entry in records.iter()? {
					let (job, bytes) = entry?;
					if let Ok(old) = RecordWithoutDigest::decode(&mut bytes.value()) {
						let record = Record {
							job: None,
							model: old.model,
							output: old.output,
							output_hash: old.output_hash,
							salt: old.salt,
						};
						upgraded.push((job.value(), record.encode()));
					}
				}
				for (job, bytes) in upgraded {
					records.insert(job, bytes.as_slice())?;
				}
			}
			meta.insert(FORMAT, CURRENT_FORMAT.encode().as_slice())?;
		}
		tx.commit()?;
		Ok(store)
	}

	/// Binds the database to the chain with `genesis` and to `account` the first time, and
	/// refuses another chain or another account afterwards.
	pub fn bind(&self, genesis: [u8; 32], account: [u8; 32]) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		{
			let mut meta = tx.open_table(META)?;
			let bound = |key: &str, given: [u8; 32]| -> Result<Option<String>, StoreError> {
				Ok(meta
					.get(key)?
					.map(|bytes| bytes.value().to_vec())
					.filter(|stored| stored.as_slice() != given.as_slice())
					.map(hex::encode))
			};
			if let Some(expected) = bound(GENESIS, genesis)? {
				let found = hex::encode(genesis);
				return Err(StoreError::OtherChain { path: self.path.clone(), expected, found });
			}
			if let Some(expected) = bound(ACCOUNT, account)? {
				let found = hex::encode(account);
				return Err(StoreError::OtherKey { path: self.path.clone(), expected, found });
			}
			meta.insert(GENESIS, genesis.as_slice())?;
			meta.insert(ACCOUNT, account.as_slice())?;
		}
		tx.commit()?;
		Ok(())
	}

	/// Stores `record` for `job`, durably, replacing any earlier one.
	pub fn put(&self, job: JobId, record: &Record) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		{
			let mut table = tx.open_table(RECORDS)?;
			table.insert(job, record.encode().as_slice())?;
		}
		tx.commit()?;
		Ok(())
	}

	/// The record for `job`, if any. A record that does not decode is moved to a table of its
	/// own, where it stays for inspection, and reported as [`StoreError::Unreadable`]; the next
	/// read finds none.
	pub fn get(&self, job: JobId) -> Result<Option<Record>, StoreError> {
		let bytes = {
			let tx = self.db.begin_read()?;
			let table = tx.open_table(RECORDS)?;
			let Some(bytes) = table.get(job)? else { return Ok(None) };
			bytes.value().to_vec()
		};
		let reason = match Record::decode(&mut bytes.as_slice()) {
			Ok(record) => return Ok(Some(record)),
			Err(error) => error.to_string(),
		};
		let tx = self.db.begin_write()?;
		{
			tx.open_table(UNREADABLE)?.insert(job, bytes.as_slice())?;
			tx.open_table(RECORDS)?.remove(job)?;
		}
		tx.commit()?;
		Err(StoreError::Unreadable { path: self.path.clone(), job, reason })
	}

	/// Forgets `job` once the chain holds its reveal.
	pub fn remove(&self, job: JobId) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		{
			let mut table = tx.open_table(RECORDS)?;
			table.remove(job)?;
		}
		tx.commit()?;
		Ok(())
	}

	/// The jobs with a record, oldest first.
	pub fn jobs(&self) -> Result<Vec<JobId>, StoreError> {
		let tx = self.db.begin_read()?;
		let table = tx.open_table(RECORDS)?;
		let mut jobs = Vec::new();
		for entry in table.iter()? {
			jobs.push(entry?.0.value());
		}
		Ok(jobs)
	}

	/// Writes raw bytes as `job`'s record (tests of unreadable records).
	#[cfg(test)]
	fn put_raw(&self, job: JobId, bytes: &[u8]) -> Result<(), StoreError> {
		let tx = self.db.begin_write()?;
		tx.open_table(RECORDS)?.insert(job, bytes)?;
		tx.commit()?;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn record(seed: u8) -> Record {
		Record {
			job: Some([seed; 32]),
			model: 0,
			output: vec![1, 2, u32::from(seed)],
			output_hash: [seed; 32],
			salt: [7; 32],
		}
	}

	#[test]
	fn records_survive_reopening_and_are_removed_by_job() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		{
			let store = Store::open(&path).unwrap();
			store.put(4, &record(4)).unwrap();
			store.put(9, &record(9)).unwrap();
		}
		let store = Store::open(&path).unwrap();
		assert_eq!(store.get(4).unwrap(), Some(record(4)));
		assert_eq!(store.jobs().unwrap(), vec![4, 9]);
		store.remove(4).unwrap();
		assert_eq!(store.get(4).unwrap(), None);
		assert_eq!(store.jobs().unwrap(), vec![9]);
		assert_eq!(store.get(12).unwrap(), None);
	}

	#[test]
	fn a_file_that_is_not_a_database_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		std::fs::write(&path, b"not a database").unwrap();
		let error = Store::open(&path).err().unwrap();
		assert!(error.to_string().starts_with("worker database:"), "{error}");
	}

	#[test]
	fn a_database_of_another_chain_or_key_is_refused_and_left_as_it_was() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		let store = Store::open(&path).unwrap();
		store.bind([1; 32], [2; 32]).unwrap();
		store.put(5, &record(5)).unwrap();
		// Binding again to the same chain and key is how every start begins.
		store.bind([1; 32], [2; 32]).unwrap();
		drop(store);

		let store = Store::open(&path).unwrap();
		let relaunched = store.bind([9; 32], [2; 32]).unwrap_err();
		assert!(matches!(relaunched, StoreError::OtherChain { .. }), "{relaunched}");
		let message = relaunched.to_string();
		assert!(message.contains(&hex::encode([1u8; 32])), "{message}");
		assert!(message.contains(&hex::encode([9u8; 32])), "{message}");
		let other_key = store.bind([1; 32], [3; 32]).unwrap_err();
		assert!(matches!(other_key, StoreError::OtherKey { .. }), "{other_key}");
		// Nothing was rebound or lost.
		store.bind([1; 32], [2; 32]).unwrap();
		assert_eq!(store.get(5).unwrap(), Some(record(5)));
	}

	#[test]
	fn an_unreadable_record_is_an_error_once_and_is_kept_aside() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		let store = Store::open(&path).unwrap();
		store.put_raw(3, &[0xff, 0x01]).unwrap();
		let error = store.get(3).unwrap_err();
		assert!(matches!(error, StoreError::Unreadable { job: 3, .. }), "{error}");
		assert!(error.to_string().contains("job 3"), "{error}");
		assert_eq!(store.get(3).unwrap(), None);
		let tx = store.db.begin_read().unwrap();
		let kept = tx.open_table(UNREADABLE).unwrap();
		assert_eq!(kept.get(3).unwrap().unwrap().value(), &[0xff, 0x01]);
	}

	#[test]
	fn records_written_before_the_job_digest_are_read_after_an_update() {
		#[derive(Encode)]
		struct Old {
			model: ModelId,
			output: Vec<TokenId>,
			output_hash: OutputHash,
			salt: Salt,
		}
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		{
			// The previous release's database: the records table alone.
			let db = Database::create(&path).unwrap();
			let tx = db.begin_write().unwrap();
			let old = Old { model: 0, output: vec![5, 6], output_hash: [4; 32], salt: [3; 32] };
			tx.open_table(RECORDS).unwrap().insert(8, old.encode().as_slice()).unwrap();
			tx.commit().unwrap();
		}
		let store = Store::open(&path).unwrap();
		let expected =
			Record { job: None, model: 0, output: vec![5, 6], output_hash: [4; 32], salt: [3; 32] };
		assert_eq!(store.get(8).unwrap(), Some(expected));
	}

	#[test]
	fn a_second_process_cannot_open_the_database() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.redb");
		let _first = Store::open(&path).unwrap();
		let second = Store::open(&path).err().unwrap();
		assert!(second.to_string().contains("worker database"), "{second}");
	}
}
