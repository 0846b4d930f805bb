//! # Rewards pallet
//!
//! The economics of Commons' work, in two parts.
//!
//! **Protocol fee.** A requester pays [`Config::ProtocolFee`] of every payment to a worker on top
//! of that payment, to [`Config::TreasuryAccount`]. The jobs pallet moves the money; this pallet
//! only computes the fee and names its destination, through
//! [`commons_primitives::WorkRewards`].
//!
//! **Emission per era.** Every [`Config::EraLength`] blocks the current era closes. Each worker
//! that did verified, paid work in it is minted
//!
//! ```text
//! min(EmissionPerEra × work_i / total_work, RebateCap × fees_i)
//! ```
//!
//! where `work_i` is what it was paid for its verified work in the era and `fees_i` the
//! protocol fees its work generated. The share is computed exactly (multiply, then divide, in
//! 128 bits, rounding down). Whatever the caps leave of `EmissionPerEra` is not minted. With
//! `RebateCap` below 100%, a worker that pays itself through fake jobs gets back less in emission
//! than it paid in fees: farming emission loses money.
//!
//! ## Eras and payouts
//!
//! - Era `e` covers the blocks `[e × EraLength, (e + 1) × EraLength)`: at the start of block
//!   `(e + 1) × EraLength` (`on_initialize`) era `e` closes and is queued for payout. An era length
//!   of zero means that eras never close (emission is off).
//! - Payouts happen in `on_initialize`, at most [`Config::MaxPayoutsPerBlock`] workers per block,
//!   from the oldest queued era only; the era closed in a block starts being paid the next block.
//! - At most [`Config::MaxPendingEras`] eras wait for payout. If the queue is full when an era
//!   should close, it stays open until the next era boundary ([`Event::EraCloseDeferred`]): work
//!   is never dropped, the era is longer.
//! - An era holds at most [`Config::MaxWorkersPerEra`] distinct workers. Work by a further worker
//!   is not recorded ([`Event::WorkNotRecorded`]); the work is still paid by the jobs pallet, it
//!   just earns no emission.
//! - A mint that fails (for example a reward below the existential deposit into an account that
//!   does not exist) is skipped ([`Event::RewardNotMinted`]); the amount is not minted.
//!
//! All parameters are read through `Get` each time they are used, so that governance can hand
//! them to token holders (for example through `pallet-parameters`) without touching this pallet.
//!
//! The pallet has no calls.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use commons_primitives::WorkRewards;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use scale_info::TypeInfo;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedDiv, CheckedMul, Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero},
	Perbill, Rounding,
};

/// The index of an era.
pub type EraIndex = u32;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// One worker's work in one era.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
)]
pub struct WorkRecord<Balance> {
	/// What the worker was paid for verified work in the era.
	pub paid: Balance,
	/// The protocol fees its work generated in the era.
	pub fees: Balance,
}

/// A worker's earnings in an era the chain still records: what its work was paid, and the
/// emission it is (or, for the open era, would be at its current totals) minted at payout.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct EraEarnings<Balance> {
	/// The era.
	pub era: EraIndex,
	/// Whether the era has closed (its totals are final) and waits for its payout.
	pub closed: bool,
	/// Payments for the worker's verified work in the era.
	pub paid: Balance,
	/// The protocol fees that work generated.
	pub fees: Balance,
	/// The emission for the era: `min(emission × paid / total_work, cap × fees)`.
	pub emission: Balance,
}

/// The totals of an era: the sums of its [`WorkRecord`]s and how many there are.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
)]
pub struct EraTotal<Balance> {
	/// The sum of the workers' paid work.
	pub work: Balance,
	/// The sum of the workers' fees.
	pub fees: Balance,
	/// How many distinct workers have a record.
	pub workers: u32,
}

/// How far the payout of the oldest queued era has gone.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
)]
pub struct PayoutProgress<Balance> {
	/// How many workers have been paid (their records removed).
	pub workers: u32,
	/// The sum of the paid work of the records removed so far.
	pub work: Balance,
	/// The sum of the fees of the records removed so far.
	pub fees: Balance,
	/// What has been minted so far.
	pub minted: Balance,
}

