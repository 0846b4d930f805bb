//! `pallet_rewards`: protocol fees and emission per era.

use frame_support::traits::ConstU32;

use crate::{configs::TreasuryAccount, governance::parameters::market, Balances, Runtime};

impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type ProtocolFee = market::ProtocolFee;
	type TreasuryAccount = TreasuryAccount;
	type EraLength = market::EraLength;
	type EmissionPerEra = market::EmissionPerEra;
	type RebateCap = market::RebateCap;
	type MaxPayoutsPerBlock = ConstU32<64>;
	type MaxWorkersPerEra = ConstU32<4096>;
	type MaxPendingEras = ConstU32<8>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}
