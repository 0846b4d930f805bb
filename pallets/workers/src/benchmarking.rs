//! Benchmarks of the worker registry's calls and of a slash, each in its worst case: full model
//! indexes, so that every index update walks the longest list; where a call adds the worker to
//! an index (`register`, `set_models` to other models, `go_online`), each index full with a
//! weaker worker of its own that the call displaces; and, where the call allows live jobs, a
//! worker record holding as many as it may.

use super::*;
use commons_primitives::WorkerRegistry;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use sp_runtime::{SaturatedConversion, Saturating};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, index, 0);
	let amount = T::MinWorkerStake::get()
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(1_000u32.into()))
		.saturating_add(1_000_000u32.into());
	let _ = T::Currency::mint_into(&who, amount);
	who
}

fn stake<T: Config>() -> BalanceOf<T> {
	T::MinWorkerStake::get().saturating_mul(10u32.into()).max(1_000u32.into())
}

/// The most slots a worker may declare, so that its record is the largest.
fn capacity<T: Config>() -> Capacity {
	Capacity { slots: T::MaxSlots::get(), tokens_per_block: 100 }
}

/// `count` newly registered models.
fn model_list<T: Config>(count: u32) -> ModelsOf<T> {
	BoundedVec::truncate_from(T::BenchmarkHelper::register_models(count))
}

/// How many more workers the registry takes.
fn room<T: Config>() -> u32 {
	T::MaxWorkers::get().saturating_sub(WorkerCount::<T>::get())
}

/// Fills every model's index to one short of full with workers named `name` serving all of
/// `models`, leaving room in the registry for `reserve` more workers.
fn fill_indexes<T: Config>(
	models: &ModelsOf<T>,
	name: &'static str,
	reserve: u32,
) -> Result<(), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let longest = models.iter().map(|model| Candidates::<T>::decode_len(model).unwrap_or(0)).max();
	let others = T::MaxWorkersPerModel::get()
		.saturating_sub(1)
		.saturating_sub(longest.unwrap_or(0) as u32)
		.min(room::<T>().saturating_sub(reserve));
	for index in 0..others {
		let other = funded::<T>(name, index);
		Pallet::<T>::register(
			RawOrigin::Signed(other).into(),
			stake::<T>(),
			models.clone(),
			1u32.into(),
			capacity::<T>(),
		)?;
	}
	Ok(())
}

/// Completes each of `models`' indexes with a worker of its own holding less stake than any
/// other, so that a newcomer displaces a different worker from every model (each displacement
/// writes the displaced worker's record); leaves room for `reserve` more workers.
fn fill_with_weakest<T: Config>(models: &ModelsOf<T>, reserve: u32) -> Result<(), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let weak = stake::<T>().saturating_sub(1u32.into()).max(T::MinWorkerStake::get());
	for (index, model) in models.iter().enumerate() {
		if room::<T>() <= reserve {
			break;
		}
		// A test registry with few models may have filled this index already.
		if Candidates::<T>::decode_len(model).unwrap_or(0) >= T::MaxWorkersPerModel::get() as usize
		{
			continue;
		}
		let filler = funded::<T>("weakest", index as u32);
		Pallet::<T>::register(
			RawOrigin::Signed(filler).into(),
			weak,
			BoundedVec::truncate_from(alloc::vec![*model]),
			1u32.into(),
			capacity::<T>(),
		)?;
	}
	Ok(())
}

/// A worker serving the most models, each model's index full.
fn registered<T: Config>() -> Result<T::AccountId, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	registered_for::<T>(&model_list::<T>(T::MaxModelsPerWorker::get()))
}

fn registered_for<T: Config>(models: &ModelsOf<T>) -> Result<T::AccountId, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	fill_indexes::<T>(models, "other", 1)?;
	let worker = funded::<T>("worker", 0);
	Pallet::<T>::register(
		RawOrigin::Signed(worker.clone()).into(),
		stake::<T>(),
		models.clone(),
		1u32.into(),
		capacity::<T>(),
	)?;
	Ok(worker)
}

