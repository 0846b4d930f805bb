//! Genesis from a preset, as the node builds it, and block helpers shared by the runtime's tests
//! (each test crate uses some of them).

#![allow(dead_code)]

use commons_runtime::{
	genesis_config_presets, AccountId, AllPalletsWithSystem, RuntimeGenesisConfig, RuntimeOrigin,
	System,
};
use frame_support::traits::OnInitialize;
use serde_json::Value;
use sp_runtime::BuildStorage;

/// Merges a preset's JSON patch into the default genesis, as the node does.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The state at genesis of the named preset.
pub fn genesis_from_preset(name: &str) -> sp_io::TestExternalities {
	let patch = genesis_config_presets::get_preset(&name.into())
		.unwrap_or_else(|| panic!("preset {name} exists"));
	genesis_from_patch(serde_json::from_slice(&patch).unwrap())
}

/// The state at genesis of a genesis patch over the default.
pub fn genesis_from_patch(patch: Value) -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
	config.build_storage().unwrap().into()
}

/// Each validator's endowment in [`example_network`].
pub const EXAMPLE_ENDOWMENT: commons_runtime::Balance = 10_000 * commons_runtime::currency::UNIT;

/// The accounts of [`example_network`]'s four validators (sr25519 keys from the seeds 1 to 4,
/// not the public development keys).
pub fn example_validators() -> Vec<(sp_core::sr25519::Pair, sp_core::ed25519::Pair)> {
	use sp_core::Pair;
	(1u8..=4)
		.map(|seed| {
			(
				sp_core::sr25519::Pair::from_seed(&[seed; 32]),
				sp_core::ed25519::Pair::from_seed(&[seed; 32]),
			)
		})
		.collect()
}

/// A network as `commons-node new-network` builds it, with the production governance periods:
/// four validators endowed with [`EXAMPLE_ENDOWMENT`] each, who also form the technical
/// committee.
pub fn example_network() -> sp_io::TestExternalities {
	use sp_core::Pair;
	let validators = example_validators();
	let accounts: Vec<AccountId> =
		validators.iter().map(|(aura, _)| AccountId::from(aura.public())).collect();
	let patch = genesis_config_presets::network_genesis(genesis_config_presets::NetworkGenesis {
		authorities: validators
			.iter()
			.map(|(aura, grandpa)| (aura.public().into(), grandpa.public().into()))
			.collect(),
		endowed: accounts.iter().map(|account| (account.clone(), EXAMPLE_ENDOWMENT)).collect(),
		committee: accounts.clone(),
		model_owner: accounts[0].clone(),
		timing: commons_runtime::governance::parameters::GovernanceTiming::Production,
	});
	genesis_from_patch(patch)
}

/// The development preset's genesis, at block 1.
pub fn development() -> sp_io::TestExternalities {
	let mut ext = genesis_from_preset("development");
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Starts the next block as the executive would, with a parent hash of its own.
pub fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	System::set_parent_hash(sp_core::H256::repeat_byte(next as u8));
	AllPalletsWithSystem::on_initialize(next);
}

pub fn signed(who: &AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.clone())
}
