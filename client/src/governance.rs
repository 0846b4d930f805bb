//! Governance from the command line: propose a protocol parameter change, vote on referenda,
//! follow them, and read every parameter with its range.
//!
//! The parameter catalogue (names, units, ranges, defaults, tracks) and the call a proposal
//! enacts come from the chain itself, through the `ProtocolParameters` view functions, and the
//! tracks from the `Referenda::Tracks` constant: a runtime upgrade that adds a parameter or a
//! track needs no new client. Values are read and range-checked here, and the chain checks the
//! rules that tie parameters together, before anything is signed.

use commons_primitives::{
	currency::{TOKEN_DECIMALS, UNIT},
	MILLI_SECS_PER_BLOCK,
};
use subxt::{tx::Signer, utils::H256};

use crate::{
	amount::{format_amount, format_decimal, parse_decimal},
	chain::{
		self,
		api::{
			self,
			runtime_types::{
				commons_runtime::governance::parameters::{
					ParameterProposal, ProposalRefusal, Refusal, Unit,
				},
				frame_support::traits::{preimages::Bounded, schedule::DispatchTime},
				pallet_conviction_voting::vote::{AccountVote, Vote},
				pallet_referenda::types::ReferendumInfo,
			},
		},
		BlockHash, ChainError, Client, CommonsConfig,
	},
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
		name: String,
		/// What it takes.
		unit: &'static str,
		/// Why the text does not read.
		why: String,
	},
	/// The value is outside the parameter's range.
	#[error("{name} must be between {low} and {high}, not {value}")]
	OutOfRange {
		/// The parameter.
		name: String,
		/// The value asked for.
		value: String,
		/// Its least value.
		low: String,
		/// Its most value.
		high: String,
	},
	/// The chain would refuse the value for a rule that ties it to other parameters.
	#[error("{name} cannot be {value} now: {why}")]
	Inconsistent {
		/// The parameter.
		name: String,
		/// The value asked for.
		value: String,
		/// The rule it breaks.
		why: &'static str,
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
		call: String,
		/// The runtime's error, by name.
		error: String,
		/// What earlier steps did and that stays done.
		done: String,
	},
	/// The node could not be reached, or answered badly.
	#[error(transparent)]
	Chain(#[from] ChainError),
}

/// A protocol parameter as the chain describes it.
#[derive(Clone, Debug)]
pub struct Parameter {
	/// Its name, such as `MinWorkerStake`.
	pub name: String,
	/// The track that decides it.
	pub track: u16,
	/// How its value reads.
	pub unit: Unit,
	/// The least value it may take.
	pub low: u128,
	/// The most value it may take.
	pub high: u128,
	/// Its value while governance has set none.
	pub default: u128,
	/// The value in force.
	pub current: u128,
}

impl Parameter {
	/// Its unit as a word (`balance`, `blocks`, `share`, `count`).
	pub fn unit_word(&self) -> &'static str {
		match self.unit {
			Unit::Balance => "balance",
			Unit::Blocks => "blocks",
			Unit::Share => "share",
			Unit::Count => "count",
		}
	}
}

/// How a unit is written, for errors.
fn unit_name(unit: &Unit) -> &'static str {
	match unit {
		Unit::Balance => "an amount of CMN (`5000`, `0.5`)",
		Unit::Blocks => "a number of blocks",
		Unit::Share => "a percentage (`10`, `12.5%`)",
		Unit::Count => "a whole number",
	}
}

/// Decimals a share is written with: Perbill's billion parts are 10^7 per percent.
const SHARE_DECIMALS: u32 = 7;

