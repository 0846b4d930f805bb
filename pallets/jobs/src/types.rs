//! The records a job is made of.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use commons_primitives::{Commitment, JobId, ModelId, OutputHash};
use frame_support::{pallet_prelude::*, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};

pub use commons_primitives::{MAX_TEMPERATURE, MAX_TOP_K, TEMPERATURE_ONE};

/// How the next token is chosen from the logits.
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
pub enum Sampling {
	/// The highest logit; ties go to the lowest token id.
	Greedy,
	/// Seeded sampling among the `top_k` highest logits at `temperature` (thousandths).
	TopK {
		/// Temperature in thousandths, `1..=MAX_TEMPERATURE`.
		temperature: u32,
		/// How many of the highest logits are kept, `1..=MAX_TOP_K`.
		top_k: u32,
		/// Seed of the counter-based generator; the same seed gives the same tokens.
		seed: u64,
	},
}

impl Sampling {
	/// Whether the parameters are within their ranges.
	pub fn is_valid(&self) -> bool {
		match *self {
			Sampling::Greedy => true,
			Sampling::TopK { temperature, top_k, .. } => {
				(1..=MAX_TEMPERATURE).contains(&temperature) && (1..=MAX_TOP_K).contains(&top_k)
			},
		}
	}
}

/// Audit rates are in parts per million: 1_000_000 audits every job.
pub const PPM: u32 = 1_000_000;

/// How a job's answer is verified.
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
pub enum Security {
	/// `replicas` workers run it; a majority of them must agree.
	Replicated,
	/// One worker runs it. Once its commitment is in a block, the hash of the next block
	/// decides, with probability `rate` parts per million, whether an auditor (another worker,
	/// drawn as seats are) runs it blind; the two must agree.
	Audited {
		/// The audit rate in parts per million, `Config::MinAuditRate..=PPM`.
		rate: u32,
	},
}

/// Where the audit of an audited job stands.
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
pub enum Audit<BlockNumber> {
	/// Nothing decided: a replicated job, or an audited one whose worker has not committed.
	Undecided,
	/// The worker committed in block `committed_at`; the hash of the block after it decides.
	/// Reveals wait for the decision.
	Deciding {
		/// The block that carried the commitment.
		committed_at: BlockNumber,
	},
	/// Not audited: the worker's answer alone settles the job.
	Skipped,
	/// Audited: an auditor is being drawn (`seated` false; reveals wait for it) or holds a
	/// seat beside the worker's, and two seats must agree.
	Audited {
		/// Whether the auditor holds its seat.
		seated: bool,
	},
}

/// How a settled job ended.
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
pub enum Verdict {
	/// At least a majority of the replicas asked for, and more seats than all other
	/// reveals together, revealed this output hash.
	Accepted {
		/// The agreed output hash.
		output_hash: OutputHash,
	},
	/// No output had a majority when no further seat could be drawn (the job's seat bound
	/// was reached or no worker could be assigned in time).
	NoQuorum,
	/// No set of workers could be assigned before the deadline.
	Expired,
}

/// Where a job is in its life.
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
pub enum JobStatus<BlockNumber> {
	/// Waiting for workers to be assigned.
	Pending,
	/// Its reveals had no majority: it waits for further seats (a new round), drawn as the
	/// first ones were.
	Escalating {
		/// How many further seats it needs.
		needed: u32,
	},
	/// Workers hold the seats of its current round: they commit until `commit_end`, then
	/// reveal until `reveal_end`.
	Assigned {
		/// The block it was assigned in.
		at: BlockNumber,
		/// The last block in which a commitment is accepted.
		commit_end: BlockNumber,
		/// The last block in which a reveal is accepted.
		reveal_end: BlockNumber,
	},
	/// Settled; the record stays for the retention period.
	Settled {
		/// The block it settled in.
		at: BlockNumber,
		/// How it ended.
		verdict: Verdict,
	},
}

/// Head and tail of a first-in first-out queue of job ids.
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
	Default,
)]
pub struct QueueBounds {
	/// The position of the oldest entry.
	pub head: u64,
	/// The position the next entry takes.
	pub tail: u64,
}

/// The pallet's counters: the next job id, the number of stored records, the two cursors over
/// job ids and the bounds of the two queues. One value, so that posting, assigning, settling or
/// removing a job writes it once however many of them change.
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
	Default,
)]
pub struct Counters {
	/// The id the next posted job gets.
	pub next_job: JobId,
	/// How many job records are stored; bounded by `Config::MaxJobs`.
	pub stored: u32,
	/// Jobs from this id up to `next_job` have not been tried for assignment yet: ids are
	/// given in posting order, so new jobs need no queue of their own.
	pub next_to_assign: JobId,
	/// The queue of jobs that found too few candidates and are tried again.
	pub retries: QueueBounds,
	/// The queue of assignment batches (the jobs one block assigned, whose windows end
	/// together), in the order their windows end.
	pub settlement: QueueBounds,
	/// How many jobs of the batch at the head of the settlement queue the hook has passed.
	pub settlement_next: u32,
	/// Records are removed in id order: every stored job has this id or a later one.
	pub next_to_remove: JobId,
}

