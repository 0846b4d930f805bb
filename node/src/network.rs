//! `commons-node new-network`: the chain spec of a network its operators launch, from their own
//! keys. The public development keys (Alice, Bob, …) are refused: anyone can sign with them, so
//! a network that trusts one of them to validate, vote or hold funds belongs to everybody.

use std::{collections::HashSet, path::PathBuf};

use commons_runtime::{
	currency::UNIT,
	genesis_config_presets::{network_genesis, Authority, NetworkGenesis},
	governance::parameters::GovernanceTiming,
	AccountId, Balance,
};
use sc_service::ChainType;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::chain_spec;

/// The most members the technical committee may start with.
const MAX_COMMITTEE: usize =
	commons_runtime::configs::governance::TECHNICAL_COMMITTEE_MAX_MEMBERS as usize;

/// Builds the chain spec of a new network from its operators' keys (docs/chain.md, "Launching a
/// network").
#[derive(Debug, clap::Parser)]
pub struct NewNetworkCmd {
	/// The network's name, shown by wallets.
	#[arg(long)]
	pub name: String,

	/// The network's id: lowercase letters, digits and underscores. Nodes keep its database
	/// under this name.
	#[arg(long)]
	pub id: String,

	/// A validator's Aura (sr25519) and GRANDPA (ed25519) public keys, as addresses or 0x-hex,
	/// separated by a comma. Repeat for each validator.
	#[arg(long = "validator", value_name = "AURA,GRANDPA", required = true)]
	pub validators: Vec<String>,

	/// An account holding CMN at genesis: ADDRESS=WHOLE_CMN. Repeat for each account.
	#[arg(long = "endow", value_name = "ADDRESS=CMN", required = true)]
	pub endowments: Vec<String>,

	/// A member of the technical committee, which whitelists emergency fixes. Repeat for each
	/// member, at most 16.
	#[arg(long = "committee", value_name = "ADDRESS")]
	pub committee: Vec<String>,

	/// The owner of the genesis model's registry entry (the first endowed account without it).
	#[arg(long, value_name = "ADDRESS")]
	pub model_owner: Option<String>,

	/// The governance periods: `production` (days) for a network of value, `fast` (blocks) for
	/// a rehearsal.
	#[arg(long, value_enum, default_value_t = Governance::Production)]
	pub governance: Governance,

	/// A bootnode's address with its peer id (`/ip4/…/tcp/30333/p2p/12D3…`). Repeat.
	#[arg(long = "bootnode", value_name = "MULTIADDR")]
	pub bootnodes: Vec<sc_network::config::MultiaddrWithPeerId>,

	/// Write the raw spec: genesis as storage, the form every node must join with.
	#[arg(long)]
	pub raw: bool,

	/// Where to write the spec; standard output without it.
	#[arg(long, value_name = "FILE")]
	pub output: Option<PathBuf>,
}

/// The governance periods a new network starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Governance {
	/// Days, as docs/governance.md lists them.
	Production,
	/// Blocks: referenda pass within minutes, for rehearsals and tests.
	Fast,
}

