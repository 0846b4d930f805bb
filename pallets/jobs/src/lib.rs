//! # Jobs
//!
//! The life of an inference job: a requester posts it and the chain holds the payment in escrow;
//! in a later block the chain draws staked workers for its seats, weighted by stake, from
//! randomness nobody knew when the job was posted; each worker commits to its output, then
//! reveals it; the chain settles the job when the last reveal arrives or the reveal window ends:
//!
//! - **Accepted**: a majority of the replicas asked for revealed the same output hash, and more
//!   seats than all other reveals together. They are paid the price per replica each and the
//!   protocol fee goes to the treasury; a worker that revealed a different output loses
//!   [`Config::WrongResultSlash`] of its stake. Unused escrow returns to the requester.
//! - **Escalation**: without such a majority the job draws further seats (a new round) until
//!   one exists or the job's seat bound is reached; outputs are exact, so any disagreement means
//!   someone is wrong, and the honest side wins once it holds a majority.
//! - **NoQuorum**: no majority at the seat bound. The requester is refunded in full; nobody is
//!   paid, nobody is slashed for disagreeing (an event lists the distinct hashes).
//! - **Expired**: nobody could be assigned before the deadline: full refund, record removed.
//!
//! A seat that does not commit or reveal in its round loses [`Config::NoShowSlash`] when the
//! round ends. Slashed stake goes to the treasury, never to a party of the job, so that nobody
//! profits from a failed job. A worker is seated only in a free slot of its declared capacity,
//! and a job's commit window is the time its slowest seat needs for the job's tokens at its
//! declared throughput plus [`Config::CommitMargin`].
//!
//! Outputs stay for [`Config::RetentionPeriod`] after settlement; then the record goes and the
//! storage deposit returns. Hooks do a bounded amount of work per block, each for at most a set
//! number of jobs: assignment walks new job ids in posting order and a queue of jobs to retry,
//! settlement at window end a first-in first-out queue, removal the job ids in order. The
//! protocol is written down in `docs/protocol.md`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod assignment;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
mod queue;
mod settlement;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

use assignment::CandidateOf;
pub use assignment::ParentBlockRandomness;
pub use types::*;
pub use weights::WeightInfo;

use alloc::{
	collections::btree_map::{self, BTreeMap},
	vec::Vec,
};
use commons_primitives::{
	JobId, ModelId, ModelRegistry, ModelStatus, OutputHash, Salt, TokenId, WorkRewards,
	WorkerRegistry,
};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::Precision,
		Randomness,
	},
};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill, SaturatedConversion,
};

/// Sets up the other registries for this pallet's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance> {
	/// Registers an active model with floor price `min_price` and returns its id.
	fn register_model(min_price: Balance) -> ModelId;
	/// Funds `worker` and registers it for `model` with `stake` at `price`.
	fn register_worker(worker: &AccountId, model: ModelId, stake: Balance, price: Balance);
	/// Lets jobs ask for up to `replicas` replicas (the governed `MaxReplicas`), so that the
	/// benchmarks reach every seat count a job can hold.
	fn allow_replicas(replicas: u32);
}

/// The balance type of the currency escrow is held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A revealed output: token ids.
pub type OutputOf<T> = BoundedVec<TokenId, <T as Config>::MaxOutputTokens>;

/// The jobs one block assigned, each with the round it was assigned for.
pub type SettlementBatch<T> = BoundedVec<(JobId, u8), <T as Config>::MaxAssignmentsPerBlock>;

type RetryQueue<T> = queue::Queue<queue::Retry, JobId, RetryItems<T>>;
type SettlementQueue<T> = queue::Queue<queue::Settlement, SettlementBatch<T>, SettlementBatches<T>>;

