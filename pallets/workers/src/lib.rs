//! # Worker registry
//!
//! Workers bond a stake (a `fungible` hold with this pallet's own reason), declare the models
//! they serve and the lowest price per replica they accept, and go online or offline. Stake
//! leaves through an unbonding queue released after [`Config::UnbondingPeriod`], and stays
//! slashable until it is withdrawn.
//!
//! The jobs pallet sees this pallet through [`commons_primitives::WorkerRegistry`]: the eligible
//! workers for a model come from one bounded index per model ([`Candidates`]), kept in step with
//! every change of stake, price, models and status, so that assignment never scans all workers.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use commons_primitives::{
	Candidate, Capacity, JobId, ModelId, ModelRegistry, Outcome, WorkerRegistry,
};
use core::fmt::Debug;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision},
	},
	CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill, SaturatedConversion,
};

/// Sets up the model registry for this pallet's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes `count` new active models known to `Config::Models` and returns their ids.
	fn register_models(count: u32) -> alloc::vec::Vec<ModelId>;
}

/// The balance type of the currency stake is held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The models a worker serves.
pub type ModelsOf<T> = BoundedVec<ModelId, <T as Config>::MaxModelsPerWorker>;

/// One model's eligible workers.
pub type CandidatesOf<T> = BoundedVec<
	Candidate<<T as frame_system::Config>::AccountId, BalanceOf<T>>,
	<T as Config>::MaxWorkersPerModel,
>;

/// Stake on its way out, withdrawable from `unlock_at`.
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
	Debug,
)]
pub struct Unbonding<Balance, BlockNumber> {
	/// The amount.
	pub amount: Balance,
	/// The first block at which it can be withdrawn.
	pub unlock_at: BlockNumber,
}

/// Verified outcomes of a worker's past jobs.
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
	Debug,
	Default,
)]
pub struct Reputation {
	/// Jobs in which it revealed the accepted output.
	pub accepted: u32,
	/// Jobs in which it revealed an output that disagreed with the accepted one.
	pub wrong: u32,
	/// Jobs in which it did not commit or did not reveal.
	pub no_show: u32,
}

/// A registered worker.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct WorkerInfo<T: Config> {
	/// Stake that backs new jobs: the assignment weight.
	pub bonded: BalanceOf<T>,
	/// Stake on its way out, oldest first; still slashable.
	pub unbonding: BoundedVec<Unbonding<BalanceOf<T>, BlockNumberFor<T>>, T::MaxUnbondingChunks>,
	/// The models it serves.
	pub models: ModelsOf<T>,
	/// The lowest price per replica it serves for.
	pub price: BalanceOf<T>,
	/// Whether it takes new jobs.
	pub online: bool,
	/// The live jobs it holds a seat in, oldest first. Kept here rather than beside the job
	/// records so that assigning or releasing a seat writes one record per worker.
	pub live_jobs: BoundedVec<JobId, T::MaxLiveJobs>,
	/// What it declares it can serve.
	pub capacity: Capacity,
	/// For each slot computing a job, the job and the block until which its declared throughput
	/// needs the slot. The slot is free from that block, or as soon as the worker commits to
	/// the job; entries in the past are dropped at the next assignment.
	pub computing: BoundedVec<(JobId, BlockNumberFor<T>), T::MaxSlots>,
	/// Verified outcomes.
	pub reputation: Reputation,
}

impl<T: Config> WorkerInfo<T> {
	/// Bonded plus unbonding: what the stake hold must equal.
	pub fn total_stake(&self) -> BalanceOf<T> {
		self.unbonding.iter().fold(self.bonded, |total, chunk| total.saturating_add(chunk.amount))
	}

	/// Whether the per-model index lists it.
	fn indexed(&self) -> bool {
		self.online && !self.bonded.is_zero()
	}

	/// How many of its slots compute a job at block `now`.
	pub fn slots_in_use(&self, now: BlockNumberFor<T>) -> usize {
		self.computing.iter().filter(|(_, until)| *until > now).count()
	}
}