// The pallet macro's generated impls (`PalletInfoAccess`, each storage item's `StorageInstance`)
// call `expect` on the runtime's `PalletInfo`, spanned at `#[pallet::pallet]` and
// `#[pallet::storage]`, so the lint lands on this module. They cannot fail once the pallet is in
// `construct_runtime!`. The pallet's own logic lives outside this module, under every lint.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// The rewards pallet.
	/// The layout of this pallet's storage. A release that changes it moves this one up and
	/// adds the `VersionedMigration` from the previous one to the runtime's `Migrations`
	/// (docs/chain.md, "Upgrades").
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency emission is minted in.
		type Currency: Mutate<Self::AccountId>;
		/// The protocol fee, as a fraction of a payment to a worker, paid on top of it.
		type ProtocolFee: Get<Perbill>;
		/// The account that receives protocol fees.
		type TreasuryAccount: Get<Self::AccountId>;
		/// How many blocks an era lasts; zero means eras never close.
		type EraLength: Get<BlockNumberFor<Self>>;
		/// The most that is minted for one era.
		type EmissionPerEra: Get<BalanceOf<Self>>;
		/// The most a worker is minted for an era, as a fraction of the fees its work generated.
		type RebateCap: Get<Perbill>;
		/// The most workers paid in one block.
		#[pallet::constant]
		type MaxPayoutsPerBlock: Get<u32>;
		/// The most distinct workers whose work an era records.
		#[pallet::constant]
		type MaxWorkersPerEra: Get<u32>;
		/// The most closed eras that wait for their payout.
		#[pallet::constant]
		type MaxPendingEras: Get<u32>;
		/// Weights of this pallet's hooks and of [`WorkRewards::note_paid_work`].
		type WeightInfo: WeightInfo;
	}

	/// The era that work is recorded in now.
	///
	/// Whitelisted in the benchmarks: every paid job of a block reads it, the database once; the
	/// hook charges that read once per block.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type CurrentEra<T> = StorageValue<_, EraIndex, ValueQuery>;

	/// The totals of the current era, added to by every paid job.
	///
	/// Whitelisted like [`CurrentEra`]: the hook charges one read and one write per block,
	/// however many jobs of the block add to it.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type CurrentEraTotals<T: Config> = StorageValue<_, EraTotal<BalanceOf<T>>, ValueQuery>;

	/// Each worker's work in each era not yet paid out: era, then worker.
	///
	/// The era key is `Twox64Concat`: eras are sequential numbers the chain chooses, nobody can
	/// pick them to unbalance the trie.
	#[pallet::storage]
	pub type EraWork<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EraIndex,
		Blake2_128Concat,
		T::AccountId,
		WorkRecord<BalanceOf<T>>,
		OptionQuery,
	>;

	/// The totals of each closed era waiting for its payout.
	///
	/// `Twox64Concat`: eras are sequential numbers the chain chooses.
	#[pallet::storage]
	pub type EraTotals<T: Config> =
		StorageMap<_, Twox64Concat, EraIndex, EraTotal<BalanceOf<T>>, OptionQuery>;

	/// Closed eras waiting for their payout, oldest first.
	#[pallet::storage]
	pub type PendingEras<T: Config> =
		StorageValue<_, BoundedVec<EraIndex, T::MaxPendingEras>, ValueQuery>;

	/// How far the payout of the oldest era in [`PendingEras`] has gone.
	#[pallet::storage]
	pub type CurrentPayout<T: Config> = StorageValue<_, PayoutProgress<BalanceOf<T>>, ValueQuery>;

	/// The pallet's events.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An era closed and, if anyone worked in it, was queued for payout.
		EraClosed {
			/// The era that closed.
			era: EraIndex,
			/// The sum of the paid work recorded in it.
			total_work: BalanceOf<T>,
			/// How many distinct workers it recorded.
			workers: u32,
		},
		/// An era was due to close, but the payout queue was full: it stays open until the next
		/// era boundary.
		EraCloseDeferred {
			/// The era that stays open.
			era: EraIndex,
		},
		/// A worker was minted its reward for an era.
		RewardPaid {
			/// The era the reward is for.
			era: EraIndex,
			/// The worker paid.
			worker: T::AccountId,
			/// The amount minted.
			amount: BalanceOf<T>,
		},
		/// A worker's reward could not be minted (for example, below the existential deposit
		/// into an account that does not exist); it is not minted.
		RewardNotMinted {
			/// The era the reward was for.
			era: EraIndex,
			/// The worker not paid.
			worker: T::AccountId,
			/// The amount that was not minted.
			amount: BalanceOf<T>,
		},
		/// All the workers of an era were paid.
		EraPaid {
			/// The era paid.
			era: EraIndex,
			/// The sum minted for it.
			minted: BalanceOf<T>,
		},
		/// A worker's work was not recorded: the era already holds the most workers it can.
		WorkNotRecorded {
			/// The era that is full.
			era: EraIndex,
			/// The worker whose work was not recorded.
			worker: T::AccountId,
		},
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// The worker's earnings in each era not yet paid out, oldest first: the closed eras
		/// waiting for their payout, then the open one. Paid eras are in `RewardPaid` events.
		pub fn earnings(worker: T::AccountId) -> Vec<EraEarnings<BalanceOf<T>>> {
			let closed = PendingEras::<T>::get()
				.into_iter()
				.map(|era| (era, true, EraTotals::<T>::get(era).unwrap_or_default()));
			let open =
				core::iter::once((CurrentEra::<T>::get(), false, CurrentEraTotals::<T>::get()));
			let (emission, cap) = (T::EmissionPerEra::get(), T::RebateCap::get());
			closed
				.chain(open)
				.filter_map(|(era, closed, totals)| {
					let record = EraWork::<T>::get(era, &worker)?;
					let emission = Self::reward(emission, cap, totals.work, &record);
					Some(EraEarnings {
						era,
						closed,
						paid: record.paid,
						fees: record.fees,
						emission,
					})
				})
				.collect()
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			// The current era, its totals and the fee destination's account are read and
			// written by every paid job of the block, and by the database once: the benchmarks
			// leave them out (the runtime's list adds the fee destination's account) and the
			// block pays for them here.
			let mut weight = T::DbWeight::get().reads_writes(3, 2);
			weight.saturating_accrue(match Self::pay_oldest_era() {
				Some(paid) => T::WeightInfo::on_initialize_pay(paid),
				None => T::WeightInfo::on_initialize_idle(),
			});
			if Self::is_era_boundary(n) {
				Self::close_era();
				weight.saturating_accrue(T::WeightInfo::on_initialize_close_era());
			}
			weight
		}

		fn integrity_test() {
			assert!(T::MaxPayoutsPerBlock::get() > 0, "MaxPayoutsPerBlock must be positive");
			assert!(T::MaxWorkersPerEra::get() > 0, "MaxWorkersPerEra must be positive");
			assert!(T::MaxPendingEras::get() > 0, "MaxPendingEras must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Whether an era closes at the start of block `n`: `n` is a multiple of a non-zero
	/// [`Config::EraLength`].
	fn is_era_boundary(n: frame_system::pallet_prelude::BlockNumberFor<T>) -> bool {
		let length = T::EraLength::get();
		// `n` is a multiple of `length` when rounding `n / length` down loses nothing.
		!length.is_zero()
			&& n.checked_div(&length).and_then(|eras| eras.checked_mul(&length)) == Some(n)
	}

	/// What a worker with `record` is minted for an era with `total_work` of work:
	/// `min(emission × paid / total_work, cap × fees)`, rounding down.
	pub fn reward(
		emission: BalanceOf<T>,
		cap: Perbill,
		total_work: BalanceOf<T>,
		record: &WorkRecord<BalanceOf<T>>,
	) -> BalanceOf<T> {
		let share = multiply_by_rational_with_rounding(
			emission.unique_saturated_into(),
			record.paid.unique_saturated_into(),
			total_work.unique_saturated_into(),
			Rounding::Down,
		)
		.map(BalanceOf::<T>::unique_saturated_from)
		.unwrap_or_else(Zero::zero);
		share.min(cap.mul_floor(record.fees))
	}

	/// The totals of `era`: the current one (`None` while nothing is recorded in it) or one
	/// waiting for its payout.
	pub fn era_totals(era: EraIndex) -> Option<EraTotal<BalanceOf<T>>> {
		if era == CurrentEra::<T>::get() {
			Some(CurrentEraTotals::<T>::get()).filter(|totals| *totals != EraTotal::default())
		} else {
			EraTotals::<T>::get(era)
		}
	}

	/// Closes the current era: queues it for payout (or, with nobody in it, finishes it at
	/// once) and opens the next. Leaves it open if the payout queue is full.
	pub(crate) fn close_era() {
		let era = CurrentEra::<T>::get();
		let Some(next) = era.checked_add(1) else {
			// Four billion eras: nothing sensible is left to do.
			return;
		};
		let totals = CurrentEraTotals::<T>::get();
		if totals.workers == 0 {
			CurrentEraTotals::<T>::kill();
			CurrentEra::<T>::put(next);
			Self::deposit_event(Event::EraClosed { era, total_work: totals.work, workers: 0 });
			Self::deposit_event(Event::EraPaid { era, minted: Zero::zero() });
			return;
		}
		if PendingEras::<T>::mutate(|queue| queue.try_push(era)).is_err() {
			Self::deposit_event(Event::EraCloseDeferred { era });
			return;
		}
		EraTotals::<T>::insert(era, totals);
		CurrentEraTotals::<T>::kill();
		CurrentEra::<T>::put(next);
		Self::deposit_event(Event::EraClosed {
			era,
			total_work: totals.work,
			workers: totals.workers,
		});
	}

	/// Pays up to [`Config::MaxPayoutsPerBlock`] workers of the oldest queued era, and finishes
	/// the era when none is left. Returns how many workers it paid, or `None` if no era waits.
	pub(crate) fn pay_oldest_era() -> Option<u32> {
		let era = PendingEras::<T>::get().first().copied()?;
		let totals = EraTotals::<T>::get(era).unwrap_or_default();
		let mut progress = CurrentPayout::<T>::get();
		let emission = T::EmissionPerEra::get();
		let cap = T::RebateCap::get();
		let limit = T::MaxPayoutsPerBlock::get();

		let mut paid = 0u32;
		let chunk = EraWork::<T>::drain_prefix(era).take(usize::try_from(limit).unwrap_or(0));
		for (worker, record) in chunk {
			paid = paid.saturating_add(1);
			progress.workers = progress.workers.saturating_add(1);
			progress.work = progress.work.saturating_add(record.paid);
			progress.fees = progress.fees.saturating_add(record.fees);
			// The shares add up to at most `emission` unless the era's totals saturated; the
			// clamp keeps an era's mint within `emission` even then.
			let amount = Self::reward(emission, cap, totals.work, &record)
				.min(emission.saturating_sub(progress.minted));
			if amount.is_zero() {
				continue;
			}
			match T::Currency::mint_into(&worker, amount) {
				Ok(minted) => {
					progress.minted = progress.minted.saturating_add(minted);
					Self::deposit_event(Event::RewardPaid { era, worker, amount: minted });
				},
				Err(_) => Self::deposit_event(Event::RewardNotMinted { era, worker, amount }),
			}
		}

		let finished = paid < limit || EraWork::<T>::iter_key_prefix(era).next().is_none();
		if finished {
			PendingEras::<T>::mutate(|queue| queue.retain(|queued| *queued != era));
			EraTotals::<T>::remove(era);
			CurrentPayout::<T>::kill();
			Self::deposit_event(Event::EraPaid { era, minted: progress.minted });
		} else {
			CurrentPayout::<T>::put(progress);
		}
		Some(paid)
	}

	/// Checks the pallet's invariants:
	///
	/// - the queued eras are strictly increasing, all before [`CurrentEra`], and each has its
	///   totals;
	/// - only the queued eras have totals in [`EraTotals`], and only they and the current era
	///   have work records;
	/// - for the current era and every era with totals, the sums of its work records (plus, for
	///   the era being paid, what its payout has removed so far) equal the totals, and their
	///   count the worker count;
	/// - no payout is in progress when no era is queued.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;

		let current = CurrentEra::<T>::get();
		let queue = PendingEras::<T>::get();
		let progress = CurrentPayout::<T>::get();
		let oldest = queue.first().copied();

		ensure!(
			queue.iter().zip(queue.iter().skip(1)).all(|(earlier, later)| earlier < later),
			"pending eras are not strictly increasing"
		);
		ensure!(queue.iter().all(|era| *era < current), "a pending era is not closed");
		ensure!(queue.iter().all(EraTotals::<T>::contains_key), "a pending era has no totals");
		ensure!(
			oldest.is_some() || progress == PayoutProgress::default(),
			"a payout is in progress with no era queued"
		);

		let closed = EraTotals::<T>::iter();
		for (era, totals) in closed.chain(core::iter::once((current, CurrentEraTotals::<T>::get())))
		{
			ensure!(era == current || queue.contains(&era), "totals of an era already paid");
			let mut sum = if oldest == Some(era) {
				EraTotal { work: progress.work, fees: progress.fees, workers: progress.workers }
			} else {
				EraTotal::default()
			};
			for record in EraWork::<T>::iter_prefix_values(era) {
				sum.work = sum.work.saturating_add(record.paid);
				sum.fees = sum.fees.saturating_add(record.fees);
				sum.workers = sum.workers.saturating_add(1);
			}
			ensure!(sum == totals, "an era's work records do not add up to its totals");
		}

		for era in EraWork::<T>::iter_keys().map(|(era, _)| era) {
			ensure!(
				era == current || EraTotals::<T>::contains_key(era),
				"work recorded in an era with no totals"
			);
		}
		Ok(())
	}
}

