// Estimated until scripts/benchmark.sh regenerates this file.
//
// The figures below are conservative hand estimates in the layout that FRAME's benchmark CLI
// (`benchmark pallet --pallet pallet_rewards --extrinsic "*"`) writes, so that regenerating
// the file changes numbers, not shapes. Reads and writes are counted from
// the code; execution times are rounded up generously.

//! Weights for `pallet_rewards` (estimated, not yet benchmarked).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_rewards`.
pub trait WeightInfo {
	/// `WorkRewards::note_paid_work`, worst case: a new worker in the era. The jobs pallet adds
	/// it to the weight of each call that pays a worker.
	fn note_paid_work() -> Weight;
	/// `on_initialize` with no era to close and none to pay.
	fn on_initialize_idle() -> Weight;
	/// `on_initialize` closing an era and queueing it for payout.
	fn on_initialize_close_era() -> Weight;
	/// `on_initialize` paying `n` workers of the oldest queued era and finishing it.
	fn on_initialize_pay(n: u32, ) -> Weight;
}

/// Weights for `pallet_rewards` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Rewards::CurrentEra` (r:1 w:0)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:1 w:1)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(92), added: 2567, mode: `MaxEncodedLen`)
	fn note_paid_work() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3557`
		// Minimum execution time: estimated.
		Weight::from_parts(25_000_000, 3557)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:0)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	fn on_initialize_idle() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `1501`
		// Minimum execution time: estimated.
		Weight::from_parts(5_000_000, 1501)
			.saturating_add(T::DbWeight::get().reads(2_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:1)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEra` (r:1 w:1)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	fn on_initialize_close_era() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3513`
		// Minimum execution time: estimated.
		Weight::from_parts(25_000_000, 3513)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:1)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentPayout` (r:1 w:1)
	/// Proof: `Rewards::CurrentPayout` (`max_values`: Some(1), `max_size`: Some(52), added: 547, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:n+1 w:n)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(92), added: 2567, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:n w:n)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::TotalIssuance` (r:n w:n)
	/// Proof: `Balances::TotalIssuance` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[0, MaxPayoutsPerBlock]`.
	fn on_initialize_pay(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3557 + n * (5170 ±0)`
		// Minimum execution time: estimated.
		Weight::from_parts(35_000_000, 3557)
			.saturating_add(Weight::from_parts(70_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 5170).saturating_mul(n.into()))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	/// Storage: `Rewards::CurrentEra` (r:1 w:0)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:1 w:1)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(92), added: 2567, mode: `MaxEncodedLen`)
	fn note_paid_work() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3557`
		// Minimum execution time: estimated.
		Weight::from_parts(25_000_000, 3557)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:0)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	fn on_initialize_idle() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `1501`
		// Minimum execution time: estimated.
		Weight::from_parts(5_000_000, 1501)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:1)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEra` (r:1 w:1)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	fn on_initialize_close_era() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3513`
		// Minimum execution time: estimated.
		Weight::from_parts(25_000_000, 3513)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	/// Storage: `Rewards::PendingEras` (r:1 w:1)
	/// Proof: `Rewards::PendingEras` (`max_values`: Some(1), `max_size`: None, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraTotals` (r:1 w:1)
	/// Proof: `Rewards::EraTotals` (`max_values`: None, `max_size`: Some(48), added: 2523, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentPayout` (r:1 w:1)
	/// Proof: `Rewards::CurrentPayout` (`max_values`: Some(1), `max_size`: Some(52), added: 547, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:n+1 w:n)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(92), added: 2567, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:n w:n)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::TotalIssuance` (r:n w:n)
	/// Proof: `Balances::TotalIssuance` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[0, MaxPayoutsPerBlock]`.
	fn on_initialize_pay(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3557 + n * (5170 ±0)`
		// Minimum execution time: estimated.
		Weight::from_parts(35_000_000, 3557)
			.saturating_add(Weight::from_parts(70_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 5170).saturating_mul(n.into()))
	}
}
