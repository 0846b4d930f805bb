//! `pallet_rewards`: protocol fees and emission per era.

use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::Perbill;

use crate::{
	configs::TreasuryAccount, currency::UNIT, time::HOURS, Balance, Balances, BlockNumber, Runtime,
};

parameter_types! {
	/// Paid by the requester on top of each worker's payment, to the treasury.
	pub const ProtocolFee: Perbill = Perbill::from_percent(5);
	pub const EraLength: BlockNumber = HOURS;
	pub const EmissionPerEra: Balance = 1_000 * UNIT;
	/// A worker's emission is at most half the protocol fees its work paid: paying yourself
	/// for jobs to farm emission loses money.
	pub const RebateCap: Perbill = Perbill::from_percent(50);
}

impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type ProtocolFee = ProtocolFee;
	type TreasuryAccount = TreasuryAccount;
	type EraLength = EraLength;
	type EmissionPerEra = EmissionPerEra;
	type RebateCap = RebateCap;
	type MaxPayoutsPerBlock = ConstU32<64>;
	type MaxWorkersPerEra = ConstU32<4096>;
	type MaxPendingEras = ConstU32<8>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}
