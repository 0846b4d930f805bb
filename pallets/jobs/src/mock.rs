//! A runtime with the real model and worker registries and this pallet, for its tests. Rewards
//! are a small recorder: a 10 % protocol fee to the treasury and a log of paid work.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_jobs;
use commons_primitives::{Capacity, WorkRewards};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, Hooks},
};
use sp_runtime::{BuildStorage, Perbill};
use std::cell::RefCell;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
		Workers: pallet_workers,
		Jobs: pallet_jobs,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	// Nonzero, so that tests see what the pallet refunds or charges for reads and writes.
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const Treasury: AccountId = 99;
	pub static ModelDeposit: Balance = 100;
	pub static MinWorkerStake: Balance = 1_000;
	pub static UnbondingPeriod: u64 = 50;
	pub static MaxCommitWindow: u64 = 20;
	pub static CommitMargin: u64 = 2;
	pub static RevealWindow: u64 = 3;
	pub static RetentionPeriod: u64 = 10;
	pub static MaxAssignmentDelay: u64 = 20;
	pub static WrongResultSlash: Perbill = Perbill::from_percent(10);
	pub static MaxSettlementWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::MAX;
	pub static NoShowSlash: Perbill = Perbill::from_percent(5);
	pub static MinReplicas: u32 = 1;
	pub static MaxReplicas: u32 = 5;
	pub static MinAuditRate: u32 = 1;
	pub static JobDepositBase: Balance = 10;
	pub static JobDepositPerByte: Balance = 1;
}

impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type ModelDeposit = ModelDeposit;
	type MaxTextLen = ConstU32<16>;
	type MaxModels = ConstU32<8>;
	type ReservationStep = ConstU32<100>;
	type WeightInfo = ();
}

impl pallet_workers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type MinWorkerStake = MinWorkerStake;
	type UnbondingPeriod = UnbondingPeriod;
	type TreasuryAccount = Treasury;
	type MaxModelsPerWorker = ConstU32<4>;
	type MaxWorkersPerModel = ConstU32<8>;
	type MaxUnbondingChunks = ConstU32<4>;
	type MaxWorkers = ConstU32<16>;
	type MaxLiveJobs = ConstU32<4>;
	type MaxSlots = ConstU32<4>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

thread_local! {
	/// (worker, payment, fee) of every paid seat.
	pub static PAID_WORK: RefCell<Vec<(AccountId, Balance, Balance)>> = const { RefCell::new(Vec::new()) };
}

/// A 10 % protocol fee paid to the treasury; paid work is logged.
pub struct RecordingRewards;
impl WorkRewards<AccountId, Balance> for RecordingRewards {
	fn protocol_fee(payment: Balance) -> Balance {
		Perbill::from_percent(10) * payment
	}
	fn fee_destination() -> AccountId {
		Treasury::get()
	}
	fn note_paid_work(worker: &AccountId, payment: Balance, fee: Balance) {
		PAID_WORK.with(|log| log.borrow_mut().push((*worker, payment, fee)));
	}
}

impl pallet_jobs::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Workers = Workers;
	type Rewards = RecordingRewards;
	type Randomness = pallet_jobs::ParentBlockRandomness<Test>;
	type MaxCommitWindow = MaxCommitWindow;
	type CommitMargin = CommitMargin;
	type RevealWindow = RevealWindow;
	type RetentionPeriod = RetentionPeriod;
	type MaxAssignmentDelay = MaxAssignmentDelay;
	type WrongResultSlash = WrongResultSlash;
	type NoShowSlash = NoShowSlash;
	type MinReplicas = MinReplicas;
	type MaxReplicas = MaxReplicas;
	type MinAuditRate = MinAuditRate;
	type JobDepositBase = JobDepositBase;
	type JobDepositPerByte = JobDepositPerByte;
	type MaxPromptLen = ConstU32<64>;
	type MaxOutputTokens = ConstU32<16>;
	type MaxSeats = ConstU32<5>;
	type MaxJobs = ConstU32<32>;
	type MaxAssignmentsPerBlock = ConstU32<4>;
	type MaxSettlementsPerBlock = ConstU32<4>;
	type MaxSettlementWeight = MaxSettlementWeight;
	type MaxRemovalsPerBlock = ConstU32<4>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

