//! `pallet_grandpa`: the validator set that finalises blocks.

use frame_support::traits::ConstU32;
use sp_core::Void;

use crate::{Runtime, RuntimeEvent};

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = frame_support::traits::ConstU64<0>;
	// Equivocation reports need a session pallet to prove key ownership; without staking there
	// is nothing to slash, so reports are not accepted.
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}