// The pallet macro's generated code (storage prefixes, pallet info) calls `expect`, spanned at
// `#[pallet::pallet]` and `#[pallet::storage]`, so the lint lands on this module; those calls
// cannot fail once the pallet is in the runtime. Every other lint still applies here.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The layout of this pallet's storage. A release that changes it moves this one up and
	/// adds the `VersionedMigration` from the previous one to the runtime's `Migrations`
	/// (docs/chain.md, "Upgrades").
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency escrow and deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The model registry.
		type Models: ModelRegistry<BalanceOf<Self>>;
		/// The worker registry: candidates, slashing and reputation.
		type Workers: WorkerRegistry<Self::AccountId, BalanceOf<Self>>;
		/// Protocol fees and the work that earns emission.
		type Rewards: WorkRewards<Self::AccountId, BalanceOf<Self>>;
		/// Randomness for assignment, unknown when the job was posted.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;
		/// The longest commit window: a worker whose declared throughput needs longer for a
		/// job's tokens is not drawn for it.
		type MaxCommitWindow: Get<BlockNumberFor<Self>>;
		/// Blocks a commit window adds to the seats' computing time: the finality lag before a
		/// worker learns of its seat, and the inclusion of its commitment.
		type CommitMargin: Get<BlockNumberFor<Self>>;
		/// Blocks after the commit window in which workers reveal.
		type RevealWindow: Get<BlockNumberFor<Self>>;
		/// Blocks a settled job's record and outputs are kept.
		type RetentionPeriod: Get<BlockNumberFor<Self>>;
		/// The furthest ahead a job's assignment deadline may be.
		type MaxAssignmentDelay: Get<BlockNumberFor<Self>>;
		/// The share of its stake a worker loses for revealing a wrong output.
		type WrongResultSlash: Get<Perbill>;
		/// The share of its stake a worker loses for not committing or not revealing.
		type NoShowSlash: Get<Perbill>;
		/// The fewest replicas a job may ask for.
		type MinReplicas: Get<u32>;
		/// The most replicas a job may ask for; never more than [`Config::MaxSeats`].
		type MaxReplicas: Get<u32>;
		/// The lowest audit rate an audited job may ask for, in parts per million.
		type MinAuditRate: Get<u32>;
		/// The storage deposit of every job.
		type JobDepositBase: Get<BalanceOf<Self>>;
		/// The storage deposit per byte of prompt and of possible output.
		type JobDepositPerByte: Get<BalanceOf<Self>>;
		/// The longest prompt, in bytes.
		#[pallet::constant]
		type MaxPromptLen: Get<u32>;
		/// The most tokens a job may generate.
		#[pallet::constant]
		type MaxOutputTokens: Get<u32>;
		/// The most seats a job record holds (the storage bound behind `MaxReplicas`).
		#[pallet::constant]
		type MaxSeats: Get<u32>;
		/// The most job records stored at once (live and retained).
		#[pallet::constant]
		type MaxJobs: Get<u32>;
		/// The most pending jobs a block tries to assign.
		#[pallet::constant]
		type MaxAssignmentsPerBlock: Get<u32>;
		/// The most jobs a block settles at the end of their reveal window.
		#[pallet::constant]
		type MaxSettlementsPerBlock: Get<u32>;
		/// The most weight the settlement hook spends in a block: after the first settlement
		/// of a block it stops before one whose worst case (every seat slashed) would pass it,
		/// and the rest wait for the next block.
		#[pallet::constant]
		type MaxSettlementWeight: Get<Weight>;
		/// The most retained records a block removes.
		#[pallet::constant]
		type MaxRemovalsPerBlock: Get<u32>;
		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
		/// Registers models and workers for the benchmarks, which see the registries only
		/// through their traits.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, BalanceOf<Self>>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Payment and protocol fee of a live job.
		Escrow,
		/// The storage deposit of a job record.
		JobDeposit,
	}

	/// Jobs by id, from posting until their retention period ends.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Blake2_128Concat, JobId, Job<T>>;

	/// The next job id, how many records are stored, the cursors of assignment and removal,
	/// and the bounds of the two queues.
	///
	/// Whitelisted: the hooks read it in every block, and however many calls write it, the
	/// database writes it once per block. [`Pallet::on_initialize`] charges that read and write
	/// once per block, so the calls and the per-job parts of the hooks do not.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type JobCounters<T: Config> = StorageValue<_, Counters, ValueQuery>;

	/// Revealed outputs by job and output hash: one entry per distinct output.
	#[pallet::storage]
	pub type Outputs<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, JobId, Blake2_128Concat, OutputHash, OutputOf<T>>;

	// The queues' positions are counters written only by this pallet, so `Twox64Concat` is safe.
	/// The queue of pending jobs that found too few candidates, tried again in later blocks.
	#[pallet::storage]
	pub type RetryItems<T: Config> = StorageMap<_, Twox64Concat, u64, JobId>;
	/// The queue of assignment batches, in the order their windows end: one entry per block
	/// that assigned jobs, so that an assignment writes no entry of its own.
	#[pallet::storage]
	pub type SettlementBatches<T: Config> = StorageMap<_, Twox64Concat, u64, SettlementBatch<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was posted; `escrow` (payment and fee) and `deposit` are held, and `surcharge`
		/// (congestion) was paid to the treasury.
		JobPosted {
			job: JobId,
			requester: T::AccountId,
			model: ModelId,
			replicas: u32,
			price_per_replica: BalanceOf<T>,
			escrow: BalanceOf<T>,
			deposit: BalanceOf<T>,
			surcharge: BalanceOf<T>,
		},
		/// A pending job was cancelled and everything held for it returned.
		JobCancelled { job: JobId, refunded: BalanceOf<T> },
		/// Workers were drawn for a job's seats (of round `round`: 0 at first, one more for each
		/// escalation).
		JobAssigned {
			job: JobId,
			round: u8,
			workers: BoundedVec<T::AccountId, T::MaxSeats>,
			commit_end: BlockNumberFor<T>,
			reveal_end: BlockNumberFor<T>,
		},
		/// The audit of an audited job was decided, from the hash of the block after its
		/// worker's commitment.
		AuditDecided { job: JobId, audited: bool },
		/// A round ended without a majority: `seats` further seats will be drawn.
		JobEscalated { job: JobId, round: u8, seats: u32 },
		/// A worker committed to an output.
		ResultCommitted { job: JobId, worker: T::AccountId },
		/// A worker revealed its output.
		ResultRevealed { job: JobId, worker: T::AccountId, output_hash: OutputHash },
		/// A majority agreed on `output_hash`; `agreeing_workers` were paid `paid` in all.
		JobAccepted {
			job: JobId,
			output_hash: OutputHash,
			agreeing_workers: BoundedVec<T::AccountId, T::MaxSeats>,
			paid: BalanceOf<T>,
			fee: BalanceOf<T>,
		},
		/// No output had a majority; these are the distinct hashes revealed.
		JobNoQuorum { job: JobId, output_hashes: BoundedVec<OutputHash, T::MaxSeats> },
		/// Nobody could be assigned before the deadline.
		JobExpired { job: JobId },
		/// A worker of the job was slashed.
		WorkerSlashed {
			worker: T::AccountId,
			job: JobId,
			amount: BalanceOf<T>,
			reason: SlashReason,
		},
		/// Escrow the job did not spend returned to the requester.
		EscrowRefunded { job: JobId, requester: T::AccountId, amount: BalanceOf<T> },
		/// A settled job's record and outputs were removed and its deposit returned.
		JobRemoved { job: JobId, deposit: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model is registered under this id.
		UnknownModel,
		/// The model is deprecated or banned: it takes no new jobs.
		ModelNotActive,
		/// The prompt must not be empty.
		EmptyPrompt,
		/// The prompt is longer than the most allowed.
		PromptTooLong,
		/// Max tokens must be at least 1 and at most the most allowed.
		MaxTokensOutOfRange,
		/// Replicas must be within the allowed range.
		ReplicasOutOfRange,
		/// The price per replica is below the model's floor.
		PriceBelowModelFloor,
		/// Temperature or top-k is out of range.
		InvalidSampling,
		/// The deadline must be after this block and within the most allowed delay.
		InvalidDeadline,
		/// The requester cannot pay the escrow and deposit.
		InsufficientBalance,
		/// As many jobs are stored as may be: try again later.
		TooManyJobs,
		/// No job has this id.
		JobNotFound,
		/// Only the job's requester may do this.
		NotRequester,
		/// The job is no longer pending.
		JobNotPending,
		/// The job is not in its commit or reveal phase.
		JobNotAssigned,
		/// The signer holds no seat in this job.
		NotAssignedToJob,
		/// The commit window has closed.
		CommitWindowClosed,
		/// This seat has already committed.
		AlreadyCommitted,
		/// The reveal window opens when the commit window closes or every seat has committed.
		RevealWindowNotOpen,
		/// The reveal window has closed.
		RevealWindowClosed,
		/// This seat did not commit, so it cannot reveal.
		NotCommitted,
		/// This seat has already revealed.
		AlreadyRevealed,
		/// The output is longer than the job's max tokens.
		OutputTooLong,
		/// The output and salt do not match the commitment.
		CommitmentMismatch,
		/// This seat's round is over: it can no longer commit or reveal.
		RoundOver,
		/// The price per replica is below the model's market price, the stake-weighted median
		/// of its workers' asks (see `price_quote`).
		PriceBelowMarket,
		/// The audit rate must be at least `MinAuditRate` and at most 1,000,000 (every job).
		AuditRateOutOfRange,
		/// The job's audit is being decided or its auditor drawn: reveals wait for it.
		AuditPending,
		/// The prompt starts with the conversation tag but is not a conversation of 1 to 8
		/// messages with UTF-8 content, exactly encoded (docs/protocol.md, "Prompts").
		MalformedConversation,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let assigned = Self::assign_pending(now);
			let settled = Self::settle_due(now);
			let removed = Self::remove_expired_records(now);
			// The counters, read by the hooks and written by them and by the block's calls:
			// once each per block in the database.
			T::DbWeight::get()
				.reads_writes(1, 1)
				.saturating_add(assigned)
				.saturating_add(settled)
				.saturating_add(removed)
		}

		fn integrity_test() {
			assert!(T::MaxSeats::get() >= 1, "a job needs at least one seat");
			assert!(T::MaxOutputTokens::get() >= 1, "a job must be able to generate a token");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Posts a job: holds `(price + fee)` for every seat escalation could draw in escrow
		/// ([`Pallet::max_seats`]; what is not used returns at settlement) and the storage deposit, and
		/// reserves the model until the deadline (assignment extends it to the reveal window's
		/// end). Workers are assigned in a later block.
		///
		/// Origin: signed, the requester. Emits [`Event::JobPosted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::post_job(prompt.len() as u32))]
		#[allow(clippy::too_many_arguments)]
		pub fn post_job(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: Vec<u8>,
			max_tokens: u32,
			sampling: Sampling,
			replicas: u32,
			price_per_replica: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			ensure!(Self::replicas_allowed(replicas), Error::<T>::ReplicasOutOfRange);
			let terms = PostTerms { model, max_tokens, sampling, price_per_replica, deadline };
			Self::post(requester, prompt, terms, replicas, Security::Replicated)
		}

		/// Posts an audited job: one worker runs it, and with probability `audit_rate` (parts
		/// per million) an auditor drawn after that worker's commitment runs it blind. Holds
		/// `(price + fee)` for every seat an audit and escalation could draw; what is not used
		/// returns at settlement. Workers are drawn only if the slash of a wrong answer exceeds
		/// what cheating at this rate could gain ([`Pallet::min_audited_slash`]).
		///
		/// Origin: signed, the requester. Emits [`Event::JobPosted`].
		#[pallet::call_index(4)]
		// The same reads and writes as `post_job`: the security level is one more field.
		#[pallet::weight(T::WeightInfo::post_job(prompt.len() as u32))]
		#[allow(clippy::too_many_arguments)]
		pub fn post_audited_job(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: Vec<u8>,
			max_tokens: u32,
			sampling: Sampling,
			audit_rate: u32,
			price_per_replica: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			ensure!(
				(T::MinAuditRate::get().max(1)..=PPM).contains(&audit_rate),
				Error::<T>::AuditRateOutOfRange
			);
			let terms = PostTerms { model, max_tokens, sampling, price_per_replica, deadline };
			Self::post(requester, prompt, terms, 1, Security::Audited { rate: audit_rate })
		}

		/// Cancels a job that has no workers yet and returns everything held for it.
		///
		/// Origin: signed by the job's requester. Emits [`Event::JobCancelled`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.requester == who, Error::<T>::NotRequester);
			ensure!(record.status == JobStatus::Pending, Error::<T>::JobNotPending);
			let refunded = Self::release_escrow(&record, record.escrow)
				.saturating_add(Self::release_deposit(&record));
			Jobs::<T>::remove(job);
			JobCounters::<T>::mutate(|counters| {
				counters.stored = counters.stored.saturating_sub(1)
			});
			// Assignment and removal skip its id when they reach it.
			Self::deposit_event(Event::JobCancelled { job, refunded });
			Ok(())
		}

		/// Commits the signer's seat to an output:
		/// `commitment = blake2_256(output_hash ‖ salt ‖ worker account)`. The worker's slot that
		/// computed the job is free again.
		///
		/// Origin: signed by a worker assigned to the job. Emits [`Event::ResultCommitted`].
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::commit_weight(true))]
		pub fn commit_result(
			origin: OriginFor<T>,
			job: JobId,
			commitment: commons_primitives::Commitment,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			let deciding = Jobs::<T>::try_mutate(job, |entry| {
				let record = entry.as_mut().ok_or(Error::<T>::JobNotFound)?;
				let JobStatus::Assigned { commit_end, .. } = record.status else {
					return Err(Error::<T>::JobNotAssigned);
				};
				let round = record.round;
				let seat = record
					.seats
					.iter_mut()
					.find(|seat| seat.worker == worker)
					.ok_or(Error::<T>::NotAssignedToJob)?;
				ensure!(seat.round == round, Error::<T>::RoundOver);
				ensure!(now <= commit_end, Error::<T>::CommitWindowClosed);
				ensure!(seat.commitment.is_none(), Error::<T>::AlreadyCommitted);
				seat.commitment = Some(commitment);
				// The worker of an audited job committed: the audit is decided in a later
				// block, from a hash that did not exist when the commitment was sent.
				let deciding = matches!(record.security, Security::Audited { .. })
					&& record.audit == Audit::Undecided
					&& Self::round_committed(record);
				if deciding {
					record.audit = Audit::Deciding { committed_at: now };
				}
				Ok::<_, Error<T>>(deciding)
			})?;
			if deciding {
				JobCounters::<T>::mutate(|counters| RetryQueue::<T>::push(counters, job));
			}
			T::Workers::note_committed(&worker, job);
			Self::deposit_event(Event::ResultCommitted { job, worker });
			Ok(Some(Self::commit_weight(deciding)).into())
		}

		/// Reveals the output the signer's seat committed to. The job settles when this is the
		/// last reveal it can get.
		///
		/// Origin: signed by a worker assigned to the job. Emits [`Event::ResultRevealed`] and,
		/// when the job settles, the settlement events.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::settling_weight(output.len() as u32, T::MaxSeats::get(), T::MaxSeats::get().saturating_sub(1)))]
		pub fn reveal_result(
			origin: OriginFor<T>,
			job: JobId,
			output: OutputOf<T>,
			salt: Salt,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::Assigned { commit_end, reveal_end, .. } = record.status else {
				return Err(Error::<T>::JobNotAssigned.into());
			};
			let round = record.round;
			let all_committed = Self::round_committed(&record);
			let position = record
				.seats
				.iter()
				.position(|seat| seat.worker == worker)
				.ok_or(Error::<T>::NotAssignedToJob)?;
			ensure!(
				record.seats.get(position).is_some_and(|seat| seat.round == round),
				Error::<T>::RoundOver
			);
			ensure!(!record.awaits_audit(), Error::<T>::AuditPending);
			ensure!(now > commit_end || all_committed, Error::<T>::RevealWindowNotOpen);
			ensure!(now <= reveal_end, Error::<T>::RevealWindowClosed);
			ensure!(output.len() as u32 <= record.max_tokens, Error::<T>::OutputTooLong);
			let output_hash =
				commons_primitives::output_hash(record.engine_version, record.model, &output);
			let seat = record.seats.get_mut(position).ok_or(Error::<T>::NotAssignedToJob)?;
			let commitment = seat.commitment.ok_or(Error::<T>::NotCommitted)?;
			ensure!(seat.revealed.is_none(), Error::<T>::AlreadyRevealed);
			ensure!(
				commons_primitives::commitment(&output_hash, &salt, &worker) == commitment,
				Error::<T>::CommitmentMismatch
			);
			seat.revealed = Some(output_hash);
			// Each distinct output is stored once, by the first seat to reveal it: the seats
			// say whether another revealed it already, without reading the outputs.
			let revealed_before = record
				.seats
				.iter()
				.filter(|seat| seat.revealed == Some(output_hash))
				.nth(1)
				.is_some();
			if !revealed_before {
				Outputs::<T>::insert(job, output_hash, output.clone());
			}
			Self::deposit_event(Event::ResultRevealed { job, worker, output_hash });

			// No more reveals can come in this round once every committed seat of it has
			// revealed and either every seat of it committed or the commit window is over.
			let committed_all_revealed = record
				.seats
				.iter()
				.filter(|seat| seat.round == round)
				.all(|seat| seat.commitment.is_none() || seat.revealed.is_some());
			if committed_all_revealed && (all_committed || now > commit_end) {
				let seats = record.seats.len() as u32;
				let slashed = JobCounters::<T>::mutate(|counters| {
					Self::end_round(job, record, now, counters)
				});
				Ok(Some(Self::settling_weight(output.len() as u32, seats, slashed)).into())
			} else {
				Jobs::<T>::insert(job, record);
				// Its benchmark (the first reveal) stores the output; a reveal of an output
				// another seat stored is refunded that write.
				let weight = T::WeightInfo::reveal_result(output.len() as u32);
				let refund =
					if revealed_before { T::DbWeight::get().writes(1) } else { Weight::zero() };
				Ok(Some(weight.saturating_sub(refund)).into())
			}
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A job's record, if it is still stored.
		pub fn job(job: JobId) -> Option<Job<T>> {
			Jobs::<T>::get(job)
		}

		/// The accepted output of a settled job, while it is retained.
		pub fn accepted_output(job: JobId) -> Option<OutputOf<T>> {
			let record = Jobs::<T>::get(job)?;
			match record.status {
				JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. } => {
					Outputs::<T>::get(job, output_hash)
				},
				_ => None,
			}
		}

		/// The live jobs a worker holds a seat in, with what it must do next for each.
		pub fn duties(worker: T::AccountId) -> Vec<(JobId, Duty)> {
			let now = frame_system::Pallet::<T>::block_number();
			T::Workers::live_jobs(&worker)
				.into_iter()
				.filter_map(|job| {
					let record = Jobs::<T>::get(job)?;
					Self::duty(&record, &worker, now).map(|duty| (job, duty))
				})
				.collect()
		}

		/// What posting a replicated job would hold, or `None` for an unknown model.
		pub fn price_quote(
			model: ModelId,
			replicas: u32,
			price_per_replica: BalanceOf<T>,
			prompt_len: u32,
			max_tokens: u32,
		) -> Option<Quote<BalanceOf<T>>> {
			let post = (model, price_per_replica, prompt_len, max_tokens);
			Self::full_quote(post, replicas, Security::Replicated)
		}

		/// What posting an audited job at `audit_rate` parts per million would hold, and what
		/// it is expected to cost; `None` for an unknown model.
		pub fn audited_price_quote(
			model: ModelId,
			audit_rate: u32,
			price_per_replica: BalanceOf<T>,
			prompt_len: u32,
			max_tokens: u32,
		) -> Option<Quote<BalanceOf<T>>> {
			let post = (model, price_per_replica, prompt_len, max_tokens);
			Self::full_quote(post, 1, Security::Audited { rate: audit_rate })
		}
	}
}

