//! Governance from the command line: propose a protocol parameter change, vote on referenda,
//! follow them, and read every parameter with its range.
//!
//! Everything here is built from the runtime's own types (its calls, storage keys and the
//! parameter catalogue in `commons_runtime::governance::parameters`), so a value the runtime
//! would refuse for its range is refused here, before anything is signed.

use std::time::Duration;

use codec::{Decode, Encode};
use commons_runtime::configs::governance::{PreimageBaseDeposit, PreimageByteDeposit};
use commons_runtime::{
	currency::TOKEN_DECIMALS,
	governance::{
		origins,
		parameters::{self, Group, ParameterInfo, RuntimeParameters, Unit},
		tracks,
	},
	AccountId, Balance, Hash, OriginCaller, Runtime, RuntimeCall, RuntimeEvent,
};
use frame_support::traits::{schedule::DispatchTime, Bounded};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::ReferendumInfo;

use crate::{
	amount::{format_amount, format_decimal, parse_decimal},
	rpc::describe_dispatch_error,
	Error, Keypair, Node,
};

/// Why a governance command is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum GovError {
	/// No parameter has this name.
	#[error("unknown parameter `{0}`: `commons gov params` lists them")]
	UnknownParameter(String),
	/// The value does not read as the parameter's unit.
	#[error("{name} takes {unit}: {why}")]
	BadValue {
		/// The parameter.
		name: &'static str,
		/// What it takes.
		unit: &'static str,
		/// Why the text does not read.
		why: String,
	},
	/// The value is outside the parameter's range.
	#[error("{name} must be between {low} and {high}, not {value}")]
	OutOfRange {
		/// The parameter.
		name: &'static str,
		/// The value asked for.
		value: String,
		/// Its least value.
		low: String,
		/// Its most value.
		high: String,
	},
	/// Conviction is 0 (none, 0.1x) to 6 (locked 6x).
	#[error("conviction must be 0 to 6, not {0}")]
	Conviction(u8),
	/// No referendum has this index.
	#[error("no referendum #{0}: `commons gov status` lists them")]
	NoReferendum(u32),
	/// The referendum takes no votes any more.
	#[error("referendum #{index} is {state} and takes no votes")]
	NotOngoing {
		/// The referendum.
		index: u32,
		/// Its state.
		state: &'static str,
	},
	/// The account cannot pay for what it asked.
	#[error("not enough balance: {needed} is needed ({what}), {free} is free")]
	NotEnoughBalance {
		/// What it needs.
		needed: String,
		/// For what.
		what: String,
		/// What it has.
		free: String,
	},
	/// A transaction was included and its call failed.
	#[error("{call} failed on chain: {error}{done}")]
	Dispatch {
		/// The call.
		call: &'static str,
		/// The runtime's error, by name.
		error: String,
		/// What earlier steps did and that stays done.
		done: String,
	},
	/// The node could not be reached, or answered badly.
	#[error(transparent)]
	Node(#[from] Error),
}

/// How a unit is written, for errors and listings.
fn unit_name(unit: Unit) -> &'static str {
	match unit {
		Unit::Balance => "an amount of CMN (`5000`, `0.5`)",
		Unit::Blocks => "a number of blocks",
		Unit::Share => "a percentage (`10`, `12.5%`)",
		Unit::Count => "a whole number",
	}
}

/// Decimals a share is written with: Perbill's billion parts are 10^7 per percent.
const SHARE_DECIMALS: u32 = 7;

/// A parameter's value as people write it.
pub fn format_value(info: &ParameterInfo, number: u128) -> String {
	match info.unit {
		Unit::Balance => format_amount(number),
		Unit::Blocks => {
			let seconds = number
				.saturating_mul(u128::from(commons_runtime::time::MILLI_SECS_PER_BLOCK))
				/ 1000;
			let blocks = if number == 1 { "block" } else { "blocks" };
			format!("{number} {blocks} ({})", human_duration(seconds))
		},
		Unit::Share => format!("{}%", format_decimal(number, SHARE_DECIMALS)),
		Unit::Count => number.to_string(),
	}
}

