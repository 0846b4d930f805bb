//! First-in first-out queues of job ids in storage: a map from position to job id, with the
//! queue's head and tail kept in [`crate::JobCounters`]. Pushing and popping touch one entry and
//! the counters; the length is bounded by the number of stored jobs, which
//! [`crate::Config::MaxJobs`] bounds.

use crate::{Config, Counters, JobCounters, QueueBounds};
use commons_primitives::JobId;
use frame_support::storage::StorageMap;

/// Which of the counters' queue bounds a queue uses.
pub trait Bounds {
	/// This queue's bounds within `counters`.
	fn of(counters: &mut Counters) -> &mut QueueBounds;
}

/// A queue over a `position → job` map and one of the counters' queue bounds.
pub struct Queue<T, B, Items>(core::marker::PhantomData<(T, B, Items)>);

impl<T, B, Items> Queue<T, B, Items>
where
	T: Config,
	B: Bounds,
	Items: StorageMap<u64, JobId, Query = Option<JobId>>,
{
	/// Appends `job`.
	pub fn push(job: JobId) {
		JobCounters::<T>::mutate(|counters| {
			let bounds = B::of(counters);
			Items::insert(bounds.tail, job);
			bounds.tail = bounds.tail.saturating_add(1);
		});
	}

	/// The job at the head, if any.
	pub fn peek() -> Option<JobId> {
		let mut counters = JobCounters::<T>::get();
		let bounds = B::of(&mut counters);
		if bounds.head < bounds.tail {
			Items::get(bounds.head)
		} else {
			None
		}
	}

	/// Removes and returns the job at the head.
	pub fn pop() -> Option<JobId> {
		JobCounters::<T>::mutate(|counters| {
			let bounds = B::of(counters);
			if bounds.head >= bounds.tail {
				return None;
			}
			let job = Items::take(bounds.head);
			bounds.head = bounds.head.saturating_add(1);
			job
		})
	}

	/// How many jobs wait.
	pub fn len() -> u64 {
		let mut counters = JobCounters::<T>::get();
		let bounds = B::of(&mut counters);
		bounds.tail.saturating_sub(bounds.head)
	}
}

/// The queue of jobs that found too few candidates, waiting for another try.
pub struct Retry;
impl Bounds for Retry {
	fn of(counters: &mut Counters) -> &mut QueueBounds {
		&mut counters.retries
	}
}

/// The queue of assigned jobs, in the order their windows end.
pub struct Settlement;
impl Bounds for Settlement {
	fn of(counters: &mut Counters) -> &mut QueueBounds {
		&mut counters.settlement
	}
}