/// What a post asks for besides its prompt, replicas and security level.
struct PostTerms<T: Config> {
	model: ModelId,
	max_tokens: u32,
	sampling: Sampling,
	price_per_replica: BalanceOf<T>,
	deadline: BlockNumberFor<T>,
}

impl<T: Config> Pallet<T> {
	/// Checks and posts a job of `replicas` first seats verified by `security`.
	fn post(
		requester: T::AccountId,
		prompt: Vec<u8>,
		terms: PostTerms<T>,
		replicas: u32,
		security: Security,
	) -> DispatchResultWithPostInfo {
		let PostTerms { model, max_tokens, sampling, price_per_replica, deadline } = terms;
		let now = frame_system::Pallet::<T>::block_number();
		let model_terms = T::Models::terms(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model_terms.status == ModelStatus::Active, Error::<T>::ModelNotActive);
		ensure!(!prompt.is_empty(), Error::<T>::EmptyPrompt);
		let prompt: BoundedVec<u8, T::MaxPromptLen> =
			prompt.try_into().map_err(|_| Error::<T>::PromptTooLong)?;
		commons_primitives::prompt::parse(&prompt)
			.map_err(|_| Error::<T>::MalformedConversation)?;
		ensure!(
			(1..=T::MaxOutputTokens::get()).contains(&max_tokens),
			Error::<T>::MaxTokensOutOfRange
		);
		ensure!(price_per_replica >= model_terms.min_price, Error::<T>::PriceBelowModelFloor);
		ensure!(
			Self::market_price(model).is_none_or(|market| price_per_replica >= market),
			Error::<T>::PriceBelowMarket
		);
		ensure!(sampling.is_valid(), Error::<T>::InvalidSampling);
		ensure!(
			deadline > now && deadline <= now.saturating_add(T::MaxAssignmentDelay::get()),
			Error::<T>::InvalidDeadline
		);
		let counters = JobCounters::<T>::get();
		ensure!(counters.stored < T::MaxJobs::get(), Error::<T>::TooManyJobs);
		let prompt_len = prompt.len() as u32;
		let seats = Self::seat_bound(replicas, security);
		let mut quote = Self::quote(price_per_replica, replicas, seats, prompt_len, max_tokens);
		quote.surcharge = Self::surcharge(&counters);
		let escrow = quote.payment.saturating_add(quote.fee).saturating_add(quote.escalation);

		let job = counters.next_job;
		let reserved = frame_support::storage::with_storage_layer(|| {
			let held = escrow.saturating_add(quote.surcharge);
			T::Currency::hold(&HoldReason::Escrow.into(), &requester, held)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			T::Currency::hold(&HoldReason::JobDeposit.into(), &requester, quote.deposit)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let destination = T::Rewards::fee_destination();
			let paid = Self::pay_from_escrow(&requester, &destination, quote.surcharge);
			ensure!(paid == quote.surcharge, Error::<T>::InsufficientBalance);
			T::Models::reserve(model, deadline.saturated_into())
		})?;
		Jobs::<T>::insert(
			job,
			Job {
				requester: requester.clone(),
				model,
				engine_version: model_terms.engine_version,
				prompt,
				max_tokens,
				sampling,
				replicas,
				security,
				audit: Audit::Undecided,
				round: 0,
				price_per_replica,
				fee_per_replica: T::Rewards::protocol_fee(price_per_replica),
				escrow,
				deposit: quote.deposit,
				deadline,
				posted_at: now,
				status: JobStatus::Pending,
				seats: BoundedVec::new(),
			},
		);
		JobCounters::<T>::mutate(|counters| {
			counters.next_job = job.saturating_add(1);
			counters.stored = counters.stored.saturating_add(1);
		});
		// The assignment cursor reaches it in id order: no queue entry to write.
		Self::deposit_event(Event::JobPosted {
			job,
			requester,
			model,
			replicas,
			price_per_replica,
			escrow,
			deposit: quote.deposit,
			surcharge: quote.surcharge,
		});
		// The benchmark extends the model's reservation; a post within it does not.
		let weight = T::WeightInfo::post_job(prompt_len);
		Ok(Some(if reserved {
			weight
		} else {
			weight.saturating_sub(T::DbWeight::get().writes(1))
		})
		.into())
	}