fn human_duration(seconds: u128) -> String {
	match seconds {
		s if s >= 86_400 && s % 86_400 == 0 => format!("{} d", s / 86_400),
		s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
		s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
		s => format!("{s} s"),
	}
}

/// The catalogue entry of `name`, case-insensitive.
pub fn parameter(name: &str) -> Result<&'static ParameterInfo, GovError> {
	parameters::PARAMETERS
		.iter()
		.find(|info| info.name.eq_ignore_ascii_case(name.trim()))
		.ok_or_else(|| GovError::UnknownParameter(name.to_string()))
}

/// Reads `text` as a value of `info`'s unit and checks it against its range.
pub fn parse_value(info: &'static ParameterInfo, text: &str) -> Result<u128, GovError> {
	let bad = |why: String| GovError::BadValue { name: info.name, unit: unit_name(info.unit), why };
	let text = text.trim();
	let number = match info.unit {
		Unit::Balance => parse_decimal(text, u32::from(TOKEN_DECIMALS)).map_err(bad)?,
		Unit::Share => parse_decimal(text.trim_end_matches('%'), SHARE_DECIMALS).map_err(bad)?,
		Unit::Blocks | Unit::Count => parse_decimal(text, 0).map_err(bad)?,
	};
	if number < info.low || number > info.high {
		return Err(GovError::OutOfRange {
			name: info.name,
			value: format_value(info, number),
			low: format_value(info, info.low),
			high: format_value(info, info.high),
		});
	}
	Ok(number)
}

/// What a referendum for a parameter change proposes, and on which track.
pub struct Proposal {
	/// The parameter.
	pub info: &'static ParameterInfo,
	/// Its new value.
	pub value: u128,
	/// The call the referendum enacts.
	pub call: RuntimeCall,
	/// The origin it is enacted with; it picks the track.
	pub origin: OriginCaller,
	/// The track's id.
	pub track: u16,
}

/// The proposal that sets parameter `name` to `text`, checked against the range.
pub fn proposal(name: &str, text: &str) -> Result<Proposal, GovError> {
	let info = parameter(name)?;
	let value = parse_value(info, text)?;
	let setting =
		parameters::compose(info.name, Some(value)).ok_or_else(|| GovError::BadValue {
			name: info.name,
			unit: unit_name(info.unit),
			why: format!("`{text}` does not fit"),
		})?;
	let call = set_parameter(setting);
	let (origin, track) = match info.group {
		Group::Market => {
			(OriginCaller::Origins(origins::Origin::ParameterAdmin), tracks::PARAMETERS)
		},
		Group::Governance => (OriginCaller::system(frame_system::RawOrigin::Root), tracks::ROOT),
	};
	Ok(Proposal { info, value, call, origin, track })
}

fn set_parameter(setting: RuntimeParameters) -> RuntimeCall {
	RuntimeCall::ProtocolParameters(parameters::Call::set_parameter { key_value: setting })
}

/// A track's name.
/// A track's id by name (`root`, `parameters`).
pub fn track_id(name: &str) -> Option<u16> {
	match name {
		"root" => Some(tracks::ROOT),
		"parameters" => Some(tracks::PARAMETERS),
		_ => None,
	}
}

/// A track's name (`root`, `parameters`).
pub fn track_name(track: u16) -> &'static str {
	match track {
		tracks::ROOT => "root",
		tracks::PARAMETERS => "parameters",
		_ => "unknown",
	}
}

/// The track that decides a parameter of `group`.
pub fn group_track(group: Group) -> &'static str {
	match group {
		Group::Market => track_name(tracks::PARAMETERS),
		Group::Governance => track_name(tracks::ROOT),
	}
}

/// A parameter's value on chain.
pub struct ParameterValue {
	/// The parameter.
	pub info: &'static ParameterInfo,
	/// The value in force.
	pub current: u128,
	/// The value it has when nobody set one.
	pub default: u128,
}