/// A value of `unit` as people write it.
pub fn format_value(unit: &Unit, number: u128) -> String {
	match unit {
		Unit::Balance => format_amount(number),
		Unit::Blocks => {
			let seconds = number.saturating_mul(u128::from(MILLI_SECS_PER_BLOCK)) / 1000;
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

/// Every protocol parameter at the latest block (or at block `at`).
pub async fn parameters(
	client: &Client,
	at: Option<BlockHash>,
) -> Result<Vec<Parameter>, ChainError> {
	let states = chain::view(client, at, api::view_functions().protocol_parameters().parameters())
		.await
		.map_err(ChainError::other("reading the protocol parameters"))?;
	Ok(states
		.into_iter()
		.map(|state| Parameter {
			name: String::from_utf8_lossy(&state.name).into_owned(),
			track: state.track,
			unit: state.unit,
			low: state.low,
			high: state.high,
			default: state.default,
			current: state.current,
		})
		.collect())
}

/// Parameter `name` (case-insensitive) among `parameters`.
pub fn find<'a>(parameters: &'a [Parameter], name: &str) -> Result<&'a Parameter, GovError> {
	parameters
		.iter()
		.find(|info| info.name.eq_ignore_ascii_case(name.trim()))
		.ok_or_else(|| GovError::UnknownParameter(name.to_string()))
}

/// The value of parameter `name` in force at the latest block.
pub async fn parameter_value(client: &Client, name: &str) -> Result<u128, GovError> {
	Ok(find(&parameters(client, None).await?, name)?.current)
}

/// Reads `text` as a value of `info`'s unit and checks it against its range.
pub fn parse_value(info: &Parameter, text: &str) -> Result<u128, GovError> {
	let bad = |why: String| GovError::BadValue {
		name: info.name.clone(),
		unit: unit_name(&info.unit),
		why,
	};
	let text = text.trim();
	let number = match info.unit {
		Unit::Balance => parse_decimal(text, u32::from(TOKEN_DECIMALS)).map_err(bad)?,
		Unit::Share => parse_decimal(text.trim_end_matches('%'), SHARE_DECIMALS).map_err(bad)?,
		Unit::Blocks | Unit::Count => parse_decimal(text, 0).map_err(bad)?,
	};
	if number < info.low || number > info.high {
		return Err(GovError::OutOfRange {
			name: info.name.clone(),
			value: format_value(&info.unit, number),
			low: format_value(&info.unit, info.low),
			high: format_value(&info.unit, info.high),
		});
	}
	Ok(number)
}

/// What a referendum for a parameter change proposes, built and checked by the chain.
pub struct Proposal {
	/// The parameter.
	pub parameter: Parameter,
	/// Its new value.
	pub value: u128,
	/// The preimage, origin, track and deposits.
	pub built: ParameterProposal,
}

impl Proposal {
	/// The change in words: `set MinWorkerStake to 5000 CMN`.
	pub fn describe(&self) -> String {
		format!("set {} to {}", self.parameter.name, format_value(&self.parameter.unit, self.value))
	}
}

/// The proposal that sets parameter `name` to `text`: the value is read and range-checked here,
/// the call built and checked against the other parameters by the chain.
pub async fn proposal(client: &Client, name: &str, text: &str) -> Result<Proposal, GovError> {
	let parameter = find(&parameters(client, None).await?, name)?.clone();
	let value = parse_value(&parameter, text)?;
	let view = api::view_functions()
		.protocol_parameters()
		.proposal(parameter.name.as_bytes().to_vec(), Some(value));
	let built = chain::view(client, None, view)
		.await
		.map_err(ChainError::other("building the proposal"))?;
	let refused = |why: &'static str| GovError::Inconsistent {
		name: parameter.name.clone(),
		value: format_value(&parameter.unit, value),
		why,
	};
	let built = match built {
		Ok(built) => built,
		Err(ProposalRefusal::UnknownParameter) => {
			return Err(GovError::UnknownParameter(name.to_string()))
		},
		Err(ProposalRefusal::DoesNotFit) => return Err(refused("it does not fit the type")),
		Err(ProposalRefusal::Refused(refusal)) => {
			return Err(refused(match refusal {
				Refusal::OutOfRange => "it is outside the range",
				Refusal::ReplicasInverted => "MinReplicas would exceed MaxReplicas",
				Refusal::WindowsTooShort => {
					"the longest commit window would leave less than a minute of computing \
					 beyond the commit margin"
				},
				Refusal::SlashesInverted => "NoShowSlash would exceed WrongResultSlash",
				Refusal::RetentionExceedsStore => {
					"jobs would live and be kept longer than the job store holds them"
				},
				Refusal::DepositAboveSupply => {
					"the decision deposit would be more than a tenth of the total issuance"
				},
			}))
		},
	};
	Ok(Proposal { parameter, value, built })
}

/// The chain's referendum tracks, by id and name.
pub async fn tracks(client: &Client) -> Result<Vec<(u16, String)>, ChainError> {
	let tracks = client
		.constants()
		.at(&api::constants().referenda().tracks())
		.map_err(ChainError::other("reading the referendum tracks"))?;
	Ok(tracks
		.into_iter()
		.map(|(id, info)| {
			let name = info.name.trim_end_matches('\0').to_string();
			(id, name)
		})
		.collect())
}

/// A track's name among `tracks` (its number when the chain has no such track).
pub fn track_name(tracks: &[(u16, String)], track: u16) -> String {
	tracks
		.iter()
		.find(|(id, _)| *id == track)
		.map_or_else(|| track.to_string(), |(_, name)| name.clone())
}

/// A track's id by name (`root`, `parameters`).
pub fn track_id(tracks: &[(u16, String)], name: &str) -> Option<u16> {
	tracks.iter().find(|(_, track)| track == name).map(|(id, _)| *id)
}

