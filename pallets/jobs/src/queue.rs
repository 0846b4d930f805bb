//! First-in first-out queues in storage: a map from position to item, with the queue's head and
//! tail kept in [`crate::Counters`]. The caller reads the counters once, passes them to every
//! queue operation and writes them back once, so that a hook touching many jobs writes the
//! counters once per block. Pushing and popping touch one entry; the length is bounded by the
//! number of stored jobs, which [`crate::Config::MaxJobs`] bounds.

use crate::{Counters, QueueBounds};
use frame_support::storage::StorageMap;

/// Which of the counters' queue bounds a queue uses.
pub trait Bounds {
	/// This queue's bounds within `counters`.
	fn of(counters: &mut Counters) -> &mut QueueBounds;
	/// A copy of this queue's bounds.
	fn read(counters: &Counters) -> QueueBounds;
}

/// A queue of `V` over a `position → V` map and one of the counters' queue bounds.
pub struct Queue<B, V, Items>(core::marker::PhantomData<(B, V, Items)>);

impl<B, V, Items> Queue<B, V, Items>
where
	B: Bounds,
	V: codec::FullCodec,
	Items: StorageMap<u64, V, Query = Option<V>>,
{
	/// Appends `item`.
	pub fn push(counters: &mut Counters, item: V) {
		let bounds = B::of(counters);
		Items::insert(bounds.tail, item);
		bounds.tail = bounds.tail.saturating_add(1);
	}

	/// The item at the head, if any.
	pub fn peek(counters: &Counters) -> Option<V> {
		let bounds = B::read(counters);
		if bounds.head < bounds.tail {
			Items::get(bounds.head)
		} else {
			None
		}
	}

	/// Removes and returns the item at the head.
	pub fn pop(counters: &mut Counters) -> Option<V> {
		let bounds = B::of(counters);
		if bounds.head >= bounds.tail {
			return None;
		}
		let item = Items::take(bounds.head);
		bounds.head = bounds.head.saturating_add(1);
		item
	}

	/// How many items wait.
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

/// The queue of assignment batches (the jobs one block assigned), in the order their windows
/// end.
pub struct Settlement;
impl Bounds for Settlement {
	fn of(counters: &mut Counters) -> &mut QueueBounds {
		&mut counters.settlement
	}
	fn read(counters: &Counters) -> QueueBounds {
		counters.settlement
	}
}
