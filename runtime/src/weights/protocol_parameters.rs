//! Weights for the runtime's `ProtocolParameters` guard.
//!
//! Estimated until `scripts/benchmark.sh` regenerates this file from the benchmarks: a range
//! check, up to one read of a related parameter, and `pallet_parameters::set_parameter`'s read and
//! write.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

/// Weights for the guard using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> crate::governance::parameters::WeightInfo for SubstrateWeight<T> {
	fn set_parameter() -> Weight {
		Weight::from_parts(15_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}
