//! `pallet_jobs`: escrow, assignment, commit-reveal and settlement.

use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::Perbill;

use crate::{
	currency::{MICRO_UNIT, MILLI_UNIT},
	time::{DAYS, MINUTES},
	Balance, Balances, BlockNumber, Models, Rewards, Runtime, RuntimeHoldReason, Workers,
};

parameter_types! {
	/// One minute to run the job and commit.
	pub const CommitWindow: BlockNumber = 30;
	/// Thirty seconds to reveal.
	pub const RevealWindow: BlockNumber = 15;
	/// Outputs stay readable for a day.
	pub const RetentionPeriod: BlockNumber = DAYS;
	/// A job waits at most ten minutes for workers.
	pub const MaxAssignmentDelay: BlockNumber = 10 * MINUTES;
	pub const WrongResultSlash: Perbill = Perbill::from_percent(10);
	pub const NoShowSlash: Perbill = Perbill::from_percent(5);
	pub const MinReplicas: u32 = 1;
	pub const MaxReplicas: u32 = 5;
	pub const JobDepositBase: Balance = 10 * MILLI_UNIT;
	pub const JobDepositPerByte: Balance = 10 * MICRO_UNIT;
}

impl pallet_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Workers = Workers;
	type Rewards = Rewards;
	type Randomness = pallet_jobs::ParentBlockRandomness<Runtime>;
	type CommitWindow = CommitWindow;
	type RevealWindow = RevealWindow;
	type RetentionPeriod = RetentionPeriod;
	type MaxAssignmentDelay = MaxAssignmentDelay;
	type WrongResultSlash = WrongResultSlash;
	type NoShowSlash = NoShowSlash;
	type MinReplicas = MinReplicas;
	type MaxReplicas = MaxReplicas;
	type JobDepositBase = JobDepositBase;
	type JobDepositPerByte = JobDepositPerByte;
	type MaxPromptLen = ConstU32<8192>;
	type MaxOutputTokens = ConstU32<512>;
	type MaxSeats = ConstU32<7>;
	type MaxJobs = ConstU32<65_536>;
	type MaxJobsPerWorker = ConstU32<64>;
	type MaxAssignmentsPerBlock = ConstU32<128>;
	type MaxSettlementsPerBlock = ConstU32<128>;
	type MaxRemovalsPerBlock = ConstU32<128>;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
}
