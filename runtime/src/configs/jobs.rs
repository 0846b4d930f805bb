//! `pallet_jobs`: escrow, assignment, commit-reveal and settlement.

use frame_support::traits::ConstU32;

use crate::{
	governance::parameters::market, Balances, Models, Rewards, Runtime, RuntimeHoldReason, Workers,
};

frame_support::parameter_types! {
	/// Half of a block's weight: settlements that could take more (128 jobs of seven seats,
	/// every seat slashed, would take most of a block) wait for the next block.
	pub MaxSettlementWeight: frame_support::weights::Weight =
		crate::configs::RuntimeBlockWeights::get().max_block.saturating_div(2);
}

impl pallet_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Workers = Workers;
	type Rewards = Rewards;
	type Randomness = pallet_jobs::ParentBlockRandomness<Runtime>;
	type MaxCommitWindow = market::MaxCommitWindow;
	type CommitMargin = market::CommitMargin;
	type RevealWindow = market::RevealWindow;
	type RetentionPeriod = market::RetentionPeriod;
	type MaxAssignmentDelay = market::MaxAssignmentDelay;
	type WrongResultSlash = market::WrongResultSlash;
	type NoShowSlash = market::NoShowSlash;
	type MinReplicas = market::MinReplicas;
	type MaxReplicas = market::MaxReplicas;
	type MinAuditRate = market::MinAuditRate;
	type JobDepositBase = market::JobDepositBase;
	type JobDepositPerByte = market::JobDepositPerByte;
	type MaxPromptLen = ConstU32<8192>;
	type MaxOutputTokens = ConstU32<512>;
	type MaxSeats = ConstU32<{ crate::governance::parameters::MAX_SEATS }>;
	type MaxJobs = ConstU32<{ crate::governance::parameters::MAX_JOBS }>;
	type MaxAssignmentsPerBlock =
		ConstU32<{ crate::governance::parameters::MAX_ASSIGNMENTS_PER_BLOCK }>;
	type MaxSettlementsPerBlock = ConstU32<128>;
	type MaxSettlementWeight = MaxSettlementWeight;
	type MaxRemovalsPerBlock = ConstU32<128>;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryHelper;
}

/// Registers models and workers through the runtime's own registries for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_jobs::BenchmarkHelper<crate::AccountId, crate::Balance> for RegistryHelper {
	fn register_model(min_price: crate::Balance) -> u32 {
		use frame_support::traits::fungible::Mutate;
		let owner: crate::AccountId = frame_benchmarking::account("model-owner", 0, 0);
		let model = pallet_models::NextModelId::<Runtime>::get();
		let _ = Balances::mint_into(&owner, 1_000 * crate::currency::UNIT);
		let text = |text: &[u8]| frame_support::BoundedVec::truncate_from(text.to_vec());
		let _ = Models::register_model(
			crate::RuntimeOrigin::signed(owner),
			pallet_models::ModelSpec {
				name: text(b"benchmark"),
				architecture: text(b"llama"),
				quantisation: text(b"Q4_1"),
				weights_sha256: [0; 32],
				weights_size: 1,
				tokenizer_hash: [0; 32],
				engine_version: 1,
				min_price,
			},
		);
		model
	}

	fn allow_replicas(replicas: u32) {
		use crate::governance::parameters::market;
		let _ = crate::Parameters::set_parameter(
			crate::RuntimeOrigin::root(),
			crate::RuntimeParameters::Market(market::Parameters::MaxReplicas(
				market::MaxReplicas,
				Some(replicas),
			)),
		);
	}

	fn register_worker(
		worker: &crate::AccountId,
		model: u32,
		stake: crate::Balance,
		price: crate::Balance,
	) {
		use frame_support::traits::{fungible::Mutate, Get};
		let _ = Balances::mint_into(worker, stake.saturating_mul(2));
		let _ = Workers::register(
			crate::RuntimeOrigin::signed(worker.clone()),
			stake,
			frame_support::BoundedVec::truncate_from(alloc::vec![model]),
			price,
			commons_primitives::Capacity {
				slots: <crate::Runtime as pallet_workers::Config>::MaxSlots::get(),
				tokens_per_block: u32::MAX,
			},
		);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_workers::BenchmarkHelper for RegistryHelper {
	fn register_models(count: u32) -> alloc::vec::Vec<u32> {
		(0..count)
			.map(|_| {
				<Self as pallet_jobs::BenchmarkHelper<crate::AccountId, crate::Balance>>::register_model(1)
			})
			.collect()
	}
}
