//! A runtime with System, Balances and the worker registry, for this pallet's tests.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_workers;
use commons_primitives::{ModelId, ModelRegistry, ModelStatus, ModelTerms};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Workers: pallet_workers,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Models 0, 1 and 2 exist.
pub struct ThreeModels;
impl ModelRegistry<Balance> for ThreeModels {
	fn terms(model: ModelId) -> Option<ModelTerms<Balance>> {
		(model < 3).then_some(ModelTerms {
			status: ModelStatus::Active,
			min_price: 1,
			engine_version: 1,
		})
	}
	fn reserve(_: ModelId, _: u64) -> Result<bool, sp_runtime::DispatchError> {
		Ok(false)
	}
}

parameter_types! {
	pub static MinWorkerStake: Balance = 100;
	pub static UnbondingPeriod: u64 = 10;
	pub const Treasury: AccountId = 99;
}

impl pallet_workers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = ThreeModels;
	type MinWorkerStake = MinWorkerStake;
	type UnbondingPeriod = UnbondingPeriod;
	type TreasuryAccount = Treasury;
	type MaxModelsPerWorker = ConstU32<3>;
	type MaxWorkersPerModel = ConstU32<3>;
	type MaxUnbondingChunks = ConstU32<2>;
	type MaxWorkers = ConstU32<5>;
	type MaxLiveJobs = ConstU32<2>;
	type MaxSlots = ConstU32<2>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ThreeModels;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for ThreeModels {
	fn register_models(count: u32) -> Vec<ModelId> {
		(0..count).collect()
	}
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
pub const EVE: AccountId = 5;
pub const FERDIE: AccountId = 6;
pub const REQUESTER: AccountId = 7;
pub const INITIAL_BALANCE: Balance = 10_000;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: [ALICE, BOB, CHARLIE, DAVE, EVE, FERDIE, REQUESTER, Treasury::get()]
			.into_iter()
			.map(|who| (who, INITIAL_BALANCE))
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` and then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Workers::do_try_state().unwrap();
	});
}
