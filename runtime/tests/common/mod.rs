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
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, serde_json::from_slice(&patch).unwrap());
	let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
	config.build_storage().unwrap().into()
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