// The pallet macro's generated code (storage prefixes, pallet info) calls `expect`, spanned at
// `#[pallet::pallet]` and `#[pallet::storage]`, so the lint lands on this module; those calls
// cannot fail once the pallet is in the runtime. Every other lint still applies here.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::*;

	/// The layout of this pallet's storage. A release that changes it moves this one up and
	/// adds the `VersionedMigration` from the previous one to the runtime's `Migrations`
	/// (docs/chain.md, "Upgrades").
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency stake is held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The models a worker may declare.
		type Models: ModelRegistry<BalanceOf<Self>>;
		/// The least bonded stake that makes a worker eligible for jobs.
		type MinWorkerStake: Get<BalanceOf<Self>>;
		/// Blocks between unbonding stake and being able to withdraw it.
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Receives slashed stake.
		type TreasuryAccount: Get<Self::AccountId>;
		/// The most models one worker serves.
		#[pallet::constant]
		type MaxModelsPerWorker: Get<u32>;
		/// The most eligible workers one model's index holds.
		#[pallet::constant]
		type MaxWorkersPerModel: Get<u32>;
		/// The most unbonding chunks one worker has at a time.
		#[pallet::constant]
		type MaxUnbondingChunks: Get<u32>;
		/// The most registered workers.
		#[pallet::constant]
		type MaxWorkers: Get<u32>;
		/// The most live jobs one worker holds seats in at a time.
		#[pallet::constant]
		type MaxLiveJobs: Get<u32>;
		/// The most slots (jobs computed at once) a worker may declare.
		#[pallet::constant]
		type MaxSlots: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Registers models for the benchmarks, which see the model registry only through
		/// `Models`.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's bonded and unbonding stake.
		Stake,
	}

	/// Registered workers.
	#[pallet::storage]
	pub type Workers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, WorkerInfo<T>>;

	/// How many workers are registered; bounded by [`Config::MaxWorkers`].
	#[pallet::storage]
	pub type WorkerCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Per model, the online workers with bonded stake that serve it, with stake and price.
	#[pallet::storage]
	pub type Candidates<T: Config> =
		StorageMap<_, Blake2_128Concat, ModelId, CandidatesOf<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A worker registered and its stake was held.
		WorkerRegistered {
			worker: T::AccountId,
			stake: BalanceOf<T>,
			models: ModelsOf<T>,
			price: BalanceOf<T>,
			capacity: Capacity,
		},
		/// A worker declared a new capacity.
		CapacityChanged { worker: T::AccountId, capacity: Capacity },
		/// A worker's bonded stake is below the minimum: it was taken offline (by its own
		/// unbonding, a slash, or anyone's `evict` after the minimum was raised).
		WorkerDelisted { worker: T::AccountId, bonded: BalanceOf<T> },
		/// A model's full index took a worker with more stake in place of this one, which no
		/// longer serves the model.
		WorkerDisplaced { worker: T::AccountId, model: ModelId, by: T::AccountId },
		/// A worker bonded more stake.
		StakeBonded { worker: T::AccountId, amount: BalanceOf<T> },
		/// A worker started unbonding stake.
		StakeUnbonding { worker: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// Unbonded stake was returned to the worker.
		StakeWithdrawn { worker: T::AccountId, amount: BalanceOf<T> },
		/// A worker's stake was slashed.
		StakeSlashed { worker: T::AccountId, amount: BalanceOf<T> },
		/// A worker changed the models it serves.
		ModelsChanged { worker: T::AccountId, models: ModelsOf<T> },
		/// A worker changed its price.
		PriceChanged { worker: T::AccountId, price: BalanceOf<T> },
		/// A worker stopped taking new jobs.
		WentOffline { worker: T::AccountId },
		/// A worker started taking new jobs.
		WentOnline { worker: T::AccountId },
		/// A worker left: its whole bonded stake is unbonding.
		WorkerDeregistered { worker: T::AccountId, unlock_at: BlockNumberFor<T> },
		/// A deregistered worker withdrew its last stake and its record was removed.
		WorkerRemoved { worker: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered worker.
		AlreadyRegistered,
		/// The account is not a registered worker.
		NotRegistered,
		/// The bonded stake would be below the minimum worker stake.
		StakeBelowMinimum,
		/// The account cannot hold this much stake.
		InsufficientBalance,
		/// A worker must serve at least one model.
		NoModels,
		/// A model appears twice in the list.
		DuplicateModel,
		/// A model in the list is not registered.
		UnknownModel,
		/// The price per replica must not be zero.
		ZeroPrice,
		/// The amount must not be zero.
		ZeroAmount,
		/// The registry holds as many workers as it may.
		TooManyWorkers,
		/// A model's index of eligible workers is full.
		TooManyWorkersForModel,
		/// More is being unbonded than is bonded.
		UnbondExceedsBonded,
		/// The worker has as many unbonding chunks as it may: withdraw first.
		TooManyUnbondingChunks,
		/// No unbonding stake has reached its unlock block.
		NothingToWithdraw,
		/// The worker holds a seat in a live job.
		WorkerHasLiveJobs,
		/// The worker is already offline.
		AlreadyOffline,
		/// The worker is already online.
		AlreadyOnline,
		/// The worker already holds seats in as many live jobs as it may.
		TooManyLiveJobs,
		/// Slots must be at least 1 and at most the most allowed, and throughput at least 1.
		InvalidCapacity,
		/// More slots are computing jobs than the new capacity has: lower it when they are done.
		SlotsInUse,
		/// The worker's bonded stake is not below the minimum, or it is offline already.
		NotEvictable,
		/// No slot of the worker is free.
		NoFreeSlot,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the signer as a worker, holding `stake`, serving `models` at `price` per
		/// replica or more. The worker starts online.
		///
		/// Origin: signed. Emits [`Event::WorkerRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(models.len() as u32))]
		pub fn register(
			origin: OriginFor<T>,
			stake: BalanceOf<T>,
			models: ModelsOf<T>,
			price: BalanceOf<T>,
			capacity: Capacity,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(!Workers::<T>::contains_key(&worker), Error::<T>::AlreadyRegistered);
			ensure!(stake >= T::MinWorkerStake::get(), Error::<T>::StakeBelowMinimum);
			ensure!(!stake.is_zero(), Error::<T>::ZeroAmount);
			ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
			Self::check_capacity(&capacity)?;
			Self::check_models(&models)?;
			let count = WorkerCount::<T>::get();
			ensure!(count < T::MaxWorkers::get(), Error::<T>::TooManyWorkers);
			let info = WorkerInfo::<T> {
				bonded: stake,
				unbonding: BoundedVec::new(),
				models: models.clone(),
				price,
				online: true,
				live_jobs: BoundedVec::new(),
				capacity,
				computing: BoundedVec::new(),
				reputation: Reputation::default(),
			};
			frame_support::storage::with_storage_layer(|| {
				Self::reindex(&worker, None, Some(&info))?;
				T::Currency::hold(&HoldReason::Stake.into(), &worker, stake)
					.map_err(|_| Error::<T>::InsufficientBalance)?;
				Ok::<_, DispatchError>(())
			})?;
			Workers::<T>::insert(&worker, info);
			WorkerCount::<T>::put(count.saturating_add(1));
			Self::deposit_event(Event::WorkerRegistered { worker, stake, models, price, capacity });
			Ok(())
		}

		/// Holds `amount` more as bonded stake.
		///
		/// Origin: signed by a worker. Emits [`Event::StakeBonded`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Self::update(&worker, |info| {
				info.bonded = info.bonded.saturating_add(amount);
				T::Currency::hold(&HoldReason::Stake.into(), &worker, amount)
					.map_err(|_| Error::<T>::InsufficientBalance.into())
			})?;
			Self::deposit_event(Event::StakeBonded { worker, amount });
			Ok(())
		}

		/// Moves `amount` of bonded stake into the unbonding queue; it stays slashable and can
		/// be withdrawn after [`Config::UnbondingPeriod`]. A worker whose bonded stake falls
		/// below the minimum is not assigned new jobs.
		///
		/// Origin: signed by a worker. Emits [`Event::StakeUnbonding`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let unlock_at = Self::unlock_block();
			let mut delisted = None;
			Self::update(&worker, |info| {
				ensure!(amount <= info.bonded, Error::<T>::UnbondExceedsBonded);
				info.bonded = info.bonded.saturating_sub(amount);
				info.unbonding
					.try_push(Unbonding { amount, unlock_at })
					.map_err(|_| Error::<T>::TooManyUnbondingChunks)?;
				delisted = Self::delist_below_minimum(info);
				Ok(())
			})?;
			Self::deposit_event(Event::StakeUnbonding {
				worker: worker.clone(),
				amount,
				unlock_at,
			});
			if let Some(bonded) = delisted {
				Self::deposit_event(Event::WorkerDelisted { worker, bonded });
			}
			Ok(())
		}

		/// Returns every unbonding chunk that has reached its unlock block. A deregistered
		/// worker with nothing left is removed.
		///
		/// Origin: signed by a worker with no live job. Emits [`Event::StakeWithdrawn`] and,
		/// for a deregistered worker's last stake, [`Event::WorkerRemoved`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			let mut info = Workers::<T>::get(&worker).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.live_jobs.is_empty(), Error::<T>::WorkerHasLiveJobs);
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			info.unbonding.retain(|chunk| {
				let due = chunk.unlock_at <= now;
				if due {
					amount = amount.saturating_add(chunk.amount);
				}
				!due
			});
			ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
			T::Currency::release(&HoldReason::Stake.into(), &worker, amount, Precision::Exact)?;
			Self::deposit_event(Event::StakeWithdrawn { worker: worker.clone(), amount });
			if info.bonded.is_zero() && info.unbonding.is_empty() && !info.online {
				Workers::<T>::remove(&worker);
				WorkerCount::<T>::mutate(|count| *count = count.saturating_sub(1));
				Self::deposit_event(Event::WorkerRemoved { worker });
			} else {
				Workers::<T>::insert(&worker, info);
			}
			Ok(())
		}

		/// Replaces the models the worker serves.
		///
		/// Origin: signed by a worker. Emits [`Event::ModelsChanged`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_models(models.len() as u32))]
		pub fn set_models(origin: OriginFor<T>, models: ModelsOf<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::check_models(&models)?;
			Self::update(&worker, |info| {
				info.models = models.clone();
				Ok(())
			})?;
			Self::deposit_event(Event::ModelsChanged { worker, models });
			Ok(())
		}

		/// Sets the lowest price per replica the worker serves for.
		///
		/// Origin: signed by a worker. Emits [`Event::PriceChanged`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(origin: OriginFor<T>, price: BalanceOf<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
			Self::update(&worker, |info| {
				info.price = price;
				Ok(())
			})?;
			Self::deposit_event(Event::PriceChanged { worker, price });
			Ok(())
		}

		/// Stops taking new jobs; jobs already assigned must still be served.
		///
		/// Origin: signed by a worker. Emits [`Event::WentOffline`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::go_offline())]
		pub fn go_offline(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::update(&worker, |info| {
				ensure!(info.online, Error::<T>::AlreadyOffline);
				info.online = false;
				Ok(())
			})?;
			Self::deposit_event(Event::WentOffline { worker });
			Ok(())
		}

		/// Starts taking new jobs again.
		///
		/// Origin: signed by a worker bonded at least the minimum. Emits [`Event::WentOnline`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::go_online())]
		pub fn go_online(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::update(&worker, |info| {
				ensure!(!info.online, Error::<T>::AlreadyOnline);
				ensure!(info.bonded >= T::MinWorkerStake::get(), Error::<T>::StakeBelowMinimum);
				ensure!(!info.bonded.is_zero(), Error::<T>::StakeBelowMinimum);
				info.online = true;
				Ok(())
			})?;
			Self::deposit_event(Event::WentOnline { worker });
			Ok(())
		}

		/// Leaves: goes offline and unbonds the whole bonded stake. The record is removed when
		/// the last stake is withdrawn.
		///
		/// Origin: signed by a worker with no live job. Emits [`Event::WorkerDeregistered`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::deregister())]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			let unlock_at = Self::unlock_block();
			Self::update(&worker, |info| {
				ensure!(info.live_jobs.is_empty(), Error::<T>::WorkerHasLiveJobs);
				if !info.bonded.is_zero() {
					info.unbonding
						.try_push(Unbonding { amount: info.bonded, unlock_at })
						.map_err(|_| Error::<T>::TooManyUnbondingChunks)?;
				}
				info.bonded = Zero::zero();
				info.online = false;
				Ok(())
			})?;
			Self::deposit_event(Event::WorkerDeregistered { worker, unlock_at });
			Ok(())
		}

		/// Declares what the worker can serve: how many jobs it computes at once and the tokens
		/// per block each slot processes. Slots still computing a job cannot be declared away.
		///
		/// Origin: signed by a worker. Emits [`Event::CapacityChanged`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_capacity())]
		pub fn set_capacity(origin: OriginFor<T>, capacity: Capacity) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::check_capacity(&capacity)?;
			let now = frame_system::Pallet::<T>::block_number();
			Self::update(&worker, |info| {
				info.computing.retain(|(_, until)| *until > now);
				ensure!(info.computing.len() <= capacity.slots as usize, Error::<T>::SlotsInUse);
				info.capacity = capacity;
				Ok(())
			})?;
			Self::deposit_event(Event::CapacityChanged { worker, capacity });
			Ok(())
		}

		/// Takes offline a worker whose bonded stake is below the minimum (after governance
		/// raised it): anyone may call it, and it touches one worker's index entries, at most
		/// `MaxModelsPerWorker` lists.
		///
		/// Origin: signed, anyone. Emits [`Event::WorkerDelisted`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::evict())]
		pub fn evict(origin: OriginFor<T>, worker: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			let mut delisted = None;
			Self::update(&worker, |info| {
				delisted = Self::delist_below_minimum(info);
				ensure!(delisted.is_some(), Error::<T>::NotEvictable);
				Ok(())
			})?;
			if let Some(bonded) = delisted {
				Self::deposit_event(Event::WorkerDelisted { worker, bonded });
			}
			Ok(())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}