pub const REQUESTER: AccountId = 1;
pub const POOR: AccountId = 2;
pub const MODEL_OWNER: AccountId = 3;
/// Workers are 10, 11, 12, …
pub const FIRST_WORKER: AccountId = 10;
pub const INITIAL_BALANCE: Balance = 100_000;
pub const WORKER_STAKE: Balance = 10_000;
/// Every slot free; 110 tokens a block: the standard job of the tests (30 prompt bytes, 64 for
/// the template, 8 to generate) takes one block, so its commit window is the margin and one.
pub const WORKER_CAPACITY: Capacity = Capacity { slots: 4, tokens_per_block: 110 };
/// The model every test registers: id 0, floor price 50, engine version 1.
pub const MODEL: u32 = 0;
pub const MIN_PRICE: Balance = 50;

pub struct ExtBuilder {
	workers: u64,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { workers: 3 }
	}
}

impl ExtBuilder {
	/// How many workers register for the model, each with the same stake and a price of 50.
	pub fn workers(mut self, workers: u64) -> Self {
		self.workers = workers;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances = vec![
			(REQUESTER, INITIAL_BALANCE),
			(POOR, 200),
			(MODEL_OWNER, INITIAL_BALANCE),
			(Treasury::get(), 1),
		];
		balances.extend((0..8).map(|i| (FIRST_WORKER + i, INITIAL_BALANCE)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_models::GenesisConfig::<Test> {
			models: vec![pallet_models::GenesisModel {
				owner: MODEL_OWNER,
				name: "smol".into(),
				architecture: "llama".into(),
				quantisation: "Q4_1".into(),
				weights_sha256: [1; 32],
				weights_size: 1,
				tokenizer_hash: [2; 32],
				engine_version: 1,
				min_price: MIN_PRICE,
			}],
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			PAID_WORK.with(|log| log.borrow_mut().clear());
			for i in 0..self.workers {
				frame_support::assert_ok!(Workers::register(
					RuntimeOrigin::signed(FIRST_WORKER + i),
					WORKER_STAKE,
					vec![MODEL].try_into().unwrap(),
					50,
					WORKER_CAPACITY,
				));
			}
		});
		ext
	}

	/// Runs `test`, then checks the invariants of all three pallets.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			check_invariants();
		});
	}
}

pub fn check_invariants() {
	Jobs::do_try_state().unwrap();
	Workers::do_try_state().unwrap();
	Models::do_try_state().unwrap();
}

/// Advances to block `n`, running each block's `on_initialize`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		// The hash of block `next - 1`: a test may have chosen it (`frame_system::BlockHash`).
		let parent = match frame_system::BlockHash::<Test>::get(next - 1) {
			hash if hash != sp_core::H256::zero() => hash,
			_ => sp_core::H256::repeat_byte(next as u8),
		};
		frame_system::BlockHash::<Test>::insert(next - 1, parent);
		System::set_parent_hash(parent);
		Jobs::on_initialize(next);
	}
}

/// Registers through the real registries of this mock.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, Balance> for MockBenchmarkHelper {
	fn register_model(min_price: Balance) -> u32 {
		use frame_support::traits::fungible::Mutate;
		let model = pallet_models::NextModelId::<Test>::get();
		let _ = Balances::mint_into(&MODEL_OWNER, 1_000);
		frame_support::assert_ok!(Models::register_model(
			RuntimeOrigin::signed(MODEL_OWNER),
			pallet_models::ModelSpec {
				name: b"bench".to_vec().try_into().unwrap(),
				architecture: b"llama".to_vec().try_into().unwrap(),
				quantisation: b"Q4_1".to_vec().try_into().unwrap(),
				weights_sha256: [0; 32],
				weights_size: 1,
				tokenizer_hash: [0; 32],
				engine_version: 1,
				min_price,
			}
		));
		model
	}

	fn allow_replicas(replicas: u32) {
		MaxReplicas::set(replicas);
	}

	fn register_worker(worker: &AccountId, model: u32, stake: Balance, price: Balance) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::mint_into(worker, stake * 2);
		frame_support::assert_ok!(Workers::register(
			RuntimeOrigin::signed(*worker),
			stake,
			vec![model].try_into().unwrap(),
			price,
			WORKER_CAPACITY,
		));
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_workers::BenchmarkHelper for MockBenchmarkHelper {
	fn register_models(count: u32) -> Vec<u32> {
		(0..count)
			.map(|_| <Self as crate::BenchmarkHelper<AccountId, Balance>>::register_model(1))
			.collect()
	}
}
