//! Benchmarks of the model registry's calls, each in its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use sp_runtime::Saturating;

fn spec<T: Config>() -> ModelSpec<BalanceOf<T>, T::MaxTextLen> {
	let text = || {
		BoundedVec::try_from(alloc::vec![b'a'; T::MaxTextLen::get() as usize]).unwrap_or_default()
	};
	ModelSpec {
		name: text(),
		architecture: text(),
		quantisation: text(),
		weights_sha256: [1; 32],
		weights_size: 1,
		tokenizer_hash: [2; 32],
		engine_version: 1,
		min_price: T::ModelDeposit::get().max(1u32.into()),
	}
}

fn funded<T: Config>(name: &'static str) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, 0, 0);
	let amount = T::ModelDeposit::get()
		.saturating_mul(100u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(100u32.into()));
	let _ = T::Currency::mint_into(&who, amount);
	who
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		let owner = funded::<T>("owner");
		// The chain may already hold models (the presets register one): ids are not assumed.
		let model = NextModelId::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), spec::<T>());
		assert!(Models::<T>::get(model).is_some());
	}

	#[benchmark]
	fn set_model_status() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let model = NextModelId::<T>::get();
		Pallet::<T>::register_model(RawOrigin::Signed(owner).into(), spec::<T>())?;
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model, ModelStatus::Banned);
		assert_eq!(Models::<T>::get(model).map(|info| info.status), Some(ModelStatus::Banned));
		Ok(())
	}

	#[benchmark]
	fn deregister_model() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let model = NextModelId::<T>::get();
		Pallet::<T>::register_model(RawOrigin::Signed(owner.clone()).into(), spec::<T>())?;
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);
		assert!(Models::<T>::get(model).is_none());
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
