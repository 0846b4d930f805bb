//! A test runtime: System, Balances and Rewards, with parameters tests can change.

use crate as pallet_rewards;
use frame_support::{derive_impl, parameter_types, traits::Hooks};
use sp_runtime::{BuildStorage, Perbill};

/// An account id in the mock.
pub type AccountId = u64;
/// A balance in the mock.
pub type Balance = u64;
/// A block number in the mock.
pub type BlockNumber = u64;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Rewards: pallet_rewards,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	// Nonzero, so that tests see what the hook charges for reads and writes.
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
}

/// The treasury account: it receives protocol fees.
pub const TREASURY: AccountId = 1_000;

parameter_types! {
	pub static ExistentialDeposit: Balance = 1;
	pub static ProtocolFee: Perbill = Perbill::from_percent(5);
	pub const TreasuryAccount: AccountId = TREASURY;
	pub static EraLength: BlockNumber = 10;
	pub static EmissionPerEra: Balance = 1_000;
	pub static RebateCap: Perbill = Perbill::from_percent(50);
	pub static MaxPayoutsPerBlock: u32 = 2;
	pub static MaxWorkersPerEra: u32 = 10;
	pub static MaxPendingEras: u32 = 4;
}

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type ProtocolFee = ProtocolFee;
	type TreasuryAccount = TreasuryAccount;
	type EraLength = EraLength;
	type EmissionPerEra = EmissionPerEra;
	type RebateCap = RebateCap;
	type MaxPayoutsPerBlock = MaxPayoutsPerBlock;
	type MaxWorkersPerEra = MaxWorkersPerEra;
	type MaxPendingEras = MaxPendingEras;
	type WeightInfo = ();
}

/// Genesis and parameters for a test.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
	existential_deposit: Balance,
	protocol_fee: Perbill,
	era_length: BlockNumber,
	emission: Balance,
	rebate_cap: Perbill,
	max_payouts: u32,
	max_workers: u32,
	max_pending: u32,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			balances: vec![(TREASURY, 1_000)],
			existential_deposit: 1,
			protocol_fee: Perbill::from_percent(5),
			era_length: 10,
			emission: 1_000,
			rebate_cap: Perbill::from_percent(50),
			max_payouts: 2,
			max_workers: 10,
			max_pending: 4,
		}
	}
}

impl ExtBuilder {
	/// The existential deposit.
	pub fn existential_deposit(mut self, deposit: Balance) -> Self {
		self.existential_deposit = deposit;
		self
	}

	/// Blocks per era.
	pub fn era_length(mut self, blocks: BlockNumber) -> Self {
		self.era_length = blocks;
		self
	}

	/// Emission per era.
	pub fn emission(mut self, emission: Balance) -> Self {
		self.emission = emission;
		self
	}

	/// The rebate cap.
	pub fn rebate_cap(mut self, cap: Perbill) -> Self {
		self.rebate_cap = cap;
		self
	}

	/// Workers paid per block.
	pub fn max_payouts(mut self, max: u32) -> Self {
		self.max_payouts = max;
		self
	}

	/// Workers recorded per era.
	pub fn max_workers(mut self, max: u32) -> Self {
		self.max_workers = max;
		self
	}

	/// Eras waiting for payout.
	pub fn max_pending(mut self, max: u32) -> Self {
		self.max_pending = max;
		self
	}

	/// Builds the externalities, at block 1 (so that events are recorded).
	///
	/// Every parameter is set here, not only the ones a test changes: the `static` parameters
	/// are thread-local, and a test thread may run more than one test.
	pub fn build(self) -> sp_io::TestExternalities {
		ExistentialDeposit::set(self.existential_deposit);
		ProtocolFee::set(self.protocol_fee);
		EraLength::set(self.era_length);
		EmissionPerEra::set(self.emission);
		RebateCap::set(self.rebate_cap);
		MaxPayoutsPerBlock::set(self.max_payouts);
		MaxWorkersPerEra::set(self.max_workers);
		MaxPendingEras::set(self.max_pending);

		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds the externalities, runs `test` and then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Rewards::do_try_state().unwrap();
		});
	}
}

/// Default externalities; used by the benchmark test suite.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_test_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}

/// Runs blocks up to and including `n`, calling the pallet's `on_initialize` for each and
/// checking the invariants after each.
pub fn run_to_block(n: BlockNumber) {
	while System::block_number() < n {
		let next = System::block_number().saturating_add(1);
		System::set_block_number(next);
		Rewards::on_initialize(next);
		Rewards::do_try_state().unwrap();
	}
}

/// The pallet's events so far, oldest first.
pub fn rewards_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Rewards(event) => Some(event),
			_ => None,
		})
		.collect()
}
