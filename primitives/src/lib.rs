//! Types and traits shared by the Commons pallets, the worker and the client.
//!
//! The marketplace pallets never read each other's storage: `jobs` reaches the model registry
//! through [`ModelRegistry`], the worker registry through [`WorkerRegistry`] and the reward
//! accounting through [`WorkRewards`]. The hash definitions here are the ones a worker computes
//! off chain and the chain checks on chain, so both sides link the same code.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod prompt;

/// The native token, its decimals and the network's address format: the runtime counts in
/// these units and every client shows them.
pub mod currency {
	/// An amount in the smallest unit.
	pub type Balance = u128;

	/// Ticker of the native token.
	pub const TOKEN_SYMBOL: &str = "CMN";
	/// Decimal places of the native token.
	pub const TOKEN_DECIMALS: u8 = 12;
	/// SS58 address prefix of Commons networks (unregistered in the public SS58 registry).
	pub const SS58_PREFIX: u16 = 7342;

	/// One CMN.
	pub const UNIT: Balance = 1_000_000_000_000;
	/// One thousandth of a CMN.
	pub const MILLI_UNIT: Balance = 1_000_000_000;
	/// One millionth of a CMN.
	pub const MICRO_UNIT: Balance = 1_000_000;
	/// Below this an account is removed; it stops dust accounts from bloating state.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
}

/// Two-second blocks on every network: commit and reveal windows are counted in blocks, and a
/// short block keeps a job's post-to-settled latency low. Aura fixes the slot duration for the
/// life of a chain, so it is one constant rather than a per-network setting.
pub const MILLI_SECS_PER_BLOCK: u64 = 2000;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::Get,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
	BoundedVec,
};
use scale_info::TypeInfo;
use sp_runtime::{traits::Zero, DispatchError, DispatchResult, Perbill};

/// Identifies a registered model.
pub type ModelId = u32;
/// Identifies a job.
pub type JobId = u64;
/// A token id of a model's vocabulary.
pub type TokenId = u32;
/// A worker's commitment to an output: see [`commitment`].
pub type Commitment = [u8; 32];
/// The hash of an output: see [`output_hash`].
pub type OutputHash = [u8; 32];
/// The secret a worker mixes into its commitment so that nobody can guess it from the output.
pub type Salt = [u8; 32];

/// Where a model stands in the registry.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum ModelStatus {
	/// New jobs may be posted for it.
	Active,
	/// No new jobs; jobs already posted finish.
	Deprecated,
	/// Banned by governance: no new jobs; jobs already posted finish.
	Banned,
}

/// What a job needs to know about its model when it is posted.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelTerms<Balance> {
	/// Whether new jobs are accepted.
	pub status: ModelStatus,
	/// The lowest price per replica a job may offer.
	pub min_price: Balance,
	/// The engine version whose kernels workers must run; part of the output hash.
	pub engine_version: u32,
}

/// The model registry, as the jobs pallet sees it.
pub trait ModelRegistry<Balance> {
	/// The terms of `model`, or `None` if no such model is registered.
	fn terms(model: ModelId) -> Option<ModelTerms<Balance>>;
	/// A job of `model` may be live until block `until`: the model cannot be deregistered
	/// before. Returns whether the registry wrote anything (a reservation that already reaches
	/// `until` is left alone), so that the caller can refund the write it was charged for.
	fn reserve(model: ModelId, until: u64) -> Result<bool, DispatchError>;
}

/// What a worker declares it can serve: the protocol never seats it beyond this, and a job's
/// commit window follows from the job's size and the throughput of its seated workers.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Capacity {
	/// How many jobs it computes at once: a seat occupies a slot from assignment until the
	/// time its declared throughput needs for the job has passed.
	pub slots: u32,
	/// The tokens (prompt and generated, see [`job_work`]) one slot processes per block.
	pub tokens_per_block: u32,
}

/// Sampling temperatures are fixed point with three decimals: 1000 is 1.0.
pub const TEMPERATURE_ONE: u32 = 1000;
/// The highest temperature a job may ask for (4.0).
pub const MAX_TEMPERATURE: u32 = 4 * TEMPERATURE_ONE;
/// The largest top-k a job may ask for.
pub const MAX_TOP_K: u32 = 1024;

/// The tokens a chat template may add around a prompt. A prompt whose tokens, template
/// included, outnumber its bytes plus this allowance yields an empty output (docs/protocol.md),
/// so that [`job_work`] bounds the work of every job.
pub const PROMPT_TEMPLATE_TOKENS: u32 = 64;

/// The most tokens a job makes a worker process: its prompt bytes (a byte-level tokenizer
/// makes at most one token per byte), the template's allowance and the tokens it may generate.
pub fn job_work(prompt_len: u32, max_tokens: u32) -> u64 {
	u64::from(prompt_len)
		.saturating_add(u64::from(PROMPT_TEMPLATE_TOKENS))
		.saturating_add(u64::from(max_tokens))
}

