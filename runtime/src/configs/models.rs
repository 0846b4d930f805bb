//! `pallet_models`: the model registry.

use frame_support::traits::ConstU32;

use crate::{governance::parameters::market, Balances, Runtime, RuntimeHoldReason};

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	// Root or a parameters-track referendum.
	type AdminOrigin = super::governance::ModelAdmin;
	type ModelDeposit = market::ModelDeposit;
	type MaxTextLen = ConstU32<64>;
	type MaxModels = ConstU32<1024>;
	// An hour of blocks: a busy model's record is written once an hour, and its owner waits
	// at most an hour past its last job to deregister it.
	type ReservationStep = ConstU32<{ crate::time::HOURS }>;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}
