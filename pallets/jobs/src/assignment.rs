//! Drawing workers for a job's seats: distinct workers, weighted by stake, from randomness that
//! nobody knew when the job was posted.

use crate::*;
use commons_primitives::Candidate;
use sp_runtime::traits::{Hash as _, UniqueSaturatedInto};

/// Randomness from the parent block's hash.
///
/// Assignment runs at the start of a block after the job's posting block, so the posting block's
/// hash (this block's parent) was unknown to the requester when it signed. The author of the
/// posting block could try several orderings of its transactions to steer the hash; what that
/// bias allows is written down in `docs/security.md`.
pub struct ParentBlockRandomness<T>(core::marker::PhantomData<T>);

impl<T: frame_system::Config> Randomness<T::Hash, BlockNumberFor<T>> for ParentBlockRandomness<T> {
	fn random(subject: &[u8]) -> (T::Hash, BlockNumberFor<T>) {
		let parent = frame_system::Pallet::<T>::parent_hash();
		let now = frame_system::Pallet::<T>::block_number();
		let seed = (subject, parent).using_encoded(T::Hashing::hash);
		(seed, now.saturating_sub(1u32.into()))
	}
}

/// A candidate of a model's index.
pub(crate) type CandidateOf<T> = Candidate<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

/// Draws `replicas` distinct workers among the model's `candidates` that ask no more than the
/// offered price, are not the requester and have room for another job; each draw picks a
/// worker with probability proportional to its stake. The job's seed is
/// `blake2_256(block_seed ‖ job id)`, where `block_seed` is the block's randomness for the
/// subject `"commons/assign"`. `None` if there are too few.
pub(crate) fn draw<T: Config>(
	job: JobId,
	record: &Job<T>,
	candidates: &[CandidateOf<T>],
	block_seed: &T::Hash,
) -> Option<Vec<T::AccountId>> {
	let needed = record.replicas as usize;
	let mut pool: Vec<CandidateOf<T>> = candidates
		.iter()
		.filter(|candidate| {
			candidate.price <= record.price_per_replica
				&& candidate.worker != record.requester
				&& !candidate.stake.is_zero()
		})
		.cloned()
		.collect();
	if pool.len() < needed {
		return None;
	}
	let seed = sp_io::hashing::blake2_256(&(block_seed, job).encode());
	let mut chosen = Vec::with_capacity(needed);
	let mut draw_index: u32 = 0;
	while chosen.len() < needed && !pool.is_empty() {
		let total: u128 = pool.iter().fold(0u128, |total, candidate| {
			total.saturating_add(candidate.stake.unique_saturated_into())
		});
		let point = random_below(&seed, draw_index, total);
		draw_index = draw_index.saturating_add(1);
		let mut cumulative: u128 = 0;
		let Some(position) = pool.iter().position(|candidate| {
			cumulative = cumulative.saturating_add(candidate.stake.unique_saturated_into());
			point < cumulative
		}) else {
			break;
		};
		let candidate = pool.swap_remove(position);
		// A worker with a full job list is passed over; the pool shrinks either way.
		if T::Workers::has_room(&candidate.worker) {
			chosen.push(candidate.worker);
		}
	}
	(chosen.len() == needed).then_some(chosen)
}

/// A number in `0..bound` from the seed and the draw's index (0 when `bound` is 0).
fn random_below<H: AsRef<[u8]> + Encode>(seed: &H, index: u32, bound: u128) -> u128 {
	if bound == 0 {
		return 0;
	}
	let bytes = sp_io::hashing::blake2_256(&(seed, index).encode());
	let mut word = [0u8; 16];
	word.copy_from_slice(bytes.get(..16).unwrap_or(&[0u8; 16]));
	// 256 bits reduced to 128 then modulo: the bias is below 2^-64 for any realistic total stake.
	u128::from_le_bytes(word).checked_rem(bound).unwrap_or(0)
}