/// Every protocol parameter's value at the best block.
pub async fn parameter_values(node: &Node) -> Result<Vec<ParameterValue>, GovError> {
	let mut values = Vec::new();
	for info in parameters::PARAMETERS {
		values.push(read_value(node, info).await?);
	}
	Ok(values)
}

/// One parameter's value at the best block.
pub async fn parameter_value(node: &Node, name: &str) -> Result<u128, GovError> {
	Ok(read_value(node, parameter(name)?).await?.current)
}

/// Where parameter `name` is stored, and the value it has while nothing is stored there.
pub fn storage_location(name: &str) -> Result<(Vec<u8>, u128), GovError> {
	let setting = parameters::compose(name, None)
		.ok_or_else(|| GovError::UnknownParameter(name.to_string()))?;
	let (key, _) = frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(setting);
	// The default is what the runtime reads from empty storage.
	let default = sp_io::TestExternalities::default()
		.execute_with(|| parameters::current(name))
		.unwrap_or_default();
	Ok((pallet_parameters::Parameters::<Runtime>::hashed_key_for(&key), default))
}

/// A stored parameter value, as a number.
pub fn stored_number(bytes: &[u8]) -> Result<u128, GovError> {
	let value = parameters::RuntimeParametersValue::decode(&mut &bytes[..])
		.map_err(|error| Error::Decode { what: "a parameter value", detail: error.to_string() })?;
	Ok(parameters::number(&value))
}

/// Reads `info`'s stored value, falling back to its default.
async fn read_value(node: &Node, info: &'static ParameterInfo) -> Result<ParameterValue, GovError> {
	let (storage_key, default) = storage_location(info.name)?;
	let current = match node.storage(storage_key, None).await? {
		Some(bytes) => stored_number(&bytes)?,
		None => default,
	};
	Ok(ParameterValue { info, current, default })
}

/// What `propose` did.
pub struct Proposed {
	/// The referendum's index.
	pub index: u32,
	/// The track it is on.
	pub track: u16,
	/// The preimage's hash.
	pub preimage: Hash,
	/// Held: preimage deposit, submission deposit, decision deposit.
	pub deposits: Balance,
	/// Transaction fees paid.
	pub fees: Balance,
	/// The block the decision deposit was placed in.
	pub block: u32,
}

/// Notes the proposal's preimage, submits the referendum on its track and places the decision
/// deposit. Checks the proposer can pay for all three before signing the first.
pub async fn propose(
	node: &Node,
	key: &Keypair,
	proposal: &Proposal,
	timeout: Duration,
) -> Result<Proposed, GovError> {
	let proposer = key.account_id();
	let encoded = proposal.call.encode();
	let hash: Hash = sp_crypto_hashing::blake2_256(&encoded).into();
	let len = u32::try_from(encoded.len()).unwrap_or(u32::MAX);
	let noted = node
		.storage(pallet_preimage::RequestStatusFor::<Runtime>::hashed_key_for(hash), None)
		.await?
		.is_some();

	// What the three steps hold, so that a proposer who cannot pay is stopped before the first.
	let preimage_deposit = if noted {
		0
	} else {
		PreimageBaseDeposit::get()
			.saturating_add(PreimageByteDeposit::get().saturating_mul(Balance::from(len)))
	};
	let submission = <Runtime as pallet_referenda::Config>::SubmissionDeposit::get();
	let decision_name = match proposal.track {
		tracks::ROOT => "RootDecisionDeposit",
		_ => "ParametersDecisionDeposit",
	};
	let decision = parameter_value(node, decision_name).await?;
	let deposits = preimage_deposit.saturating_add(submission).saturating_add(decision);
	let free = node.free_balance(&proposer, None).await?;
	// Three transactions' fees are far below one CMN.
	let margin = commons_runtime::currency::UNIT;
	if free < deposits.saturating_add(margin) {
		return Err(GovError::NotEnoughBalance {
			needed: format_amount(deposits.saturating_add(margin)),
			what: format!(
				"deposits: preimage {}, submission {}, decision {}; and fees",
				format_amount(preimage_deposit),
				format_amount(submission),
				format_amount(decision)
			),
			free: format_amount(free),
		});
	}

	let mut fees = 0;
	let mut done = String::new();
	if !noted {
		let call =
			RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes: encoded.clone() });
		let inclusion = node.sign_and_submit(call, key, timeout).await?;
		fees += inclusion.fee;
		failed("Preimage.note_preimage", inclusion.outcome, &done)?;
		done = format!("; the preimage 0x{} stays noted", hex::encode(hash));
	}
	let submit = RuntimeCall::Referenda(pallet_referenda::Call::submit {
		proposal_origin: Box::new(proposal.origin.clone()),
		proposal: Bounded::Lookup { hash, len },
		enactment_moment: DispatchTime::After(1),
	});
	let inclusion = node.sign_and_submit(submit, key, timeout).await?;
	fees += inclusion.fee;
	failed("Referenda.submit", inclusion.outcome, &done)?;
	let index = inclusion
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Referenda(pallet_referenda::Event::Submitted { index, .. }) => {
				Some(*index)
			},
			_ => None,
		})
		.ok_or_else(|| GovError::Dispatch {
			call: "Referenda.submit",
			error: "no Submitted event".into(),
			done: done.clone(),
		})?;
	done = format!(
		"; referendum #{index} is submitted and needs its decision deposit: \
		 `Referenda.place_decision_deposit({index})`"
	);
	let place = RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index });
	let inclusion = node.sign_and_submit(place, key, timeout).await?;
	fees += inclusion.fee;
	failed("Referenda.place_decision_deposit", inclusion.outcome, &done)?;
	Ok(Proposed {
		index,
		track: proposal.track,
		preimage: hash,
		deposits,
		fees,
		block: inclusion.block_number,
	})
}