	fn replicas_allowed(replicas: u32) -> bool {
		let most = T::MaxReplicas::get().min(T::MaxSeats::get());
		replicas >= T::MinReplicas::get().max(1) && replicas <= most
	}

	/// The most seats a job of `replicas` replicas has over all its rounds: `2 × replicas + 1`
	/// (enough for a strict majority whatever the first seats did), at most `MaxSeats`.
	pub fn max_seats(replicas: u32) -> u32 {
		replicas.saturating_mul(2).saturating_add(1).min(T::MaxSeats::get())
	}

	/// The most seats a job has over all its rounds: [`Pallet::max_seats`] of its replicas, or
	/// for an audited job of two (the worker and the auditor): five seats, enough for a strict
	/// majority of fresh seats after a disagreement.
	pub fn seat_bound(replicas: u32, security: Security) -> u32 {
		match security {
			Security::Replicated => Self::max_seats(replicas),
			Security::Audited { .. } => Self::max_seats(2),
		}
	}

	/// The reveals of one output that accept a job: a majority of its replicas, and two (the
	/// worker and the auditor, or whoever replaces them) once it is audited.
	pub fn quorum_of(record: &Job<T>) -> u32 {
		match record.audit {
			Audit::Audited { .. } => 2,
			_ => Self::quorum(record.replicas),
		}
	}

