//! First-in first-out queues of job ids in storage: a map from position to job id and a pair of
//! counters. Pushing and popping touch one entry; the length is bounded by the number of stored
//! jobs, which [`crate::Config::MaxJobs`] bounds.

use commons_primitives::JobId;
use frame_support::storage::{StorageMap, StorageValue};

/// A queue over a `(head, tail)` value and a `position → job` map.
pub struct Queue<Bounds, Items>(core::marker::PhantomData<(Bounds, Items)>);

impl<Bounds, Items> Queue<Bounds, Items>
where
	Bounds: StorageValue<(u64, u64), Query = (u64, u64)>,
	Items: StorageMap<u64, JobId, Query = Option<JobId>>,
{
	/// Appends `job`.
	pub fn push(job: JobId) {
		let (head, tail) = Bounds::get();
		Items::insert(tail, job);
		Bounds::put((head, tail.saturating_add(1)));
	}

	/// The job at the head, if any.
	pub fn peek() -> Option<JobId> {
		let (head, tail) = Bounds::get();
		if head < tail {
			Items::get(head)
		} else {
			None
		}
	}

	/// Removes and returns the job at the head.
	pub fn pop() -> Option<JobId> {
		let (head, tail) = Bounds::get();
		if head >= tail {
			return None;
		}
		let job = Items::take(head);
		Bounds::put((head.saturating_add(1), tail));
		job
	}

	/// How many jobs wait.
	pub fn len() -> u64 {
		let (head, tail) = Bounds::get();
		tail.saturating_sub(head)
	}
}