fn failed(
	call: &'static str,
	outcome: Result<(), sp_runtime::DispatchError>,
	done: &str,
) -> Result<(), GovError> {
	outcome.map_err(|error| GovError::Dispatch {
		call,
		error: describe_dispatch_error(error),
		done: done.to_string(),
	})
}

/// A referendum as stored.
pub type Referendum = pallet_referenda::ReferendumInfoOf<Runtime, ()>;

/// Referendum `index`, if it exists.
pub async fn referendum(node: &Node, index: u32) -> Result<Option<Referendum>, GovError> {
	let key = pallet_referenda::ReferendumInfoFor::<Runtime>::hashed_key_for(index);
	let Some(bytes) = node.storage(key, None).await? else { return Ok(None) };
	let info = Referendum::decode(&mut &bytes[..])
		.map_err(|error| Error::Decode { what: "a referendum", detail: error.to_string() })?;
	Ok(Some(info))
}

/// How many referenda were ever submitted.
pub async fn referendum_count(node: &Node) -> Result<u32, GovError> {
	let key = pallet_referenda::ReferendumCount::<Runtime>::hashed_key().to_vec();
	let bytes = node.storage(key, None).await?.unwrap_or_default();
	Ok(u32::decode(&mut &bytes[..]).unwrap_or_default())
}

/// A referendum's state as a word.
pub fn state_name(info: &Referendum) -> &'static str {
	match info {
		ReferendumInfo::Ongoing(status) => match &status.deciding {
			None if status.decision_deposit.is_none() => "awaiting decision deposit",
			None => "preparing",
			Some(deciding) if deciding.confirming.is_some() => "confirming",
			Some(_) => "deciding",
		},
		ReferendumInfo::Approved(..) => "approved",
		ReferendumInfo::Rejected(..) => "rejected",
		ReferendumInfo::Cancelled(..) => "cancelled",
		ReferendumInfo::TimedOut(..) => "timed out",
		ReferendumInfo::Killed(..) => "killed",
	}
}