impl<T: Config> Pallet<T> {
	fn unlock_block() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get())
	}

	/// Slots within `1..=MaxSlots` and a throughput of at least one token per block.
	fn check_capacity(capacity: &Capacity) -> DispatchResult {
		ensure!(
			(1..=T::MaxSlots::get()).contains(&capacity.slots) && capacity.tokens_per_block >= 1,
			Error::<T>::InvalidCapacity
		);
		Ok(())
	}

	/// Takes an online worker whose bonded stake is below the minimum offline, out of every
	/// index; returns its bonded stake if it did. No index ever lists stake below the minimum
	/// except after governance raised it, and then the draw skips it and anyone may evict it.
	fn delist_below_minimum(info: &mut WorkerInfo<T>) -> Option<BalanceOf<T>> {
		if info.online && info.bonded < T::MinWorkerStake::get() {
			info.online = false;
			Some(info.bonded)
		} else {
			None
		}
	}

	/// Every model in `models` is registered, and none appears twice.
	fn check_models(models: &ModelsOf<T>) -> DispatchResult {
		ensure!(!models.is_empty(), Error::<T>::NoModels);
		for (position, model) in models.iter().enumerate() {
			ensure!(
				!models.iter().take(position).any(|earlier| earlier == model),
				Error::<T>::DuplicateModel
			);
			ensure!(T::Models::terms(*model).is_some(), Error::<T>::UnknownModel);
		}
		Ok(())
	}

	/// Applies `change` to a registered worker and keeps the index in step; nothing is written
	/// if `change` or the index update fails.
	fn update(
		worker: &T::AccountId,
		change: impl FnOnce(&mut WorkerInfo<T>) -> DispatchResult,
	) -> DispatchResult {
		let old = Workers::<T>::get(worker).ok_or(Error::<T>::NotRegistered)?;
		let mut new = old.clone();
		frame_support::storage::with_storage_layer(|| {
			change(&mut new)?;
			Self::reindex(worker, Some(&old), Some(&new))?;
			Workers::<T>::insert(worker, &new);
			Ok(())
		})
	}

	/// Brings the per-model index from `old` to `new` for `worker`: entries are removed from
	/// models it left, updated in place where it stays, and added where it joined.
	fn reindex(
		worker: &T::AccountId,
		old: Option<&WorkerInfo<T>>,
		new: Option<&WorkerInfo<T>>,
	) -> DispatchResult {
		let listed = |info: Option<&WorkerInfo<T>>, model: &ModelId| {
			info.is_some_and(|info| info.indexed() && info.models.contains(model))
		};
		if let Some(old) = old.filter(|old| old.indexed()) {
			for model in old.models.iter().filter(|model| !listed(new, model)) {
				Candidates::<T>::mutate(model, |list| list.retain(|entry| &entry.worker != worker));
			}
		}
		if let Some(new) = new.filter(|new| new.indexed()) {
			for model in new.models.iter() {
				let entry = Candidate {
					worker: worker.clone(),
					stake: new.bonded,
					price: new.price,
					tokens_per_block: new.capacity.tokens_per_block,
				};
				let displaced = Candidates::<T>::try_mutate(model, |list| {
					if let Some(existing) =
						list.iter_mut().find(|existing| &existing.worker == worker)
					{
						*existing = entry;
						return Ok(None);
					}
					let Err(entry) = list.try_push(entry) else { return Ok(None) };
					// A full index takes a newcomer with more stake in place of its weakest
					// entry, so that no set of accounts can hold a model's index for ever.
					let weakest = list
						.iter()
						.enumerate()
						.min_by_key(|(_, existing)| existing.stake)
						.map(|(position, existing)| (position, existing.stake));
					match weakest {
						Some((position, stake)) if stake < entry.stake => {
							let slot =
								list.get_mut(position).ok_or(Error::<T>::TooManyWorkersForModel)?;
							Ok(Some(core::mem::replace(slot, entry).worker))
						},
						_ => Err(Error::<T>::TooManyWorkersForModel),
					}
				})?;
				if let Some(displaced) = displaced {
					Workers::<T>::mutate(&displaced, |entry| {
						if let Some(info) = entry.as_mut() {
							info.models.retain(|served| served != model);
						}
					});
					Self::deposit_event(Event::WorkerDisplaced {
						worker: displaced,
						model: *model,
						by: worker.clone(),
					});
				}
			}
		}
		Ok(())
	}

	/// Takes up to `amount` from the worker's bookkeeping, bonded first and then the newest
	/// unbonding chunks; returns how much was taken.
	fn take_stake(info: &mut WorkerInfo<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
		let from_bonded = amount.min(info.bonded);
		info.bonded = info.bonded.saturating_sub(from_bonded);
		let mut remaining = amount.saturating_sub(from_bonded);
		for chunk in info.unbonding.iter_mut().rev() {
			let take = remaining.min(chunk.amount);
			chunk.amount = chunk.amount.saturating_sub(take);
			remaining = remaining.saturating_sub(take);
		}
		info.unbonding.retain(|chunk| !chunk.amount.is_zero());
		amount.saturating_sub(remaining)
	}

	/// Moves `amount` of `worker`'s held stake to `dest`'s free balance; returns what moved.
	fn pay_from_stake(
		worker: &T::AccountId,
		dest: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		commons_primitives::pay_from_hold::<_, T::Currency>(
			&HoldReason::Stake.into(),
			worker,
			dest,
			amount,
			Precision::BestEffort,
		)
	}

	/// Checks the registry's invariants: the stake hold of every worker equals its bonded plus
	/// unbonding stake; the index lists exactly the online, bonded workers under each model
	/// they serve, with their current stake and price; the count matches.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		let mut count: u32 = 0;
		let minimum = T::MinWorkerStake::get();
		let now = frame_system::Pallet::<T>::block_number();
		for (worker, info) in Workers::<T>::iter() {
			count = count.saturating_add(1);
			ensure!(
				(1..=T::MaxSlots::get()).contains(&info.capacity.slots)
					&& info.capacity.tokens_per_block >= 1,
				"a worker declares a capacity out of range"
			);
			ensure!(
				info.slots_in_use(now) <= info.capacity.slots as usize,
				"a worker computes more jobs than its declared slots"
			);

			ensure!(
				<T::Currency as InspectHold<T::AccountId>>::balance_on_hold(
					&HoldReason::Stake.into(),
					&worker
				) == info.total_stake(),
				"a worker's stake hold differs from its bonded plus unbonding stake"
			);
			for model in info.models.iter() {
				let listed = Candidates::<T>::get(model)
					.into_iter()
					.filter(|entry| entry.worker == worker)
					.collect::<alloc::vec::Vec<_>>();
				if info.indexed() {
					ensure!(listed.len() == 1, "an eligible worker is not indexed once");
					ensure!(
						listed.first().is_some_and(|entry| entry.stake == info.bonded
							&& entry.price == info.price
							&& entry.tokens_per_block == info.capacity.tokens_per_block),
						"an index entry has a stale stake, price or throughput"
					);
				} else {
					ensure!(listed.is_empty(), "an ineligible worker is indexed");
				}
			}
		}
		ensure!(count == WorkerCount::<T>::get(), "WorkerCount differs from the workers stored");
		for (model, list) in Candidates::<T>::iter() {
			// Unbonding and slashes take a worker below the minimum offline; only a minimum
			// raised by governance leaves one listed, and the draw never sees it.
			ensure!(
				<Self as WorkerRegistry<_, _>>::candidates(model)
					.iter()
					.all(|entry| entry.stake >= minimum),
				"the draw sees an entry below the minimum stake"
			);
			for entry in list {
				ensure!(
					Workers::<T>::get(&entry.worker)
						.is_some_and(|info| info.indexed() && info.models.contains(&model)),
					"an index entry names a worker that does not serve the model"
				);
			}
		}
		Ok(())
	}
}