/// Why a network's description is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetworkError {
	#[error("the id `{0}` is not lowercase letters, digits and underscores")]
	BadId(String),
	#[error("`{0}` is not AURA,GRANDPA: two public keys separated by a comma")]
	NotAValidator(String),
	#[error("{what}: `{given}` is not an address or 0x and 64 hex digits")]
	NotAKey { given: String, what: &'static str },
	#[error("`{0}` is not ADDRESS=CMN, a whole number of CMN above zero")]
	NotAnEndowment(String),
	#[error(
		"{what} `{key}` is a public development key ({name}): anyone can sign with it. Generate \
		 keys of your own (`commons-node key generate`)"
	)]
	DevelopmentKey { what: &'static str, key: String, name: String },
	#[error("{what} `{key}` is listed twice")]
	Duplicate { what: &'static str, key: String },
	#[error("the technical committee has {0} members; it may have at most {MAX_COMMITTEE}")]
	CommitteeTooLarge(usize),
	#[error("the endowments add up to more than the balance type holds")]
	SupplyOverflow,
}

impl NewNetworkCmd {
	/// Checks the description and writes the spec.
	pub fn run(&self) -> sc_cli::Result<()> {
		let network = self.genesis().map_err(|error| sc_cli::Error::Input(error.to_string()))?;
		// The runtime reads the patch's addresses in its wasm, which knows only the registered
		// address formats: the patch is written in the generic one, as the presets are.
		sp_core::crypto::set_default_ss58_version(
			sp_core::crypto::Ss58AddressFormatRegistry::SubstrateAccount.into(),
		);
		let spec = chain_spec::launched(
			&self.name,
			&self.id,
			match self.governance {
				Governance::Production => ChainType::Live,
				Governance::Fast => ChainType::Local,
			},
			network_genesis(network),
			self.bootnodes.clone(),
		)?;
		let json = sc_service::ChainSpec::as_json(&spec, self.raw)?;
		match &self.output {
			Some(path) => std::fs::write(path, json)
				.map_err(|error| format!("writing {}: {error}", path.display()))?,
			None => println!("{json}"),
		}
		Ok(())
	}

	/// The genesis the command line describes, or what is wrong with it.
	pub fn genesis(&self) -> Result<NetworkGenesis, NetworkError> {
		if self.id.is_empty()
			|| !self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
		{
			return Err(NetworkError::BadId(self.id.clone()));
		}
		let mut authorities: Vec<Authority> = Vec::new();
		let mut seen = HashSet::new();
		for given in &self.validators {
			let (aura, grandpa) =
				given.split_once(',').ok_or_else(|| NetworkError::NotAValidator(given.clone()))?;
			let aura = sr25519_key(aura.trim(), "an Aura (sr25519) key")?;
			let grandpa = ed25519_key(grandpa.trim(), "a GRANDPA (ed25519) key")?;
			let (aura_bytes, grandpa_bytes) = (*aura.as_array_ref(), *grandpa.as_array_ref());
			refuse_development(&aura_bytes, "the Aura key")?;
			refuse_development(&grandpa_bytes, "the GRANDPA key")?;
			for key in [aura_bytes, grandpa_bytes] {
				if !seen.insert(key) {
					return Err(NetworkError::Duplicate {
						what: "the validator key",
						key: hex_of(&key),
					});
				}
			}
			authorities.push((aura.into(), grandpa.into()));
		}
		let mut endowed: Vec<(AccountId, Balance)> = Vec::new();
		let mut supply: Balance = 0;
		for given in &self.endowments {
			let (address, amount) =
				given.split_once('=').ok_or_else(|| NetworkError::NotAnEndowment(given.clone()))?;
			let account = account(address.trim(), "the endowed account")?;
			let cmn: Balance = amount
				.trim()
				.parse()
				.ok()
				.filter(|cmn| *cmn > 0)
				.ok_or_else(|| NetworkError::NotAnEndowment(given.clone()))?;
			let balance = cmn.checked_mul(UNIT).ok_or(NetworkError::SupplyOverflow)?;
			supply = supply.checked_add(balance).ok_or(NetworkError::SupplyOverflow)?;
			if endowed.iter().any(|(known, _)| *known == account) {
				return Err(NetworkError::Duplicate {
					what: "the endowed account",
					key: address.trim().into(),
				});
			}
			endowed.push((account, balance));
		}
		let mut committee: Vec<AccountId> = Vec::new();
		for address in &self.committee {
			let member = account(address.trim(), "the committee member")?;
			if committee.contains(&member) {
				return Err(NetworkError::Duplicate {
					what: "the committee member",
					key: address.trim().into(),
				});
			}
			committee.push(member);
		}
		if committee.len() > MAX_COMMITTEE {
			return Err(NetworkError::CommitteeTooLarge(committee.len()));
		}
		let model_owner = match &self.model_owner {
			Some(address) => account(address.trim(), "the model owner")?,
			// `endow` is required, so there is a first account.
			None => endowed
				.first()
				.map(|(account, _)| account.clone())
				.ok_or_else(|| NetworkError::NotAnEndowment(String::new()))?,
		};
		let timing = match self.governance {
			Governance::Production => GovernanceTiming::Production,
			Governance::Fast => GovernanceTiming::Fast,
		};
		Ok(NetworkGenesis { authorities, endowed, committee, model_owner, timing })
	}
}

fn hex_of(bytes: &[u8; 32]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// 32 bytes from an address (any SS58 format) or 0x-hex.
fn public_bytes(given: &str, what: &'static str) -> Result<[u8; 32], NetworkError> {
	let refused = || NetworkError::NotAKey { given: given.into(), what };
	if let Some(digits) = given.strip_prefix("0x") {
		let bytes = hex::decode(digits).map_err(|_| refused())?;
		return bytes.try_into().map_err(|_| refused());
	}
	AccountId::from_ss58check_with_version(given)
		.map(|(account, _)| account.into())
		.map_err(|_| refused())
}

fn sr25519_key(given: &str, what: &'static str) -> Result<sr25519::Public, NetworkError> {
	public_bytes(given, what).map(sr25519::Public::from_raw)
}

fn ed25519_key(given: &str, what: &'static str) -> Result<ed25519::Public, NetworkError> {
	public_bytes(given, what).map(ed25519::Public::from_raw)
}

/// An account, refused when it is a development account.
fn account(given: &str, what: &'static str) -> Result<AccountId, NetworkError> {
	let bytes = public_bytes(given, what)?;
	refuse_development(&bytes, what)?;
	Ok(AccountId::from(bytes))
}

/// Refuses the public keys of the development keyrings (Alice to Ferdie and their stashes, in
/// both schemes).
fn refuse_development(key: &[u8; 32], what: &'static str) -> Result<(), NetworkError> {
	let sr =
		Sr25519Keyring::iter().map(|k| (*k.public().as_array_ref(), format!("{k:?}, sr25519")));
	let ed =
		Ed25519Keyring::iter().map(|k| (*k.public().as_array_ref(), format!("{k:?}, ed25519")));
	match sr.chain(ed).find(|(public, _)| public == key) {
		Some((_, name)) => Err(NetworkError::DevelopmentKey { what, key: hex_of(key), name }),
		None => Ok(()),
	}
}
