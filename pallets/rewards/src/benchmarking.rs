//! Benchmarks for the rewards pallet: the worst case of every path whose weight it reports.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::Hooks;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::One;

const SEED: u32 = 0;

/// Records the work of `count` distinct workers in `era`, each `paid` with `fees`, and the era's
/// totals to match.
fn fill_era<T: Config>(era: EraIndex, count: u32, paid: BalanceOf<T>, fees: BalanceOf<T>) {
	let mut totals = Pallet::<T>::era_totals(era).unwrap_or_default();
	for index in 0..count {
		let worker: T::AccountId = account("worker", index, SEED);
		EraWork::<T>::insert(era, &worker, WorkRecord { paid, fees });
		totals.work = totals.work.saturating_add(paid);
		totals.fees = totals.fees.saturating_add(fees);
		totals.workers = totals.workers.saturating_add(1);
	}
	if era == CurrentEra::<T>::get() {
		CurrentEraTotals::<T>::put(totals);
	} else {
		EraTotals::<T>::insert(era, totals);
	}
}

/// A block in which no era closes, unless the runtime closes one in every block.
fn ordinary_block<T: Config>() -> BlockNumberFor<T> {
	One::one()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The worst case: a worker new to an era that holds one worker less than the most it may.
	#[benchmark]
	fn note_paid_work() {
		let era = CurrentEra::<T>::get();
		let others = T::MaxWorkersPerEra::get().saturating_sub(1);
		fill_era::<T>(era, others, 1_000u32.into(), 50u32.into());
		let worker: T::AccountId = account("new worker", 0, SEED);

		#[block]
		{
			<Pallet<T> as WorkRewards<_, _>>::note_paid_work(
				&worker,
				1_000u32.into(),
				50u32.into(),
			);
		}

		assert!(EraWork::<T>::contains_key(era, &worker));
	}

	/// No era to close and none to pay.
	#[benchmark]
	fn on_initialize_idle() {
		let block = ordinary_block::<T>();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}
	}

	/// An era with work closes and is queued.
	#[benchmark]
	fn on_initialize_close_era() {
		let era = CurrentEra::<T>::get();
		fill_era::<T>(era, 1, 1_000u32.into(), 50u32.into());
		let length = T::EraLength::get();

		#[block]
		{
			// With eras turned off the hook never closes one; measure the closing itself.
			if length.is_zero() {
				Pallet::<T>::close_era();
			} else {
				Pallet::<T>::on_initialize(length);
			}
		}

		assert_eq!(CurrentEra::<T>::get(), era.saturating_add(1));
		assert_eq!(PendingEras::<T>::get().first(), Some(&era));
	}

	/// The oldest queued era has `n` workers left: all are paid (each into an account that does
	/// not exist yet, if the share is at least the existential deposit) and the era finishes.
	#[benchmark]
	fn on_initialize_pay(n: Linear<0, { T::MaxPayoutsPerBlock::get() }>) {
		let era = CurrentEra::<T>::get();
		// Fees large enough that the rebate cap does not bind: every worker is minted its share.
		fill_era::<T>(era, n, 1_000u32.into(), u32::MAX.into());
		// Close it by hand: `close_era` does not queue an era without workers (`n` = 0).
		EraTotals::<T>::insert(era, CurrentEraTotals::<T>::take());
		CurrentEra::<T>::put(era.saturating_add(1));
		let queued = PendingEras::<T>::mutate(|queue| queue.try_push(era));
		assert!(queued.is_ok());
		let block = ordinary_block::<T>();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		assert!(!PendingEras::<T>::get().contains(&era));
		assert!(!EraTotals::<T>::contains_key(era));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