impl<T: Config> WorkRewards<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// `ProtocolFee × payment`, rounded to the nearest unit (`Perbill`'s multiplication, which
	/// cannot overflow: the result is at most `payment`).
	#[allow(
		clippy::arithmetic_side_effects,
		reason = "`Perbill * Balance` neither overflows nor panics: the result is at most `payment`"
	)]
	fn protocol_fee(payment: BalanceOf<T>) -> BalanceOf<T> {
		T::ProtocolFee::get() * payment
	}

	fn fee_destination() -> T::AccountId {
		T::TreasuryAccount::get()
	}

	/// Adds `payment` and `fee` to `worker`'s record for the current era and to the era's
	/// totals, saturating. Does nothing if both are zero. Emits [`Event::WorkNotRecorded`] and
	/// records nothing if `worker` is new to an era that already holds
	/// [`Config::MaxWorkersPerEra`] workers. Weight: [`WeightInfo::note_paid_work`].
	fn note_paid_work(worker: &T::AccountId, payment: BalanceOf<T>, fee: BalanceOf<T>) {
		if payment.is_zero() && fee.is_zero() {
			return;
		}
		let era = CurrentEra::<T>::get();
		let mut totals = CurrentEraTotals::<T>::get();
		let mut record = match EraWork::<T>::get(era, worker) {
			Some(record) => record,
			None => {
				if totals.workers >= T::MaxWorkersPerEra::get() {
					Self::deposit_event(Event::WorkNotRecorded { era, worker: worker.clone() });
					return;
				}
				totals.workers = totals.workers.saturating_add(1);
				WorkRecord::default()
			},
		};
		record.paid = record.paid.saturating_add(payment);
		record.fees = record.fees.saturating_add(fee);
		totals.work = totals.work.saturating_add(payment);
		totals.fees = totals.fees.saturating_add(fee);
		EraWork::<T>::insert(era, worker, record);
		CurrentEraTotals::<T>::put(totals);
	}
}
