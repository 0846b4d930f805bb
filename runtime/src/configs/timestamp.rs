//! `pallet_timestamp`: the block's wall-clock time, set by an inherent.

use crate::{time::SLOT_DURATION, Aura, Runtime};

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	// Two timestamps must be at least half a slot apart; Aura needs no more.
	type MinimumPeriod = frame_support::traits::ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}
