//! The governance commands of `commons`: `gov propose-param`, `vote`, `status`, `params`.

use commons_client::{
	amount::format_amount,
	chain::{api::runtime_types::pallet_referenda::types::ReferendumInfo, Client, CommonsConfig},
	governance::{self, GovError, Referendum},
};
use serde_json::json;
use subxt::tx::Signer;

use crate::commands::Failure;

impl From<GovError> for Failure {
	fn from(error: GovError) -> Self {
		match error {
			GovError::Chain(error) => error.into(),
			GovError::Dispatch { .. } => Self { code: 5, error: error.into() },
			refused => Self { code: 2, error: refused.into() },
		}
	}
}

/// `commons gov propose-param <name> <value>`, for a proposal already built and checked.
pub async fn propose(
	client: &Client,
	key: &impl Signer<CommonsConfig>,
	proposal: &governance::Proposal,
	json_out: bool,
) -> Result<(), Failure> {
	let proposed = governance::propose(client, key, proposal).await?;
	let tracks = governance::tracks(client).await?;
	let track = governance::track_name(&tracks, proposal.built.track);
	let what = proposal.describe();
	if json_out {
		println!(
			"{}",
			json!({
				"referendum": proposed.index,
				"track": track,
				"proposal": what,
				"parameter": proposal.parameter.name,
				"value": proposal.value.to_string(),
				"preimage": format!("{:?}", proposed.preimage),
				"deposits": proposed.deposits.to_string(),
				"fees": proposed.fees.to_string(),
				"block": proposed.block,
			})
		);
	} else {
		println!("referendum #{} on the {track} track: {what}", proposed.index);
		println!("preimage   {:?}", proposed.preimage);
		println!(
			"held       {} in deposits (returned when it ends)",
			format_amount(proposed.deposits)
		);
		println!("fees       {}", format_amount(proposed.fees));
		println!("vote with  commons gov vote {} aye --amount …", proposed.index);
	}
	Ok(())
}

/// `commons gov vote <index> aye|nay --conviction N --amount A`.
pub async fn vote(
	client: &Client,
	key: &impl Signer<CommonsConfig>,
	index: u32,
	aye: bool,
	conviction: u8,
	amount: u128,
	json_out: bool,
) -> Result<(), Failure> {
	let (fee, block) = governance::vote(client, key, index, aye, conviction, amount).await?;
	let side = if aye { "aye" } else { "nay" };
	if json_out {
		println!(
			"{}",
			json!({
				"referendum": index,
				"vote": side,
				"conviction": conviction,
				"amount": amount.to_string(),
				"block": block,
				"fee": fee.to_string(),
			})
		);
	} else {
		println!(
			"voted {side} on referendum #{index} with {} at conviction {conviction} in block #{block} \
			 (fee {})",
			format_amount(amount),
			format_amount(fee)
		);
	}
	Ok(())
}

fn referendum_json(
	index: u32,
	info: &Referendum,
	proposal: Option<String>,
	tracks: &[(u16, String)],
) -> serde_json::Value {
	let mut value = json!({
		"referendum": index,
		"state": governance::state_name(info),
		"proposal": proposal,
	});
	match info {
		ReferendumInfo::Ongoing(status) => {
			value["track"] = json!(governance::track_name(tracks, status.track));
			value["submitted"] = json!(status.submitted);
			value["decision_deposit"] = json!(status.decision_deposit.is_some());
			value["deciding_since"] = json!(status.deciding.as_ref().map(|d| d.since));
			value["confirming_until"] = json!(status.deciding.as_ref().and_then(|d| d.confirming));
			value["ayes"] = json!(status.tally.ayes.to_string());
			value["nays"] = json!(status.tally.nays.to_string());
			value["support"] = json!(status.tally.support.to_string());
		},
		ReferendumInfo::Approved(at, ..)
		| ReferendumInfo::Rejected(at, ..)
		| ReferendumInfo::Cancelled(at, ..)
		| ReferendumInfo::TimedOut(at, ..)
		| ReferendumInfo::Killed(at) => value["ended"] = json!(at),
	}
	value
}

/// `commons gov status [index]`: one referendum, or every one.
pub async fn status(client: &Client, index: Option<u32>, json_out: bool) -> Result<(), Failure> {
	let indices: Vec<u32> = match index {
		Some(index) => vec![index],
		None => (0..governance::referendum_count(client).await?).collect(),
	};
	let tracks = governance::tracks(client).await?;
	let parameters = governance::parameters(client, None).await?;
	let mut list = Vec::new();
	for index in indices {
		let Some(info) = governance::referendum(client, index).await? else {
			return Err(GovError::NoReferendum(index).into());
		};
		let proposal = governance::describe_proposal(client, &parameters, &info).await?;
		list.push(referendum_json(index, &info, proposal, &tracks));
	}
	if json_out {
		match (index, list.pop()) {
			(Some(_), Some(one)) => println!("{one}"),
			(_, last) => {
				list.extend(last);
				println!("{}", json!(list));
			},
		}
		return Ok(());
	}
	if list.is_empty() {
		println!("no referenda");
	}
	for value in &list {
		let text = |key: &str| value[key].as_str().unwrap_or("").to_string();
		let mut line = format!("#{:<4} {:<26}", value["referendum"], text("state"));
		if !value["track"].is_null() {
			line.push_str(&format!(" track {:<10}", text("track")));
		}
		if let Some(proposal) = value["proposal"].as_str() {
			line.push_str(&format!(" {proposal}"));
		}
		println!("{line}");
		if !value["ayes"].is_null() {
			let amount =
				|key: &str| text(key).parse::<u128>().map(format_amount).unwrap_or_default();
			println!(
				"      ayes {} nays {} support {}",
				amount("ayes"),
				amount("nays"),
				amount("support")
			);
		}
		if let Some(ended) = value["ended"].as_u64() {
			println!("      ended in block #{ended}");
		}
	}
	Ok(())
}

/// `commons gov params`: every protocol parameter with its value, default and range.
pub async fn params(client: &Client, json_out: bool) -> Result<(), Failure> {
	let values = governance::parameters(client, None).await?;
	let tracks = governance::tracks(client).await?;
	if json_out {
		let list: Vec<_> = values
			.iter()
			.map(|info| {
				json!({
					"name": info.name,
					"track": governance::track_name(&tracks, info.track),
					"unit": info.unit_word(),
					"current": info.current.to_string(),
					"default": info.default.to_string(),
					"low": info.low.to_string(),
					"high": info.high.to_string(),
				})
			})
			.collect();
		println!("{}", json!(list));
		return Ok(());
	}
	println!("{:<30} {:<34} {:<12} range", "parameter", "value", "track");
	for info in &values {
		let track = governance::track_name(&tracks, info.track);
		let mut shown = governance::format_value(&info.unit, info.current);
		if info.current != info.default {
			shown.push_str(" *");
		}
		println!(
			"{:<30} {:<34} {:<12} {} – {}",
			info.name,
			shown,
			track,
			governance::format_value(&info.unit, info.low),
			governance::format_value(&info.unit, info.high)
		);
	}
	println!("\n* set by governance (or genesis); the default applies otherwise");
	Ok(())
}
