//! `pallet_workers`: staked workers.

use frame_support::traits::ConstU32;

use crate::{
	configs::TreasuryAccount, governance::parameters::market, Balances, Models, Runtime,
	RuntimeHoldReason,
};

impl pallet_workers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type MinWorkerStake = market::MinWorkerStake;
	type UnbondingPeriod = market::UnbondingPeriod;
	type TreasuryAccount = TreasuryAccount;
	type MaxModelsPerWorker = ConstU32<8>;
	type MaxWorkersPerModel = ConstU32<256>;
	type MaxUnbondingChunks = ConstU32<16>;
	type MaxWorkers = ConstU32<4096>;
	type MaxLiveJobs = ConstU32<64>;
	type MaxSlots = ConstU32<16>;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::configs::jobs::RegistryHelper;
}
