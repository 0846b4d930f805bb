//! First-in first-out queues of job ids in storage: a map from position to job id, with the
//! queue's head and tail kept in [`crate::Counters`]. The caller reads the counters once, passes
//! them to every queue operation and writes them back once, so that a hook touching many jobs
//! writes the counters once per block. Pushing and popping touch one entry; the length is
//! bounded by the number of stored jobs, which [`crate::Config::MaxJobs`] bounds.

use crate::{Counters, QueueBounds};
use commons_primitives::JobId;
use frame_support::storage::StorageMap;

/// Which of the counters' queue bounds a queue uses.
pub trait Bounds {
	/// This queue's bounds within `counters`.
	fn of(counters: &mut Counters) -> &mut QueueBounds;
	/// A copy of this queue's bounds.
	fn read(counters: &Counters) -> QueueBounds;
}

/// A queue over a `position → job` map and one of the counters' queue bounds.
pub struct Queue<B, Items>(core::marker::PhantomData<(B, Items)>);

impl<B, Items> Queue<B, Items>
where
	B: Bounds,
	Items: StorageMap<u64, JobId, Query = Option<JobId>>,
{
	/// Appends `job`.
	pub fn push(counters: &mut Counters, job: JobId) {
		let bounds = B::of(counters);
		Items::insert(bounds.tail, job);
		bounds.tail = bounds.tail.saturating_add(1);
	}

	/// The job at the head, if any.
	pub fn peek(counters: &Counters) -> Option<JobId> {
		let bounds = B::read(counters);
		if bounds.head < bounds.tail {
			Items::get(bounds.head)
		} else {
			None
		}
	}

	/// Removes and returns the job at the head.
	pub fn pop(counters: &mut Counters) -> Option<JobId> {
		let bounds = B::of(counters);
		if bounds.head >= bounds.tail {
			return None;
		}
		let job = Items::take(bounds.head);
		bounds.head = bounds.head.saturating_add(1);
		job
	}

	/// How many jobs wait.
	pub fn len(counters: &Counters) -> u64 {
		let bounds = B::read(counters);
		bounds.tail.saturating_sub(bounds.head)
	}
}

/// The queue of jobs that found too few candidates, waiting for another try.
pub struct Retry;
impl Bounds for Retry {
	fn of(counters: &mut Counters) -> &mut QueueBounds {
		&mut counters.retries
	}
	fn read(counters: &Counters) -> QueueBounds {
		counters.retries
	}
}

/// The queue of assigned jobs, in the order their windows end.
pub struct Settlement;
impl Bounds for Settlement {
	fn of(counters: &mut Counters) -> &mut QueueBounds {
		&mut counters.settlement
	}
	fn read(counters: &Counters) -> QueueBounds {
		counters.settlement
	}
}
