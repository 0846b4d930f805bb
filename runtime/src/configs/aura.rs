//! `pallet_aura`: round-robin block authoring among the validators.

use frame_support::traits::ConstU32;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;

use crate::{time::SLOT_DURATION, Runtime};

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = frame_support::traits::ConstBool<false>;
	type SlotDuration = frame_support::traits::ConstU64<SLOT_DURATION>;
}
