//! `pallet_models`: the model registry.

use frame_support::{parameter_types, traits::ConstU32};

use crate::{currency::UNIT, AccountId, Balance, Balances, Runtime, RuntimeHoldReason};

parameter_types! {
	/// Held from whoever registers a model, returned on deregistration.
	pub const ModelDeposit: Balance = 10 * UNIT;
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	// Governance takes this over with its own origin.
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type ModelDeposit = ModelDeposit;
	type MaxTextLen = ConstU32<64>;
	type MaxModels = ConstU32<1024>;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}
