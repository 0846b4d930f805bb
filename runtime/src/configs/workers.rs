//! `pallet_workers`: staked workers.

use frame_support::{parameter_types, traits::ConstU32};

use crate::{
	configs::TreasuryAccount, currency::UNIT, time::HOURS, Balance, Balances, BlockNumber, Models,
	Runtime, RuntimeHoldReason,
};

parameter_types! {
	/// The least bonded stake that makes a worker eligible: high enough that filling all seats
	/// of a job with one operator's accounts costs real money.
	pub const MinWorkerStake: Balance = 100 * UNIT;
	/// Far longer than any job's windows, so stake backing a job stays slashable.
	pub const UnbondingPeriod: BlockNumber = HOURS;
}

impl pallet_workers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type MinWorkerStake = MinWorkerStake;
	type UnbondingPeriod = UnbondingPeriod;
	type TreasuryAccount = TreasuryAccount;
	type MaxModelsPerWorker = ConstU32<8>;
	type MaxWorkersPerModel = ConstU32<256>;
	type MaxUnbondingChunks = ConstU32<16>;
	type MaxWorkers = ConstU32<4096>;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
}