	/// The least a wrong answer must cost a worker of an audited job at `rate` parts per million
	/// and `price` per replica for cheating to be a loss: `price × (1 − rate) / rate`.
	///
	/// Skipping the work saves at most its compute cost, which a worker that serves at `price`
	/// does not let exceed `price`. Cheating on a job is caught with probability `rate`, and a
	/// caught cheat loses the slash `S` and the payment: it expects `(1 − rate) × price −
	/// rate × S` against `price − cost` for honest work, a loss whenever
	/// `S > cost / rate − price`, which this bound covers for every cost up to the price.
	pub fn min_audited_slash(price: BalanceOf<T>, rate: u32) -> BalanceOf<T> {
		let rate = rate.clamp(1, PPM);
		price
			.saturating_mul(PPM.saturating_sub(rate).into())
			.checked_div(&rate.into())
			.unwrap_or(price)
	}

	/// Whether the audit of `job`'s round `round` at `rate` parts per million happens, given
	/// the hash of the block after the one that carried the worker's commitment.
	pub fn audit_decision(job: JobId, round: u8, rate: u32, next_block_hash: &T::Hash) -> bool {
		let bytes =
			sp_io::hashing::blake2_256(&(b"commons/audit", next_block_hash, job, round).encode());
		let mut word = [0u8; 8];
		word.copy_from_slice(bytes.get(..8).unwrap_or(&[0u8; 8]));
		// 64 bits modulo a million: the bias is below 2^-44.
		let point = u64::from_le_bytes(word).checked_rem(u64::from(PPM)).unwrap_or(0);
		point < u64::from(rate)
	}

	/// The market price of `model` ([`commons_primitives::market_price`]) among the workers
	/// that may be drawn now; `None` while none is listed.
	pub fn market_price(model: ModelId) -> Option<BalanceOf<T>> {
		commons_primitives::market_price(&T::Workers::candidates(model))
	}

	/// The reveals a majority needs: more than half of the replicas asked for.
	pub fn quorum(replicas: u32) -> u32 {
		(replicas / 2).saturating_add(1)
	}

	/// Whether every seat of the job's current round has committed.
	fn round_committed(record: &Job<T>) -> bool {
		record
			.seats
			.iter()
			.filter(|seat| seat.round == record.round)
			.all(|seat| seat.commitment.is_some())
	}

	/// The congestion surcharge of a post: nothing while at most two blocks' worth of jobs
	/// (`2 × MaxAssignmentsPerBlock`) wait for assignment, new or retried; beyond that,
	/// `JobDepositBase × (waiting / MaxAssignmentsPerBlock)²`. Jobs are assigned in posting
	/// order, a block's worth at a time, so every job posted beyond that delays every later
	/// one: the square makes a jam cost its maker more with each job it adds, while a requester
	/// posting into a free queue pays nothing. It goes to the treasury and is not returned.
	pub fn surcharge(counters: &Counters) -> BalanceOf<T> {
		let per_block = u64::from(T::MaxAssignmentsPerBlock::get().max(1));
		let waiting = counters
			.next_job
			.saturating_sub(counters.next_to_assign)
			.saturating_add(RetryQueue::<T>::len(counters));
		if waiting <= per_block.saturating_mul(2) {
			return Zero::zero();
		}
		let blocks = waiting.checked_div(per_block).unwrap_or_default();
		let factor: BalanceOf<T> = blocks.saturating_mul(blocks).saturated_into();
		T::JobDepositBase::get().saturating_mul(factor)
	}

	/// The quote of a view: [`Pallet::quote`] with the model's prices, the surcharge now and
	/// the expected cost.
	fn full_quote(
		(model, price_per_replica, prompt_len, max_tokens): (ModelId, BalanceOf<T>, u32, u32),
		replicas: u32,
		security: Security,
	) -> Option<Quote<BalanceOf<T>>> {
		let terms = T::Models::terms(model)?;
		let seats = Self::seat_bound(replicas, security);
		let mut quote = Self::quote(price_per_replica, replicas, seats, prompt_len, max_tokens);
		quote.min_price = terms.min_price;
		quote.market_price = Self::market_price(model).unwrap_or_default().max(terms.min_price);
		quote.surcharge = Self::surcharge(&JobCounters::<T>::get());
		quote.total = quote.total.saturating_add(quote.surcharge);
		let run = price_per_replica.saturating_add(T::Rewards::protocol_fee(price_per_replica));
		let runs = match security {
			Security::Replicated => run.saturating_mul(replicas.into()),
			Security::Audited { rate } => {
				let audit = Perbill::from_rational(rate.min(PPM), PPM).mul_ceil(run);
				run.saturating_add(audit)
			},
		};
		quote.expected = runs.saturating_add(quote.surcharge);
		Some(quote)
	}

	/// Payment, fee and deposit of a job; the prices and the surcharge are left zero.
	fn quote(
		price_per_replica: BalanceOf<T>,
		replicas: u32,
		seat_bound: u32,
		prompt_len: u32,
		max_tokens: u32,
	) -> Quote<BalanceOf<T>> {
		let payment = price_per_replica.saturating_mul(replicas.into());
		let fee_per_replica = T::Rewards::protocol_fee(price_per_replica);
		let fee = fee_per_replica.saturating_mul(replicas.into());
		let further = seat_bound.saturating_sub(replicas);
		let escalation =
			price_per_replica.saturating_add(fee_per_replica).saturating_mul(further.into());
		// Four bytes per output token; one output stored when the seats agree.
		let bytes = prompt_len.saturating_add(max_tokens.saturating_mul(4));
		let deposit = T::JobDepositBase::get()
			.saturating_add(T::JobDepositPerByte::get().saturating_mul(bytes.into()));
		Quote {
			min_price: Zero::zero(),
			market_price: Zero::zero(),
			payment,
			fee,
			escalation,
			surcharge: Zero::zero(),
			deposit,
			total: payment.saturating_add(fee).saturating_add(escalation).saturating_add(deposit),
			expected: Zero::zero(),
		}
	}