impl<T: Config> WorkerRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	type MaxCandidates = T::MaxWorkersPerModel;

	fn slash_weight() -> Weight {
		T::WeightInfo::slash()
	}

	fn candidates(model: ModelId) -> CandidatesOf<T> {
		let minimum = T::MinWorkerStake::get();
		let mut list = Candidates::<T>::get(model);
		// The minimum is a governed parameter: a raised minimum applies at once.
		list.retain(|entry| entry.stake >= minimum);
		list
	}

	fn is_registered(who: &T::AccountId) -> bool {
		Workers::<T>::contains_key(who)
	}

	type MaxLiveJobs = T::MaxLiveJobs;

	fn live_jobs(who: &T::AccountId) -> BoundedVec<JobId, T::MaxLiveJobs> {
		Workers::<T>::get(who).map(|info| info.live_jobs).unwrap_or_default()
	}

	fn has_free_slot(who: &T::AccountId, now: u64) -> bool {
		let now: BlockNumberFor<T> = now.saturated_into();
		Workers::<T>::get(who).is_some_and(|info| {
			info.live_jobs.len() < T::MaxLiveJobs::get() as usize
				&& info.slots_in_use(now) < info.capacity.slots as usize
		})
	}

	fn note_assigned(who: &T::AccountId, job: JobId, now: u64, busy_until: u64) -> DispatchResult {
		let now: BlockNumberFor<T> = now.saturated_into();
		Workers::<T>::try_mutate(who, |entry| {
			let info = entry.as_mut().ok_or(Error::<T>::NotRegistered)?;
			info.computing.retain(|(_, until)| *until > now);
			ensure!(info.computing.len() < info.capacity.slots as usize, Error::<T>::NoFreeSlot);
			info.computing
				.try_push((job, busy_until.saturated_into()))
				.map_err(|_| Error::<T>::NoFreeSlot)?;
			info.live_jobs.try_push(job).map_err(|_| Error::<T>::TooManyLiveJobs)?;
			Ok(())
		})
	}

	fn note_committed(who: &T::AccountId, job: JobId) {
		Workers::<T>::mutate(who, |entry| {
			if let Some(info) = entry.as_mut() {
				info.computing.retain(|(computing, _)| *computing != job);
			}
		});
	}

	fn note_settled(who: &T::AccountId, job: JobId, outcome: Option<Outcome>) {
		Workers::<T>::mutate(who, |entry| {
			let Some(info) = entry.as_mut() else { return };
			info.live_jobs.retain(|live| *live != job);
			info.computing.retain(|(computing, _)| *computing != job);
			let counter = match outcome {
				Some(Outcome::Accepted) => &mut info.reputation.accepted,
				Some(Outcome::WrongResult) => &mut info.reputation.wrong,
				Some(Outcome::NoShow) => &mut info.reputation.no_show,
				None => return,
			};
			*counter = counter.saturating_add(1);
		});
	}

	fn slash(who: &T::AccountId, fraction: Perbill) -> BalanceOf<T> {
		let Some(old) = Workers::<T>::get(who) else { return Zero::zero() };
		let mut new = old.clone();
		let wanted = fraction.mul_floor(old.total_stake());
		let taken = Self::take_stake(&mut new, wanted);
		let delisted = Self::delist_below_minimum(&mut new);
		let to_treasury = Self::pay_from_stake(who, &T::TreasuryAccount::get(), taken);
		// Whatever could not be paid out (a treasury that cannot exist with so little) is burned,
		// so that the hold always equals the bookkeeping.
		let unpaid = taken.saturating_sub(to_treasury);
		if !unpaid.is_zero() {
			let _ = T::Currency::burn_held(
				&HoldReason::Stake.into(),
				who,
				unpaid,
				Precision::BestEffort,
				Fortitude::Force,
			);
		}
		// Lowering a stake or leaving the index cannot overflow an index.
		let _ = Self::reindex(who, Some(&old), Some(&new));
		Workers::<T>::insert(who, new);
		if !taken.is_zero() {
			Self::deposit_event(Event::StakeSlashed { worker: who.clone(), amount: taken });
		}
		if let Some(bonded) = delisted {
			Self::deposit_event(Event::WorkerDelisted { worker: who.clone(), bonded });
		}
		taken
	}
}