/// The blocks a slot declared at `tokens_per_block` needs for `work` tokens (rounded up; a
/// throughput of zero never finishes).
pub fn compute_blocks(work: u64, tokens_per_block: u32) -> u64 {
	match u64::from(tokens_per_block) {
		0 => u64::MAX,
		rate => work.div_ceil(rate),
	}
}

/// A worker that may be assigned a job, as the worker registry's per-model index holds it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Candidate<AccountId, Balance> {
	/// The worker's account.
	pub worker: AccountId,
	/// Its bonded stake: the assignment weight.
	pub stake: Balance,
	/// The lowest price per replica it serves for.
	pub price: Balance,
	/// The tokens per block each of its slots processes: the job's windows follow from it.
	pub tokens_per_block: u32,
}

/// The market price of a model: the stake-weighted median of its candidates' asks, the lowest
/// ask at which the candidates asking no more hold at least half of the listed stake (`None`
/// for an index without stake).
///
/// A job must offer at least this much, so that the workers eligible for any job hold at least
/// half of the model's stake: asking below the market buys a worker no eligibility, and a
/// cartel that prices low is never the whole eligible set unless it holds half the stake.
pub fn market_price<AccountId, Balance>(
	candidates: &[Candidate<AccountId, Balance>],
) -> Option<Balance>
where
	Balance: Copy + Ord + sp_runtime::traits::UniqueSaturatedInto<u128>,
{
	let stake = |candidate: &Candidate<AccountId, Balance>| -> u128 {
		candidate.stake.unique_saturated_into()
	};
	let total =
		candidates.iter().fold(0u128, |total, candidate| total.saturating_add(stake(candidate)));
	if total == 0 {
		return None;
	}
	let mut asks: alloc::vec::Vec<(Balance, u128)> =
		candidates.iter().map(|candidate| (candidate.price, stake(candidate))).collect();
	asks.sort_unstable_by_key(|(price, _)| *price);
	let half = total.div_ceil(2);
	let mut cumulative: u128 = 0;
	asks.into_iter().find_map(|(price, stake)| {
		cumulative = cumulative.saturating_add(stake);
		(cumulative >= half).then_some(price)
	})
}

/// How a worker did in a settled job; kept as its reputation.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Outcome {
	/// Revealed the accepted output and was paid.
	Accepted,
	/// Revealed an output that disagreed with the accepted one.
	WrongResult,
	/// Did not commit, or committed and did not reveal.
	NoShow,
}

/// The worker registry, as the jobs pallet sees it.
pub trait WorkerRegistry<AccountId, Balance> {
	/// The most candidates one model's index holds.
	type MaxCandidates: Get<u32>;

	/// The workers that may be assigned a job for `model` now: registered, online, staked at
	/// least the minimum. Read from one bounded index, never by scanning all workers.
	fn candidates(model: ModelId)
		-> BoundedVec<Candidate<AccountId, Balance>, Self::MaxCandidates>;
	/// Whether `who` is a registered worker.
	fn is_registered(who: &AccountId) -> bool;
	/// The most live jobs one worker holds seats in at a time.
	type MaxLiveJobs: Get<u32>;
	/// The live jobs `who` holds a seat in, oldest first (empty for an unknown worker).
	fn live_jobs(who: &AccountId) -> BoundedVec<JobId, Self::MaxLiveJobs>;
	/// Whether `who` is registered, has a slot free at block `now` (its declared capacity) and
	/// room in its list of live jobs.
	fn has_free_slot(who: &AccountId, now: u64) -> bool;
	/// `who` was assigned a seat in `job` at `now`, and its slot computes it until `busy_until`:
	/// it cannot deregister or withdraw until released. Fails when `who` is not registered, has
	/// no free slot or already holds [`Self::MaxLiveJobs`] jobs.
	fn note_assigned(who: &AccountId, job: JobId, now: u64, busy_until: u64) -> DispatchResult;
	/// `who` committed to its output for `job`: the slot computing it is free again.
	fn note_committed(who: &AccountId, job: JobId);
	/// `job`, in which `who` had a seat, was settled with `outcome` for that seat (`None`: no
	/// verdict on it, as for a reveal in a job without a majority). One write of the worker's
	/// record releases the job and counts the outcome in its reputation.
	fn note_settled(who: &AccountId, job: JobId, outcome: Option<Outcome>);
	/// Takes `fraction` of `who`'s stake, bonded first and then unbonding, and pays it to the
	/// treasury (burning what the treasury cannot receive); returns the amount taken. Slashed
	/// stake never goes to a party of the job, so that nobody profits from a failed job.
	fn slash(who: &AccountId, fraction: Perbill) -> Balance;
	/// The weight of one `slash`: charged for each seat a settlement slashes, on top of the
	/// settlement itself.
	fn slash_weight() -> frame_support::weights::Weight;
}