	fn duty(record: &Job<T>, worker: &T::AccountId, now: BlockNumberFor<T>) -> Option<Duty> {
		let JobStatus::Assigned { commit_end, reveal_end, .. } = record.status else {
			return None;
		};
		let seat = record
			.seats
			.iter()
			.find(|seat| &seat.worker == worker && seat.round == record.round)?;
		let block = |n: BlockNumberFor<T>| -> u64 { n.saturated_into() };
		let all_committed = Self::round_committed(record);
		match (seat.commitment, seat.revealed) {
			(None, _) if now <= commit_end => Some(Duty::Commit { until: block(commit_end) }),
			(Some(_), None) if record.awaits_audit() => Some(Duty::Wait),
			(Some(_), None) if now <= reveal_end => {
				// Open at once when every seat has committed, otherwise after the commit window.
				let from = if all_committed { now } else { commit_end.saturating_add(1u32.into()) };
				if now >= from {
					Some(Duty::Reveal { from: block(from), until: block(reveal_end) })
				} else {
					Some(Duty::Wait)
				}
			},
			_ => None,
		}
	}

	/// Releases up to `amount` of the job's escrow to the requester; returns what was released.
	fn release_escrow(record: &Job<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::release(
			&HoldReason::Escrow.into(),
			&record.requester,
			amount,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero())
	}

	/// Releases the job's storage deposit to the requester; returns what was released.
	fn release_deposit(record: &Job<T>) -> BalanceOf<T> {
		if record.deposit.is_zero() {
			return Zero::zero();
		}
		T::Currency::release(
			&HoldReason::JobDeposit.into(),
			&record.requester,
			record.deposit,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero())
	}

	/// The weight of a commitment; one that starts an audit's decision queues the job too.
	pub(crate) fn commit_weight(deciding: bool) -> Weight {
		let queued = if deciding { T::DbWeight::get().writes(1) } else { Weight::zero() };
		T::WeightInfo::commit_result().saturating_add(queued)
	}

	/// The weight of a reveal that settles a job of `seats` seats with `t` output tokens, of
	/// which `slashed` seats are slashed: the settlement is measured with every seat paid, and
	/// each slash is charged on top of it.
	pub(crate) fn settling_weight(t: u32, seats: u32, slashed: u32) -> Weight {
		T::WeightInfo::reveal_and_settle(t, seats)
			.saturating_add(T::Workers::slash_weight().saturating_mul(u64::from(slashed)))
	}

	/// Tries to assign up to `MaxAssignmentsPerBlock` pending jobs, taking in turn from the
	/// jobs to retry (escalations among them) and the new ones (in id order); a job nobody can
	/// serve yet goes to the end of the retry queue. Once its deadline has passed a new job
	/// expires, and an escalation ends without a majority.
	///
	/// What every job of the block shares is read once: the counters (written back once), the
	/// windows, the block's randomness and each model's candidate index. The first job of a
	/// model is charged [`WeightInfo::assign_job`], each later one only what one more job adds
	/// ([`WeightInfo::assign_jobs`] measures a block assigning `n` jobs of one model); each
	/// worker record read beyond one per seat (a drawn worker found with no free slot) is
	/// charged on top.
	pub(crate) fn assign_pending(now: BlockNumberFor<T>) -> Weight {
		let mut weight = T::WeightInfo::on_initialize_idle();
		let mut counters = JobCounters::<T>::get();
		let before = counters;
		// Only the retries queued before this block are tried in it.
		let mut retries = RetryQueue::<T>::len(&counters);
		let mut retry_next = true;
		let mut block = None;
		let mut pools: BTreeMap<ModelId, Vec<CandidateOf<T>>> = BTreeMap::new();
		// The block's assignments, queued for settlement as one batch.
		let mut batch = SettlementBatch::<T>::new();
		let mut assigned_models = alloc::collections::btree_set::BTreeSet::new();
		let mut latest_reveal_end = now;
		// What one more job of a model adds, by its seats: `assign_jobs` measures jobs of one
		// seat each, the slope of `assign_job` what each further seat adds.
		let next_job = T::WeightInfo::assign_jobs(2).saturating_sub(T::WeightInfo::assign_jobs(1));
		let next_seat = T::WeightInfo::assign_job(2).saturating_sub(T::WeightInfo::assign_job(1));
		for _ in 0..T::MaxAssignmentsPerBlock::get() {
			let fresh = counters.next_to_assign < counters.next_job;
			let (job, retried) = if retries > 0 && (retry_next || !fresh) {
				retries = retries.saturating_sub(1);
				let Some(job) = RetryQueue::<T>::pop(&mut counters) else { break };
				(job, true)
			} else if fresh {
				let job = counters.next_to_assign;
				counters.next_to_assign = job.saturating_add(1);
				(job, false)
			} else {
				break;
			};
			retry_next = !retried;
			// A retried job's queue entry is read and removed besides what the benchmarks of
			// a new job measure.
			if retried {
				weight.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
			}
			let Some(mut record) = Jobs::<T>::get(job) else {
				// Cancelled or expired.
				weight.saturating_accrue(T::DbWeight::get().reads(1));
				continue;
			};
			let needed = match (record.status, record.audit, record.security) {
				(JobStatus::Pending, ..) => record.replicas,
				(JobStatus::Escalating { needed }, ..) => needed,
				(
					JobStatus::Assigned { at, commit_end, .. },
					Audit::Deciding { committed_at },
					Security::Audited { rate },
				) => {
					// Only the hash of the block after the commitment's decides: it did not
					// exist when the worker sent its commitment. It is known from the block
					// after that one on.
					let deciding_block = committed_at.saturating_add(One::one());
					if now <= deciding_block {
						RetryQueue::<T>::push(&mut counters, job);
						weight.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
						continue;
					}
					let hash = frame_system::Pallet::<T>::block_hash(deciding_block);
					let audited = Self::audit_decision(job, record.round, rate, &hash);
					Self::deposit_event(Event::AuditDecided { job, audited });
					if !audited {
						// The worker's reveal opens now, for a whole reveal window.
						let reveal_end = now.saturating_add(T::RevealWindow::get());
						let round = record.round;
						record.audit = Audit::Skipped;
						record.status = JobStatus::Assigned { at, commit_end, reveal_end };
						assigned_models.insert(record.model);
						latest_reveal_end = latest_reveal_end.max(reveal_end);
						Jobs::<T>::insert(job, record);
						let _ = batch.try_push((job, round));
						weight.saturating_accrue(T::WeightInfo::assign_job(1));
						continue;
					}
					record.audit = Audit::Audited { seated: false };
					record.deadline = now.saturating_add(T::MaxAssignmentDelay::get());
					1
				},
				(JobStatus::Assigned { .. }, Audit::Audited { seated: false }, _) => 1,
				_ => {
					weight.saturating_accrue(T::DbWeight::get().reads(1));
					continue;
				},
			};
			// Only randomness from after the posting block is unknown to the requester.
			if record.posted_at >= now {
				RetryQueue::<T>::push(&mut counters, job);
				weight.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
				continue;
			}
			if now > record.deadline {
				let seats = record.seats.len() as u32;
				let slashed = Self::conclude(job, record, now, &mut counters);
				weight.saturating_accrue(T::WeightInfo::expire_job());
				weight.saturating_accrue(Self::hook_settling_weight(seats, slashed));
				continue;
			}
			let pool = match pools.entry(record.model) {
				btree_map::Entry::Occupied(entry) => {
					let further_seats = u64::from(needed.saturating_sub(1));
					weight.saturating_accrue(next_job);
					weight.saturating_accrue(next_seat.saturating_mul(further_seats));
					entry.into_mut()
				},
				btree_map::Entry::Vacant(entry) => {
					weight.saturating_accrue(T::WeightInfo::assign_job(needed));
					entry.insert(T::Workers::candidates(record.model).into_inner())
				},
			};
			let &mut (max_commit_window, margin, reveal_window, seed) =
				block.get_or_insert_with(|| {
					let (seed, _) = T::Randomness::random(b"commons/assign");
					let block = |n: BlockNumberFor<T>| -> u64 { n.saturated_into() };
					(
						block(T::MaxCommitWindow::get()),
						block(T::CommitMargin::get()),
						T::RevealWindow::get(),
						seed,
					)
				});
			let terms = assignment::Terms {
				now: now.saturated_into(),
				needed,
				longest_compute: max_commit_window.saturating_sub(margin),
			};
			let draw = assignment::draw::<T>(job, &record, pool, &seed, &terms);
			// The benchmarks read one worker record per seat filled; a drawn worker found with
			// no free slot is a read more.
			weight.saturating_accrue(
				T::DbWeight::get().reads(u64::from(draw.reads.saturating_sub(needed))),
			);
			let Some(chosen) = draw.chosen else {
				if record.awaits_audit() {
					// The decision to audit is kept: it is not drawn again.
					Jobs::<T>::insert(job, record);
				}
				RetryQueue::<T>::push(&mut counters, job);
				continue;
			};
			let work = record.work();
			let slowest = chosen
				.iter()
				.map(|(_, rate)| commons_primitives::compute_blocks(work, *rate))
				.max()
				.unwrap_or_default();
			let commit_end: BlockNumberFor<T> =
				now.saturating_add(slowest.saturating_add(margin).saturated_into());
			let reveal_end = commit_end.saturating_add(reveal_window);
			let round = record.round;
			let mut workers = Vec::with_capacity(chosen.len());
			for (worker, rate) in chosen {
				let started: u64 = now.saturated_into();
				let busy_until =
					started.saturating_add(commons_primitives::compute_blocks(work, rate));
				// The draw only returns registered workers with a free slot.
				let _ = T::Workers::note_assigned(&worker, job, now.saturated_into(), busy_until);
				// At most `MaxSeats` seats: the escalation asks for no more than the bound.
				let _ = record.seats.try_push(Seat {
					worker: worker.clone(),
					round,
					commitment: None,
					revealed: None,
				});
				workers.push(worker);
			}
			record.status = JobStatus::Assigned { at: now, commit_end, reveal_end };
			if record.audit == (Audit::Audited { seated: false }) {
				// The auditor's seat is in the worker's round: the two reveal together.
				record.audit = Audit::Audited { seated: true };
			}
			assigned_models.insert(record.model);
			latest_reveal_end = latest_reveal_end.max(reveal_end);
			Jobs::<T>::insert(job, record);
			// At most `MaxAssignmentsPerBlock` jobs are tried in a block.
			let _ = batch.try_push((job, round));
			Self::deposit_event(Event::JobAssigned {
				job,
				round,
				workers: BoundedVec::truncate_from(workers),
				commit_end,
				reveal_end,
			});
		}
		if !batch.is_empty() {
			SettlementQueue::<T>::push(&mut counters, batch);
		}
		// Each model that got jobs is reserved to the end of the block's latest reveal window.
		// The record is read with the model's candidates; a write is charged when the
		// reservation grows.
		for model in assigned_models {
			if let Ok(true) = T::Models::reserve(model, latest_reveal_end.saturated_into()) {
				weight.saturating_accrue(T::DbWeight::get().writes(1));
			}
		}
		if counters != before {
			JobCounters::<T>::put(counters);
		}
		weight
	}