/// What `propose` did.
pub struct Proposed {
	/// The referendum's index.
	pub index: u32,
	/// The preimage's hash.
	pub preimage: H256,
	/// Held: preimage deposit, submission deposit, decision deposit.
	pub deposits: u128,
	/// Transaction fees paid.
	pub fees: u128,
	/// The block the decision deposit was placed in.
	pub block: u32,
}

/// Notes the proposal's preimage, submits the referendum on its track and places the decision
/// deposit. Checks the proposer can pay for all three before signing the first.
pub async fn propose(
	client: &Client,
	key: &impl Signer<CommonsConfig>,
	proposal: &Proposal,
) -> Result<Proposed, GovError> {
	let built = &proposal.built;
	let hash = H256(sp_crypto_hashing::blake2_256(&built.call));
	let len = u32::try_from(built.call.len()).unwrap_or(u32::MAX);
	let deposits = built
		.preimage_deposit
		.saturating_add(built.submission_deposit)
		.saturating_add(built.decision_deposit);
	let spendable = crate::wallet::balances(client, &key.account_id()).await?.spendable();
	// Three transactions' fees are far below one CMN.
	let needed = deposits.saturating_add(UNIT);
	if spendable < needed {
		return Err(GovError::NotEnoughBalance {
			needed: format_amount(needed),
			what: format!(
				"deposits: preimage {}, submission {}, decision {}; and fees",
				format_amount(built.preimage_deposit),
				format_amount(built.submission_deposit),
				format_amount(built.decision_deposit)
			),
			free: format_amount(spendable),
		});
	}

	let step = |call: &'static str, done: &str| {
		let done = done.to_string();
		move |error: ChainError| match error {
			ChainError::Dispatch { error, .. } => {
				GovError::Dispatch { call: call.to_string(), error, done }
			},
			other => GovError::Chain(other),
		}
	};
	let mut fees = 0u128;
	let mut done = String::new();
	// A preimage somebody noted already holds no deposit and needs no second note.
	if built.preimage_deposit > 0 {
		let note = api::tx().preimage().note_preimage(built.call.clone());
		let included = chain::submit(client, key, &note)
			.await
			.map_err(step("Preimage.note_preimage", &done))?;
		fees = fees.saturating_add(included.fee_paid().unwrap_or_default());
		done = format!("; the preimage {hash:?} stays noted");
	}
	let submit = api::tx().referenda().submit(
		built.origin.clone(),
		Bounded::Lookup { hash, len },
		DispatchTime::After(1),
	);
	let included =
		chain::submit(client, key, &submit).await.map_err(step("Referenda.submit", &done))?;
	fees = fees.saturating_add(included.fee_paid().unwrap_or_default());
	let index = included
		.events
		.find_first::<api::referenda::events::Submitted>()
		.ok()
		.flatten()
		.map(|submitted| submitted.index)
		.ok_or_else(|| GovError::Dispatch {
			call: "Referenda.submit".into(),
			error: "no Submitted event".into(),
			done: done.clone(),
		})?;
	done = format!(
		"; referendum #{index} is submitted and needs its decision deposit: \
		 `Referenda.place_decision_deposit({index})`"
	);
	let place = api::tx().referenda().place_decision_deposit(index);
	let included = chain::submit(client, key, &place)
		.await
		.map_err(step("Referenda.place_decision_deposit", &done))?;
	fees = fees.saturating_add(included.fee_paid().unwrap_or_default());
	let block = included.block_number(client).await?;
	Ok(Proposed { index, preimage: hash, deposits, fees, block })
}

/// A referendum as stored.
pub type Referendum = api::referenda::storage::types::referendum_info_for::ReferendumInfoFor;

/// Referendum `index`, if it exists.
pub async fn referendum(client: &Client, index: u32) -> Result<Option<Referendum>, ChainError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	at.fetch(&api::storage().referenda().referendum_info_for(index))
		.await
		.map_err(ChainError::other("reading a referendum"))
}

/// How many referenda were ever submitted.
pub async fn referendum_count(client: &Client) -> Result<u32, ChainError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	at.fetch_or_default(&api::storage().referenda().referendum_count())
		.await
		.map_err(ChainError::other("reading the referendum count"))
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
/// that the referendum is ongoing and the voter holds the amount; returns the fee and block.
pub async fn vote(
	client: &Client,
	key: &impl Signer<CommonsConfig>,
	index: u32,
	aye: bool,
	conviction: u8,
	amount: u128,
) -> Result<(u128, u32), GovError> {
	if conviction > 6 {
		return Err(GovError::Conviction(conviction));
	}
	match referendum(client, index).await? {
		None => return Err(GovError::NoReferendum(index)),
		Some(ReferendumInfo::Ongoing(_)) => {},
		Some(other) => return Err(GovError::NotOngoing { index, state: state_name(&other) }),
	}
	let balances = crate::wallet::balances(client, &key.account_id()).await?;
	// A vote locks (not spends) the amount; it may overlap other locks but not exceed the total.
	let total = balances.free.saturating_add(balances.held);
	if amount > total || amount == 0 {
		return Err(GovError::NotEnoughBalance {
			needed: format_amount(amount),
			what: "the vote's amount, which must be more than zero".into(),
			free: format_amount(balances.free),
		});
	}
	// A vote is one byte: the conviction, with the top bit set for aye.
	let vote = Vote(conviction | if aye { 0x80 } else { 0 });
	let call =
		api::tx().conviction_voting().vote(index, AccountVote::Standard { vote, balance: amount });
	let included = chain::submit(client, key, &call).await.map_err(|error| match error {
		ChainError::Dispatch { call, error } => {
			GovError::Dispatch { call, error, done: String::new() }
		},
		other => GovError::Chain(other),
	})?;
	Ok((included.fee_paid().unwrap_or_default(), included.block_number(client).await?))
}

