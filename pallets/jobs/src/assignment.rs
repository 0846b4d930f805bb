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

/// What a block's draw for one job needs to know besides the job.
pub(crate) struct Terms {
	/// The current block.
	pub now: u64,
	/// How many seats to fill.
	pub needed: u32,
	/// The most blocks a seat may take to compute the job: the longest commit window less the
	/// margin.
	pub longest_compute: u64,
}

/// What a draw found.
pub(crate) struct Draw<AccountId> {
	/// The drawn workers with their declared throughput, if enough were found.
	pub chosen: Option<Vec<(AccountId, u32)>>,
	/// How many worker records it read to check for a free slot.
	pub reads: u32,
}

/// Draws `terms.needed` distinct workers among the model's `candidates` that ask no more than
/// the offered price, are not the requester, hold no seat in the job yet, can compute it
/// within the longest commit window at their declared throughput, and have a free slot; each
/// draw picks a worker with probability proportional to its stake. A worker found with no free
/// slot is dropped from the block's `candidates`, so that later jobs of the block do not read
/// it again; at most `2 × MaxSeats` records are read per job. The job's seed is
/// `blake2_256(block_seed ‖ job id ‖ round)`, where `block_seed` is the block's randomness for
/// the subject `"commons/assign"`.
pub(crate) fn draw<T: Config>(
	job: JobId,
	record: &Job<T>,
	candidates: &mut Vec<CandidateOf<T>>,
	block_seed: &T::Hash,
	terms: &Terms,
) -> Draw<T::AccountId> {
	let needed = terms.needed as usize;
	let work = record.work();
	// An audited job seats only workers whose slash for a wrong answer makes cheating a loss.
	let least_slash = match record.security {
		Security::Audited { rate } => {
			Pallet::<T>::min_audited_slash(record.price_per_replica, rate)
		},
		Security::Replicated => Zero::zero(),
	};
	let slash_share = T::WrongResultSlash::get();
	let mut pool: Vec<CandidateOf<T>> = candidates
		.iter()
		.filter(|candidate| {
			candidate.price <= record.price_per_replica
				&& candidate.worker != record.requester
				&& !candidate.stake.is_zero()
				&& slash_share.mul_floor(candidate.stake) >= least_slash
				&& commons_primitives::compute_blocks(work, candidate.tokens_per_block)
					<= terms.longest_compute
				&& !record.seats.iter().any(|seat| seat.worker == candidate.worker)
		})
		.cloned()
		.collect();
	let mut reads = 0u32;
	if pool.len() < needed {
		return Draw { chosen: None, reads };
	}
	let most_reads = T::MaxSeats::get().saturating_mul(2);
	let seed = sp_io::hashing::blake2_256(&(block_seed, job, record.round).encode());
	let mut chosen = Vec::with_capacity(needed);
	let mut draw_index: u32 = 0;
	while chosen.len() < needed && pool.len() >= needed.saturating_sub(chosen.len()) {
		if reads >= most_reads {
			break;
		}
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
		reads = reads.saturating_add(1);
		if T::Workers::has_free_slot(&candidate.worker, terms.now) {
			chosen.push((candidate.worker, candidate.tokens_per_block));
		} else {
			// Busy for the rest of the block.
			candidates.retain(|other| other.worker != candidate.worker);
		}
	}
	let chosen = (chosen.len() == needed).then_some(chosen);
	Draw { chosen, reads }
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