/// Gives `worker` as many live jobs as it may hold, the last of them still computing in every
/// slot, so that its record is the largest.
fn busy<T: Config>(worker: &T::AccountId) -> Result<(), BenchmarkError> {
	let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
	let jobs = T::MaxLiveJobs::get();
	for job in 0..jobs {
		let computing = job >= jobs.saturating_sub(T::MaxSlots::get());
		let until = if computing { now.saturating_add(1_000) } else { now };
		<Pallet<T> as WorkerRegistry<_, _>>::note_assigned(worker, job.into(), now, until)?;
	}
	Ok(())
}

/// A registered worker with a full index and a full list of live jobs.
fn registered_busy<T: Config>() -> Result<T::AccountId, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let worker = registered::<T>()?;
	busy::<T>(&worker)?;
	Ok(worker)
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(m: Linear<1, { T::MaxModelsPerWorker::get() }>) -> Result<(), BenchmarkError> {
		let models = model_list::<T>(m);
		fill_indexes::<T>(&models, "other", m.saturating_add(1))?;
		fill_with_weakest::<T>(&models, 1)?;
		let worker = funded::<T>("worker", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), stake::<T>(), models, 1u32.into(), capacity::<T>());
		assert!(Workers::<T>::contains_key(&worker));
		Ok(())
	}

	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), stake::<T>());
		Ok(())
	}

	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), 1u32.into());
		Ok(())
	}

	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let worker = registered::<T>()?;
		for _ in 0..T::MaxUnbondingChunks::get() {
			Pallet::<T>::unbond(RawOrigin::Signed(worker.clone()).into(), 1u32.into())?;
		}
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get()),
		);
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()));
		assert!(Workers::<T>::get(&worker).is_some_and(|info| info.unbonding.is_empty()));
		Ok(())
	}

	#[benchmark]
	fn set_models(m: Linear<1, { T::MaxModelsPerWorker::get() }>) -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		let others = model_list::<T>(m);
		fill_indexes::<T>(&others, "newcomer", m)?;
		fill_with_weakest::<T>(&others, 0)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), others.clone());
		assert!(Workers::<T>::get(&worker).is_some_and(|info| info.models == others));
		Ok(())
	}

	#[benchmark]
	fn set_price() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), 2u32.into());
		Ok(())
	}

	#[benchmark]
	fn go_offline() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker));
		Ok(())
	}

	#[benchmark]
	fn go_online() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		Pallet::<T>::go_offline(RawOrigin::Signed(worker.clone()).into())?;
		let models = Workers::<T>::get(&worker).map(|info| info.models).unwrap_or_default();
		fill_with_weakest::<T>(&models, 0)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker));
		Ok(())
	}

	#[benchmark]
	fn deregister() -> Result<(), BenchmarkError> {
		let worker = registered::<T>()?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker));
		Ok(())
	}

	#[benchmark]
	fn slash() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		for _ in 0..T::MaxUnbondingChunks::get() {
			Pallet::<T>::unbond(RawOrigin::Signed(worker.clone()).into(), 1u32.into())?;
		}
		#[block]
		{
			let slashed = <Pallet<T> as WorkerRegistry<_, _>>::slash(&worker, Perbill::one());
			assert!(!slashed.is_zero());
		}
		Ok(())
	}

	#[benchmark]
	fn set_capacity() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		let faster = Capacity { tokens_per_block: 200, ..capacity::<T>() };
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), faster);
		Ok(())
	}

	/// A listed worker whose bonded stake the minimum has passed (as after governance raised
	/// it), serving the most models, each index full.
	#[benchmark]
	fn evict() -> Result<(), BenchmarkError> {
		let worker = registered_busy::<T>()?;
		let below = T::MinWorkerStake::get().saturating_sub(1u32.into());
		let bonded = Workers::<T>::get(&worker).map(|info| info.bonded).unwrap_or_default();
		T::Currency::release(
			&HoldReason::Stake.into(),
			&worker,
			bonded.saturating_sub(below),
			Precision::Exact,
		)?;
		Workers::<T>::mutate(&worker, |entry| {
			if let Some(info) = entry.as_mut() {
				info.bonded = below;
			}
		});
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), worker.clone());
		assert!(Workers::<T>::get(&worker).is_some_and(|info| !info.online));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