/// What a referendum proposes, in words, where its preimage is on chain: a parameter change by
/// name and value, any other call by its decoded form.
pub async fn describe_proposal(
	client: &Client,
	parameters: &[Parameter],
	info: &Referendum,
) -> Result<Option<String>, ChainError> {
	let ReferendumInfo::Ongoing(status) = info else { return Ok(None) };
	let bytes = match &status.proposal {
		Bounded::Inline(bytes) => bytes.0.clone(),
		Bounded::Lookup { hash, len } => {
			let at = client
				.storage()
				.at_latest()
				.await
				.map_err(ChainError::other("reading the chain"))?;
			let stored = at
				.fetch(&api::storage().preimage().preimage_for((*hash, *len)))
				.await
				.map_err(ChainError::other("reading a preimage"))?;
			match stored {
				Some(bytes) => bytes.0,
				None => return Ok(None),
			}
		},
		_ => return Ok(None),
	};
	let change = chain::view(
		client,
		None,
		api::view_functions().protocol_parameters().change(bytes.clone()),
	)
	.await
	.map_err(ChainError::other("reading a proposal"))?;
	if let Some((name, value)) = change {
		let name = String::from_utf8_lossy(&name).into_owned();
		let unit = parameters.iter().find(|info| info.name == name).map(|info| &info.unit);
		return Ok(Some(match (value, unit) {
			(Some(value), Some(unit)) => format!("set {name} to {}", format_value(unit, value)),
			(Some(value), None) => format!("set {name} to {value}"),
			(None, _) => format!("restore {name} to its default"),
		}));
	}
	// Any other call by the names the metadata gives its first two bytes.
	let metadata = client.metadata();
	let pallet = bytes.first().and_then(|index| metadata.pallet_by_index(*index));
	let call = pallet.zip(bytes.get(1)).and_then(|(pallet, index)| {
		pallet.call_variant_by_index(*index).map(|call| format!("{}.{}", pallet.name(), call.name))
	});
	Ok(Some(match call {
		Some(call) => format!("{call} ({} bytes)", bytes.len()),
		None => format!("a call of {} bytes", bytes.len()),
	}))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn parameter(name: &str, unit: Unit, low: u128, high: u128) -> Parameter {
		Parameter { name: name.into(), track: 1, unit, low, high, default: low, current: low }
	}

	#[test]
	fn values_read_in_their_units_and_ranges() {
		let stake = parameter("MinWorkerStake", Unit::Balance, UNIT, 1_000_000 * UNIT);
		let fee = parameter("ProtocolFee", Unit::Share, 0, 500_000_000);
		let window = parameter("RevealWindow", Unit::Blocks, 6, 900);
		assert_eq!(parse_value(&stake, "5000").unwrap(), 5_000 * UNIT);
		assert_eq!(parse_value(&stake, "1.5").unwrap(), UNIT * 3 / 2);
		assert_eq!(parse_value(&fee, "12.5%").unwrap(), 125_000_000);
		assert_eq!(parse_value(&window, "40").unwrap(), 40);
		let error = parse_value(&fee, "60").unwrap_err();
		assert_eq!(error.to_string(), "ProtocolFee must be between 0% and 50%, not 60%");
		let error = parse_value(&window, "1.5").unwrap_err();
		assert!(error.to_string().contains("a number of blocks"), "{error}");
		let list = [stake, fee, window];
		assert_eq!(find(&list, "minworkerstake").unwrap().name, "MinWorkerStake");
		assert!(matches!(find(&list, "Nonsense"), Err(GovError::UnknownParameter(_))));
	}

	#[test]
	fn blocks_read_as_durations() {
		assert_eq!(format_value(&Unit::Blocks, 1800), "1800 blocks (1 h)");
		assert_eq!(format_value(&Unit::Blocks, 1), "1 block (2 s)");
	}
}