	/// The weight of the settlement hook settling a job of `seats` seats with `slashed` of them
	/// slashed: its benchmark slashes one seat, any other slash is charged on top.
	fn hook_settling_weight(seats: u32, slashed: u32) -> Weight {
		T::WeightInfo::settle_job(seats).saturating_add(
			T::Workers::slash_weight().saturating_mul(u64::from(slashed.saturating_sub(1))),
		)
	}

	/// Settles up to `MaxSettlementsPerBlock` jobs whose reveal window has ended, walking the
	/// assignment batches in order, within `MaxSettlementWeight`. A job its last reveal settled
	/// early costs the read of its record; a batch is read once and removed once all its jobs
	/// are passed.
	pub(crate) fn settle_due(now: BlockNumberFor<T>) -> Weight {
		let mut weight = Weight::zero();
		let mut counters = JobCounters::<T>::get();
		let before = counters;
		let mut batch: Option<SettlementBatch<T>> = None;
		let skip = T::WeightInfo::skip_settled(2).saturating_sub(T::WeightInfo::skip_settled(1));
		let most_seats = T::MaxSeats::get();
		let worst = Self::hook_settling_weight(most_seats, most_seats);
		let budget = T::MaxSettlementWeight::get();
		for passed in 0..T::MaxSettlementsPerBlock::get() {
			// The first job of a block is always passed, so that a budget below one
			// settlement's worst case slows settlement down rather than stopping it.
			if passed > 0 && !weight.saturating_add(worst).all_lte(budget) {
				break;
			}
			if batch.is_none() {
				batch = SettlementQueue::<T>::peek(&counters);
				weight.saturating_accrue(T::DbWeight::get().reads(1));
			}
			let Some(jobs) = batch.as_ref() else { break };
			let position = counters.settlement_next as usize;
			if let Some(&(job, round)) = jobs.get(position) {
				match Jobs::<T>::get(job) {
					// Its audit is being decided or drawn: the decision queues it again with
					// the windows that follow.
					Some(record) if record.round == round && record.awaits_audit() => {
						weight.saturating_accrue(skip);
					},
					Some(record)
						if record.round == round
							&& matches!(
								record.status,
								JobStatus::Assigned { reveal_end, .. } if reveal_end >= now
							) =>
					{
						// The record that holds back the rest: batches are in assignment
						// order, and a job's window is at most `MaxCommitWindow` and
						// `RevealWindow` long, so the wait behind it is bounded.
						weight.saturating_accrue(T::DbWeight::get().reads(1));
						break;
					},
					Some(record)
						if record.round == round
							&& matches!(record.status, JobStatus::Assigned { .. }) =>
					{
						let seats = record.seats.len() as u32;
						let slashed = Self::end_round(job, record, now, &mut counters);
						weight.saturating_accrue(Self::hook_settling_weight(seats, slashed));
					},
					// Its round ended early by its last reveal (it settled, or escalated and
					// sits in a later batch).
					_ => weight.saturating_accrue(skip),
				}
				counters.settlement_next = counters.settlement_next.saturating_add(1);
			}
			if counters.settlement_next as usize >= jobs.len() {
				SettlementQueue::<T>::pop(&mut counters);
				counters.settlement_next = 0;
				batch = None;
				weight.saturating_accrue(T::DbWeight::get().writes(1));
			}
		}
		if counters != before {
			JobCounters::<T>::put(counters);
		}
		weight
	}