/// Votes `aye` or nay on referendum `index` with `amount` at `conviction` (0–6), after checking
/// that the referendum is ongoing and the voter holds the amount.
pub async fn vote(
	node: &Node,
	key: &Keypair,
	index: u32,
	aye: bool,
	conviction: u8,
	amount: Balance,
	timeout: Duration,
) -> Result<crate::Inclusion, GovError> {
	let conviction =
		Conviction::try_from(conviction).map_err(|()| GovError::Conviction(conviction))?;
	match referendum(node, index).await? {
		None => return Err(GovError::NoReferendum(index)),
		Some(ReferendumInfo::Ongoing(_)) => {},
		Some(other) => return Err(GovError::NotOngoing { index, state: state_name(&other) }),
	}
	let voter: AccountId = key.account_id();
	let account = node.account(&voter, None).await?;
	// A vote locks (not spends) the amount; it may overlap other locks but not exceed the total.
	let total = account.data.free.saturating_add(account.data.reserved);
	if amount > total || amount == 0 {
		return Err(GovError::NotEnoughBalance {
			needed: format_amount(amount),
			what: "the vote's amount, which must be more than zero".into(),
			free: format_amount(account.data.free),
		});
	}
	let call = RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
		poll_index: index,
		vote: AccountVote::Standard { vote: Vote { aye, conviction }, balance: amount },
	});
	let inclusion = node.sign_and_submit(call, key, timeout).await?;
	failed("ConvictionVoting.vote", inclusion.outcome, "")?;
	Ok(inclusion)
}

/// What a referendum's preimage proposes, in words, if it is a parameter change stored on
/// chain.
pub async fn describe_proposal(node: &Node, info: &Referendum) -> Result<Option<String>, GovError> {
	let ReferendumInfo::Ongoing(status) = info else { return Ok(None) };
	let Bounded::Lookup { hash, len } = &status.proposal else { return Ok(None) };
	let key = pallet_preimage::PreimageFor::<Runtime>::hashed_key_for((*hash, *len));
	let Some(bytes) = node.storage(key, None).await? else { return Ok(None) };
	let Ok(bytes) = Vec::<u8>::decode(&mut &bytes[..]) else { return Ok(None) };
	Ok(RuntimeCall::decode(&mut &bytes[..]).ok().map(|call| describe_call(&call)))
}

/// A call in words: a parameter change by name and value, anything else by its debug form.
pub fn describe_call(call: &RuntimeCall) -> String {
	if let RuntimeCall::ProtocolParameters(parameters::Call::set_parameter { key_value }) = call {
		let (name, value) = parameters::parts(key_value);
		if let Some(info) = parameters::info(name) {
			return match value {
				Some(value) => format!("set {name} to {}", format_value(info, value)),
				None => format!("restore {name} to its default"),
			};
		}
	}
	let text = format!("{call:?}");
	text.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_runtime::currency::UNIT;

	#[test]
	fn values_read_in_their_units_and_ranges() {
		assert_eq!(
			parse_value(parameter("MinWorkerStake").unwrap(), "5000").unwrap(),
			5_000 * UNIT
		);
		assert_eq!(parse_value(parameter("minworkerstake").unwrap(), "1.5").unwrap(), UNIT * 3 / 2);
		assert_eq!(parse_value(parameter("ProtocolFee").unwrap(), "12.5%").unwrap(), 125_000_000);
		assert_eq!(parse_value(parameter("RevealWindow").unwrap(), "40").unwrap(), 40);
		let error = parse_value(parameter("ProtocolFee").unwrap(), "60").unwrap_err();
		assert_eq!(error.to_string(), "ProtocolFee must be between 0% and 50%, not 60%");
		let error = parse_value(parameter("RevealWindow").unwrap(), "1.5").unwrap_err();
		assert!(error.to_string().contains("a number of blocks"), "{error}");
		assert!(matches!(parameter("Nonsense"), Err(GovError::UnknownParameter(_))));
	}

	#[test]
	fn a_proposal_picks_the_track_of_its_parameter() {
		let market = proposal("MinWorkerStake", "5000").unwrap();
		assert_eq!(market.track, tracks::PARAMETERS);
		assert_eq!(describe_call(&market.call), "set MinWorkerStake to 5000 CMN");
		let root = proposal("VoteLockingPeriod", "20").unwrap();
		assert_eq!(root.track, tracks::ROOT);
		assert!(matches!(proposal("MinWorkerStake", "0.5"), Err(GovError::OutOfRange { .. })));
	}
}