/// Protocol fees and the work that earns emission, as the jobs pallet sees them.
pub trait WorkRewards<AccountId, Balance> {
	/// The protocol fee owed on top of a payment of `payment` to a worker.
	fn protocol_fee(payment: Balance) -> Balance;
	/// The account that receives protocol fees.
	fn fee_destination() -> AccountId;
	/// `worker` was paid `payment` for verified work, and `fee` went to the treasury for it.
	fn note_paid_work(worker: &AccountId, payment: Balance, fee: Balance);
}

/// Moves `amount` of `source`'s funds held for `reason` into `dest`'s free balance and returns
/// what moved: nothing when the transfer is impossible (for example into an account that could
/// not exist with so little), so that settlement code never fails half-way and leaves the rest on
/// hold for the caller to account for.
pub fn pay_from_hold<AccountId, Currency: MutateHold<AccountId>>(
	reason: &Currency::Reason,
	source: &AccountId,
	dest: &AccountId,
	amount: Currency::Balance,
	precision: Precision,
) -> Currency::Balance {
	if amount.is_zero() {
		return amount;
	}
	Currency::transfer_on_hold(
		reason,
		source,
		dest,
		amount,
		precision,
		Restriction::Free,
		Fortitude::Force,
	)
	.unwrap_or_else(|_| Zero::zero())
}

/// The hash that replicas of a job must agree on: it covers the engine version, the model and
/// the generated token ids, SCALE-encoded in that order (the token ids with their length).
pub fn output_hash(engine_version: u32, model: ModelId, tokens: &[TokenId]) -> OutputHash {
	sp_crypto_hashing::blake2_256(&(engine_version, model, tokens).encode())
}

/// A worker's commitment: `blake2_256(output_hash ‖ salt ‖ worker account)`, the account in its
/// SCALE encoding. Binding the account stops a worker from copying another's commitment.
pub fn commitment<AccountId: Encode>(
	output_hash: &OutputHash,
	salt: &Salt,
	worker: &AccountId,
) -> Commitment {
	let mut preimage = alloc::vec::Vec::with_capacity(96);
	preimage.extend_from_slice(output_hash);
	preimage.extend_from_slice(salt);
	worker.encode_to(&mut preimage);
	sp_crypto_hashing::blake2_256(&preimage)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn candidate(worker: u8, stake: u128, price: u128) -> Candidate<u8, u128> {
		Candidate { worker, stake, price, tokens_per_block: 1 }
	}

	#[test]
	fn market_price_is_the_stake_weighted_median_ask() {
		assert_eq!(market_price::<u8, u128>(&[]), None);
		assert_eq!(market_price(&[candidate(0, 0, 5)]), None);
		assert_eq!(market_price(&[candidate(0, 10, 5)]), Some(5));
		// Three equal stakes: the middle ask, whatever the order.
		let even = [candidate(0, 10, 9), candidate(1, 10, 1), candidate(2, 10, 5)];
		assert_eq!(market_price(&even), Some(5));
		// Many cheap accounts with little stake do not move it.
		let mut sybils: alloc::vec::Vec<_> = (0..20).map(|i| candidate(i, 1, 1)).collect();
		sybils.extend([candidate(100, 100, 7), candidate(101, 100, 8)]);
		assert_eq!(market_price(&sybils), Some(7));
		// Exactly half at the lowest ask: that ask.
		assert_eq!(market_price(&[candidate(0, 10, 1), candidate(1, 10, 3)]), Some(1));
		// Stakes near the top of u128 saturate instead of overflowing.
		assert_eq!(
			market_price(&[candidate(0, u128::MAX, 2), candidate(1, u128::MAX, 3)]),
			Some(2)
		);
	}

	#[test]
	fn output_hash_covers_engine_model_and_tokens() {
		let base = output_hash(1, 0, &[1, 2, 3]);
		assert_ne!(base, output_hash(2, 0, &[1, 2, 3]));
		assert_ne!(base, output_hash(1, 1, &[1, 2, 3]));
		assert_ne!(base, output_hash(1, 0, &[1, 2]));
		assert_ne!(base, output_hash(1, 0, &[1, 2, 3, 0]));
		assert_eq!(base, output_hash(1, 0, &[1, 2, 3]));
	}

	#[test]
	fn commitment_binds_hash_salt_and_worker() {
		let hash = output_hash(1, 0, &[7]);
		let base = commitment(&hash, &[1; 32], &[9u8; 32]);
		assert_ne!(base, commitment(&output_hash(1, 0, &[8]), &[1; 32], &[9u8; 32]));
		assert_ne!(base, commitment(&hash, &[2; 32], &[9u8; 32]));
		assert_ne!(base, commitment(&hash, &[1; 32], &[8u8; 32]));
		let mut preimage = hash.to_vec();
		preimage.extend_from_slice(&[1; 32]);
		preimage.extend_from_slice(&[9; 32]);
		assert_eq!(base, sp_crypto_hashing::blake2_256(&preimage));
	}
}