/// A worker's seat in a job.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Seat<AccountId> {
	/// The assigned worker.
	pub worker: AccountId,
	/// The round it was drawn in: 0 for the first seats, one more for each escalation. Only
	/// the current round's seats commit and reveal.
	pub round: u8,
	/// Its commitment, once sent.
	pub commitment: Option<Commitment>,
	/// The hash of the output it revealed, once revealed.
	pub revealed: Option<OutputHash>,
}

/// A job, from posting until its record is removed.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Job<T: Config> {
	/// Who posted and pays for it.
	pub requester: T::AccountId,
	/// The model to run.
	pub model: ModelId,
	/// The engine version of the model when posted; part of the output hash.
	pub engine_version: u32,
	/// The prompt, as UTF-8 bytes.
	pub prompt: BoundedVec<u8, T::MaxPromptLen>,
	/// The most tokens to generate.
	pub max_tokens: u32,
	/// How tokens are chosen.
	pub sampling: Sampling,
	/// How many workers run it at first: a majority of them must agree (1 for an audited job).
	pub replicas: u32,
	/// How its answer is verified.
	pub security: Security,
	/// Where its audit stands (audited jobs).
	pub audit: Audit<BlockNumberFor<T>>,
	/// The current round: 0 until the first escalation.
	pub round: u8,
	/// What each agreeing worker is paid.
	pub price_per_replica: BalanceOf<T>,
	/// The protocol fee owed on each paid replica.
	pub fee_per_replica: BalanceOf<T>,
	/// What is still held in escrow for it.
	pub escrow: BalanceOf<T>,
	/// The storage deposit held until its record is removed.
	pub deposit: BalanceOf<T>,
	/// The last block in which its pending seats may be assigned (for an escalation, counted
	/// from the escalation).
	pub deadline: BlockNumberFor<T>,
	/// The block it was posted in.
	pub posted_at: BlockNumberFor<T>,
	/// Where it is in its life.
	pub status: JobStatus<BlockNumberFor<T>>,
	/// The assigned workers' seats of every round, empty until assignment.
	pub seats: BoundedVec<Seat<T::AccountId>, T::MaxSeats>,
}

impl<T: Config> Job<T> {
	/// The tokens it makes a worker process at most: the unit of declared throughput.
	pub fn work(&self) -> u64 {
		commons_primitives::job_work(self.prompt.len() as u32, self.max_tokens)
	}

	/// Whether `seat` belongs to the round being committed and revealed now.
	pub fn in_current_round(&self, seat: &Seat<T::AccountId>) -> bool {
		seat.round == self.round && matches!(self.status, JobStatus::Assigned { .. })
	}

	/// Whether the reveals of the current round wait for the audit: its decision, or the
	/// auditor's seat.
	pub fn awaits_audit(&self) -> bool {
		matches!(self.audit, Audit::Deciding { .. } | Audit::Audited { seated: false })
	}

	/// Whether `seat`'s worker still holds the job: a seat of the current round, or one that
	/// revealed and waits for the verdict. A seat that failed to reveal in an earlier round was
	/// slashed and released when that round ended.
	pub fn holds(&self, seat: &Seat<T::AccountId>) -> bool {
		self.in_current_round(seat) || seat.revealed.is_some()
	}
}

/// Why a worker was slashed.
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
pub enum SlashReason {
	/// It revealed an output that disagreed with the accepted one.
	WrongResult,
	/// It did not commit, or did not reveal what it committed.
	NoShow,
}

/// What a worker must do next for a job (a view for workers).
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
pub enum Duty {
	/// Run the job and commit by `until`.
	Commit {
		/// The last block of the commit window.
		until: u64,
	},
	/// Reveal the committed output from `from` until `until`.
	Reveal {
		/// The first block in which a reveal is accepted.
		from: u64,
		/// The last block of the reveal window.
		until: u64,
	},
	/// Committed; nothing to do until the reveal window opens.
	Wait,
}

/// What posting a job would hold from the requester (a view for clients). Escrow is held for
/// every seat escalation could draw; what the job does not use returns at settlement.
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
pub struct Quote<Balance> {
	/// The model's floor price per replica.
	pub min_price: Balance,
	/// The least a job may offer per replica now: the model's market price (the stake-weighted
	/// median of its workers' asks), at least the floor.
	pub market_price: Balance,
	/// `replicas × price`: what the workers are paid if all agree.
	pub payment: Balance,
	/// The protocol fee on top of the payment.
	pub fee: Balance,
	/// Price and fee of the further seats an escalation may draw, held and returned unless
	/// they are used.
	pub escalation: Balance,
	/// The congestion surcharge: paid to the treasury, never returned, when more than two
	/// blocks' worth of jobs wait for assignment ([`crate::Pallet::surcharge`]).
	pub surcharge: Balance,
	/// The storage deposit, returned when the record is removed.
	pub deposit: Balance,
	/// Everything a post takes: payment, fee, escalation and deposit held, and the surcharge.
	pub total: Balance,
	/// What the job is expected to cost when every seat is honest: payment and fee of the
	/// replicas, or of one run plus an audit at the audit rate (rounded up), plus the
	/// surcharge.
	pub expected: Balance,
}
