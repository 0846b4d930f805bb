//! `pallet_utility`: batches of calls in one transaction. A worker seated in several jobs sends
//! their commits (or reveals) in one `force_batch`, paying one transaction's base weight and fee
//! instead of one each; a failing call does not stop the others.

use crate::{OriginCaller, Runtime, RuntimeCall, RuntimeEvent};

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}
