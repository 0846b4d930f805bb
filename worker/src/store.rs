//! The worker's local record of what it committed to, in an embedded database (redb).
//!
//! A record is written, and made durable, before the commitment is sent: a worker that crashes or
//! is restarted between commit and reveal still holds the output and salt the commitment hides,
//! and reveals on time instead of being slashed for a no-show.

use std::path::Path;

use codec::{Decode, Encode};
use commons_primitives::{JobId, ModelId, OutputHash, Salt, TokenId};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("commitments");

/// What a worker committed to for one job.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Record {
	/// The job's model.
	pub model: ModelId,
	/// The generated token ids.
	pub output: Vec<TokenId>,
	/// Their hash, as the chain computes it.
	pub output_hash: OutputHash,
	/// The salt mixed into the commitment.
	pub salt: Salt,
}

/// The database could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("worker database: {0}")]
pub struct StoreError(#[from] redb::Error);

macro_rules! store_error_from {
	($($error:ty),*) => {$(
		impl From<$error> for StoreError {
			fn from(error: $error) -> Self {
				Self(error.into())
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
}

impl Store {
	/// Opens (or creates) the database at `path`.
	pub fn open(path: &Path) -> Result<Self, StoreError> {
		let db = Database::create(path)?;
		// Create the table once so that readers never meet a missing one.
		let tx = db.begin_write()?;
		tx.open_table(RECORDS)?;
		tx.commit()?;
		Ok(Self { db })
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

	/// The record for `job`, if any. A record that no longer decodes is reported as missing.
	pub fn get(&self, job: JobId) -> Result<Option<Record>, StoreError> {
		let tx = self.db.begin_read()?;
		let table = tx.open_table(RECORDS)?;
		let record = table.get(job)?.and_then(|bytes| Record::decode(&mut bytes.value()).ok());
		Ok(record)
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
}

#[cfg(test)]
mod tests {
	use super::*;

	fn record(seed: u8) -> Record {
		Record {
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
}
