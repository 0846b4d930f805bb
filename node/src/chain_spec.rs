//! Chain specs built from the runtime's genesis presets.

use commons_runtime::{
	currency::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL},
	WASM_BINARY,
};
use sc_service::{ChainType, Properties};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// A chain spec of this runtime, with no client extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

/// What wallets show: the token's symbol and decimals, and the address format.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"The wasm runtime is not embedded in this binary: build without SKIP_WASM_BUILD".to_string()
	})
}

/// Where a spec's genesis comes from.
enum Genesis<'a> {
	/// A preset of the runtime, by name.
	Preset(&'a str),
	/// A patch over the runtime's default genesis.
	Patch(serde_json::Value),
}

/// A chain spec of the embedded runtime: every Commons network shares the protocol id and the
/// wallet properties.
fn spec(
	name: &str,
	id: &str,
	chain_type: ChainType,
	genesis: Genesis,
	bootnodes: Vec<sc_network::config::MultiaddrWithPeerId>,
) -> Result<ChainSpec, String> {
	let builder = ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_protocol_id("commons")
		.with_chain_type(chain_type)
		.with_boot_nodes(bootnodes)
		.with_properties(properties());
	Ok(match genesis {
		Genesis::Preset(preset) => builder.with_genesis_config_preset_name(preset),
		Genesis::Patch(patch) => builder.with_genesis_config_patch(patch),
	}
	.build())
}

fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	spec(name, id, chain_type, Genesis::Preset(preset), Vec::new())
}

/// A network its operators launch (`commons-node new-network`), from its genesis patch.
pub fn launched(
	name: &str,
	id: &str,
	chain_type: ChainType,
	genesis: serde_json::Value,
	bootnodes: Vec<sc_network::config::MultiaddrWithPeerId>,
) -> Result<ChainSpec, String> {
	spec(name, id, chain_type, Genesis::Patch(genesis), bootnodes)
}

/// `--dev`: one validator, sudo, fast blocks.
pub fn development() -> Result<ChainSpec, String> {
	from_preset("Commons Development", "commons_dev", ChainType::Development, DEV_RUNTIME_PRESET)
}

/// `--chain local`: four validators on one machine.
pub fn local_testnet() -> Result<ChainSpec, String> {
	from_preset(
		"Commons Local Testnet",
		"commons_local",
		ChainType::Local,
		LOCAL_TESTNET_RUNTIME_PRESET,
	)
}