	/// Removes up to `MaxRemovalsPerBlock` settled records whose retention period has ended,
	/// returning their deposits. Records go in id order: a record not yet due (still live, or
	/// settled less than the retention period ago) holds back the later ones, which is what
	/// spares each job a queue entry. Jobs settle within a bounded time of their posting, far
	/// shorter than the retention period, so the wait is short against the period.
	///
	/// The counters are read and written once; the first removal is charged
	/// [`WeightInfo::remove_job`], each later one what one more adds
	/// ([`WeightInfo::remove_jobs`] measures a block removing `n` records).
	pub(crate) fn remove_expired_records(now: BlockNumberFor<T>) -> Weight {
		let mut weight = Weight::zero();
		let mut counters = JobCounters::<T>::get();
		let before = counters;
		let mut retention = None;
		let next_record =
			T::WeightInfo::remove_jobs(2).saturating_sub(T::WeightInfo::remove_jobs(1));
		let mut removed = 0u32;
		for _ in 0..T::MaxRemovalsPerBlock::get() {
			let job = counters.next_to_remove;
			if job >= counters.next_job {
				break;
			}
			let record = Jobs::<T>::get(job);
			let due = match record.as_ref().map(|record| record.status) {
				Some(JobStatus::Settled { at, .. }) => {
					let retention = *retention.get_or_insert_with(T::RetentionPeriod::get);
					at.saturating_add(retention) <= now
				},
				// Cancelled: nothing to remove.
				None => true,
				Some(_) => false,
			};
			if !due {
				// The read of the record that holds back the rest.
				weight.saturating_accrue(T::DbWeight::get().reads(1));
				break;
			}
			counters.next_to_remove = job.saturating_add(1);
			let Some(record) = record else {
				weight.saturating_accrue(T::DbWeight::get().reads(1));
				continue;
			};
			counters.stored = counters.stored.saturating_sub(1);
			let deposit = Self::release_deposit(&record);
			let _ = Outputs::<T>::clear_prefix(job, T::MaxSeats::get(), None);
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobRemoved { job, deposit });
			weight.saturating_accrue(if removed == 0 {
				T::WeightInfo::remove_job()
			} else {
				next_record
			});
			removed = removed.saturating_add(1);
		}
		if counters != before {
			JobCounters::<T>::put(counters);
		}
		weight
	}

	/// Checks the pallet's invariants: the escrow and deposit holds of every requester equal
	/// what its stored jobs owe; every seat of a live job names a registered worker that lists
	/// the job; the count matches the records; every record lies between the removal cursor
	/// and the next id; every pending job the assignment cursor has passed waits to be retried.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut live_seats: BTreeMap<T::AccountId, usize> = BTreeMap::new();
		let mut count: u32 = 0;
		let counters = JobCounters::<T>::get();
		ensure!(counters.next_to_assign <= counters.next_job, "assignment is past the last job");
		ensure!(counters.next_to_remove <= counters.next_job, "removal is past the last job");
		let retries: alloc::collections::btree_set::BTreeSet<JobId> =
			RetryItems::<T>::iter_values().collect();
		// The jobs the settlement hook has yet to reach.
		let mut awaiting_settlement = alloc::collections::btree_set::BTreeSet::new();
		let bounds = counters.settlement;
		for position in bounds.head..bounds.tail {
			let batch = SettlementBatches::<T>::get(position)
				.ok_or("a settlement batch inside the queue's bounds is missing")?;
			ensure!(!batch.is_empty(), "an empty settlement batch is queued");
			let skip = if position == bounds.head { counters.settlement_next as usize } else { 0 };
			ensure!(skip < batch.len(), "the settlement hook is past its batch");
			awaiting_settlement.extend(batch.into_iter().skip(skip));
		}
		ensure!(
			SettlementBatches::<T>::iter_keys()
				.all(|key| (bounds.head..bounds.tail).contains(&key)),
			"a settlement batch lies outside the queue's bounds"
		);
		for (job, record) in Jobs::<T>::iter() {
			count = count.saturating_add(1);
			ensure!(
				(counters.next_to_remove..counters.next_job).contains(&job),
				"a record is outside the ids removal has yet to reach"
			);
			if record.status == JobStatus::Pending && job < counters.next_to_assign {
				ensure!(retries.contains(&job), "a pending job is neither new nor queued to retry");
			}
			if matches!(record.status, JobStatus::Escalating { .. }) {
				ensure!(retries.contains(&job), "an escalating job is not queued for its seats");
			}
			ensure!(
				record.seats.len() as u32 <= Self::seat_bound(record.replicas, record.security),
				"a job has more seats than its bound"
			);
			if record.security == Security::Replicated {
				ensure!(record.audit == Audit::Undecided, "a replicated job has an audit");
			}
			ensure!(
				record.seats.iter().all(|seat| seat.round <= record.round),
				"a seat belongs to a round that has not begun"
			);
			let owed = escrow.entry(record.requester.clone()).or_default();
			*owed = owed.saturating_add(record.escrow);
			let owed = deposits.entry(record.requester.clone()).or_default();
			*owed = owed.saturating_add(record.deposit);
			match record.status {
				JobStatus::Settled { .. } => {
					ensure!(record.escrow.is_zero(), "a settled job still holds escrow")
				},
				JobStatus::Pending => ensure!(record.seats.is_empty(), "a pending job has seats"),
				JobStatus::Assigned { .. } | JobStatus::Escalating { .. } => {
					if matches!(record.status, JobStatus::Assigned { .. }) && record.awaits_audit()
					{
						ensure!(retries.contains(&job), "a job awaiting its audit is not queued");
					} else if matches!(record.status, JobStatus::Assigned { .. }) {
						ensure!(
							awaiting_settlement.contains(&(job, record.round)),
							"an assigned job is not queued for settlement"
						);
					}
					for seat in record.seats.iter() {
						if !record.holds(seat) {
							ensure!(
								!T::Workers::live_jobs(&seat.worker).contains(&job),
								"a worker still lists a job whose round it failed"
							);
							continue;
						}
						ensure!(
							T::Workers::is_registered(&seat.worker),
							"a seat names an unregistered worker"
						);
						ensure!(
							T::Workers::live_jobs(&seat.worker).contains(&job),
							"a seated worker does not list its job"
						);
						let seats = live_seats.entry(seat.worker.clone()).or_default();
						*seats = seats.saturating_add(1);
					}
				},
			}
		}
		ensure!(count == counters.stored, "the count differs from the jobs stored");
		for (requester, owed) in escrow {
			ensure!(
				<T::Currency as InspectHold<T::AccountId>>::balance_on_hold(
					&HoldReason::Escrow.into(),
					&requester
				) == owed,
				"an escrow hold differs from what the requester's jobs owe"
			);
		}
		for (requester, owed) in deposits {
			ensure!(
				<T::Currency as InspectHold<T::AccountId>>::balance_on_hold(
					&HoldReason::JobDeposit.into(),
					&requester
				) == owed,
				"a deposit hold differs from the deposits of the requester's jobs"
			);
		}
		// Every live job a seated worker lists is one it holds a seat in.
		for (worker, seats) in live_seats {
			ensure!(
				T::Workers::live_jobs(&worker).len() == seats,
				"a worker lists a job it holds no live seat in"
			);
		}
		Ok(())
	}
}
