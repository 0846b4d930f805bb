//! The governance commands of `commons`: `gov propose-param`, `vote`, `status`, `params`.

use std::time::Duration;

use commons_client::{
	amount::format_amount,
	governance::{self, GovError, Referendum},
	Keypair, Node,
};
use pallet_referenda::ReferendumInfo;
use serde_json::json;

use crate::commands::Failure;

impl From<GovError> for Failure {
	fn from(error: GovError) -> Self {
		match error {
			GovError::Node(error) => error.into(),
			GovError::Dispatch { .. } => Self { code: 5, error: error.into() },
			refused => Self { code: 2, error: refused.into() },
		}
	}
}

/// `commons gov propose-param <name> <value>`.
pub async fn propose(
	node: &Node,
	key: &Keypair,
	name: &str,
	value: &str,
	json_out: bool,
) -> Result<(), Failure> {
	let proposal = governance::proposal(name, value)?;
	let proposed = governance::propose(node, key, &proposal, Duration::from_secs(120)).await?;
	let what = governance::describe_call(&proposal.call);
	if json_out {
		println!(
			"{}",
			json!({
				"referendum": proposed.index,
				"track": governance::track_name(proposed.track),
				"proposal": what,
				"parameter": proposal.info.name,
				"value": proposal.value.to_string(),
				"preimage": format!("{:?}", proposed.preimage),
				"deposits": proposed.deposits.to_string(),
				"fees": proposed.fees.to_string(),
				"block": proposed.block,
			})
		);
	} else {
		println!(
			"referendum #{} on the {} track: {what}",
			proposed.index,
			governance::track_name(proposed.track)
		);
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
	node: &Node,
	key: &Keypair,
	index: u32,
	aye: bool,
	conviction: u8,
	amount: u128,
	json_out: bool,
) -> Result<(), Failure> {
	let inclusion =
		governance::vote(node, key, index, aye, conviction, amount, Duration::from_secs(120))
			.await?;
	let side = if aye { "aye" } else { "nay" };
	if json_out {
		println!(
			"{}",
			json!({
				"referendum": index,
				"vote": side,
				"conviction": conviction,
				"amount": amount.to_string(),
				"block": inclusion.block_number,
				"fee": inclusion.fee.to_string(),
			})
		);
	} else {
		println!(
			"voted {side} on referendum #{index} with {} at conviction {conviction} in block #{} \
			 (fee {})",
			format_amount(amount),
			inclusion.block_number,
			format_amount(inclusion.fee)
		);
	}
	Ok(())
}

fn referendum_json(index: u32, info: &Referendum, proposal: Option<String>) -> serde_json::Value {
	let mut value = json!({
		"referendum": index,
		"state": governance::state_name(info),
		"proposal": proposal,
	});
	match info {
		ReferendumInfo::Ongoing(status) => {
			value["track"] = json!(governance::track_name(status.track));
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
pub async fn status(node: &Node, index: Option<u32>, json_out: bool) -> Result<(), Failure> {
	let indices: Vec<u32> = match index {
		Some(index) => vec![index],
		None => (0..governance::referendum_count(node).await?).collect(),
	};
	let mut list = Vec::new();
	for index in indices {
		let Some(info) = governance::referendum(node, index).await? else {
			return Err(GovError::NoReferendum(index).into());
		};
		let proposal = governance::describe_proposal(node, &info).await?;
		list.push(referendum_json(index, &info, proposal));
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
pub async fn params(node: &Node, json_out: bool) -> Result<(), Failure> {
	let values = governance::parameter_values(node).await?;
	if json_out {
		let list: Vec<_> = values
			.iter()
			.map(|value| {
				let info = value.info;
				json!({
					"name": info.name,
					"track": governance::group_track(info.group),
					"unit": format!("{:?}", info.unit).to_lowercase(),
					"current": value.current.to_string(),
					"default": value.default.to_string(),
					"low": info.low.to_string(),
					"high": info.high.to_string(),
				})
			})
			.collect();
		println!("{}", json!(list));
		return Ok(());
	}
	println!("{:<30} {:<34} {:<12} range", "parameter", "value", "track");
	for value in &values {
		let info = value.info;
		let track = governance::group_track(info.group);
		let mut shown = governance::format_value(info, value.current);
		if value.current != value.default {
			shown.push_str(" *");
		}
		println!(
			"{:<30} {:<34} {:<12} {} – {}",
			info.name,
			shown,
			track,
			governance::format_value(info, info.low),
			governance::format_value(info, info.high)
		);
	}
	println!("\n* set by governance (or genesis); the default applies otherwise");
	Ok(())
}
