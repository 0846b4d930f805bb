//! Governance through the `commons` CLI on a real `commons-node --dev` (fast periods): a
//! referendum raises the minimum worker stake, holders vote, the chain enacts it, and a worker
//! registering under the new minimum is refused with the runtime's error.

mod common;

use std::time::{Duration, Instant};

use common::market::{
	amount, free, generate_key, json, one_at_a_time, run, start_node, temp_dir, text,
};
use commons_runtime::currency::UNIT;

fn gov(url: &str, args: &[&str]) -> std::process::Output {
	let mut all = vec!["--json", "gov"];
	all.extend_from_slice(args);
	run("commons", url, &all)
}

/// `commons gov params --json`: the current value of `name`.
fn param(url: &str, name: &str) -> u128 {
	let params = json(&gov(url, &["params"]));
	let entry = params.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
	amount(&entry["current"])
}

fn refused(output: &std::process::Output, code: i32, needle: &str) {
	assert_eq!(output.status.code(), Some(code), "{}", text(output));
	let printed = String::from_utf8_lossy(&output.stdout);
	assert!(printed.contains(needle), "{needle:?} in {}", text(output));
}

#[test]
fn token_holders_raise_the_minimum_stake_and_the_chain_enforces_it() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();

	// Every parameter is listed with its value and range.
	let params = json(&gov(url, &["params"]));
	let every = commons_runtime::governance::parameters::PARAMETERS.len();
	assert_eq!(params.as_array().unwrap().len(), every, "{params}");
	let stake = params.as_array().unwrap().iter().find(|p| p["name"] == "MinWorkerStake").unwrap();
	assert_eq!(amount(&stake["current"]), 100 * UNIT, "{stake}");
	assert_eq!(stake["track"], "parameters");
	assert_eq!(amount(&stake["low"]), UNIT);
	assert_eq!(json(&gov(url, &["status"])), serde_json::json!([]));

	// Bad proposals and votes are refused before anything is signed: nothing moves.
	let before = free(url, "//Alice");
	refused(
		&gov(url, &["propose-param", "NoSuchThing", "1", "--key", "//Alice"]),
		2,
		"unknown parameter",
	);
	refused(
		&gov(url, &["propose-param", "MinWorkerStake", "2000000", "--key", "//Alice"]),
		2,
		"must be between 1 CMN and 1000000 CMN",
	);
	refused(
		&gov(url, &["propose-param", "RevealWindow", "ten", "--key", "//Alice"]),
		2,
		"a number of blocks",
	);
	// In range, but against a rule that ties it to another parameter: the chain's own check,
	// asked through its view function, refuses it before anything is signed.
	refused(
		&gov(url, &["propose-param", "MinReplicas", "6", "--key", "//Alice"]),
		2,
		"MinReplicas would exceed MaxReplicas",
	);
	refused(
		&gov(url, &["propose-param", "MinWorkerStake", "5000", "--key", "//CommonsPenniless"]),
		2,
		"not enough balance",
	);
	refused(
		&gov(url, &["vote", "0", "aye", "--amount", "10", "--key", "//Bob"]),
		2,
		"no referendum #0",
	);
	assert_eq!(free(url, "//Alice"), before, "no refusal cost anything");

	// Propose: preimage, referendum on the parameters track, decision deposit.
	let proposed =
		json(&gov(url, &["propose-param", "MinWorkerStake", "5000", "--key", "//Alice"]));
	assert_eq!(proposed["track"], "parameters", "{proposed}");
	assert_eq!(proposed["proposal"], "set MinWorkerStake to 5000 CMN", "{proposed}");
	let index = proposed["referendum"].as_u64().unwrap().to_string();
	let status = json(&gov(url, &["status", &index]));
	assert_eq!(status["decision_deposit"], true, "{status}");
	assert_eq!(status["proposal"], "set MinWorkerStake to 5000 CMN");

	// Several holders vote; a conviction out of range is refused by name.
	refused(
		&gov(
			url,
			&["vote", &index, "aye", "--conviction", "7", "--amount", "10", "--key", "//Bob"],
		),
		2,
		"conviction must be 0 to 6",
	);
	for (key, conviction, amount) in
		[("//Alice", "3", "600000"), ("//Bob", "1", "300000"), ("//Charlie", "0", "200000")]
	{
		let voted = json(&gov(
			url,
			&["vote", &index, "aye", "--conviction", conviction, "--amount", amount, "--key", key],
		));
		assert_eq!(voted["vote"], "aye", "{voted}");
	}
	json(&gov(
		url,
		&["vote", &index, "nay", "--conviction", "2", "--amount", "100000", "--key", "//Dave"],
	));
	// Getting money back is checked before signing too: nothing to remove, unlock or refund
	// yet, and an account that votes on a track cannot also delegate there.
	let before = free(url, "//Eve");
	refused(&gov(url, &["refund-deposits", &index, "--key", "//Eve"]), 2, "still ongoing");
	refused(&gov(url, &["remove-vote", &index, "--key", "//Eve"]), 2, "no vote on referendum");
	refused(&gov(url, &["unlock", "--key", "//Eve"]), 2, "no voting locks");
	refused(
		&gov(url, &["undelegate", "--track", "root", "--key", "//Eve"]),
		2,
		"does not delegate",
	);
	#[rustfmt::skip]
	refused(&gov(url, &[
		"delegate", "--track", "parameters", "--to", "//Eve", "--amount", "10", "--key", "//Bob",
	]), 2, "already votes on track parameters");
	#[rustfmt::skip]
	refused(&gov(url, &[
		"delegate", "--track", "sideways", "--to", "//Eve", "--amount", "10", "--key", "//Bob",
	]), 2, "unknown track");
	assert_eq!(free(url, "//Eve"), before, "no refusal cost anything");
	let status = json(&gov(url, &["status", &index]));
	assert_eq!(amount(&status["support"]), 1_100_000 * UNIT, "{status}");
	assert!(amount(&status["ayes"]) > amount(&status["nays"]), "{status}");
	assert_eq!(param(url, "MinWorkerStake"), 100 * UNIT, "nothing changes before enactment");

	// Wait for approval and enactment.
	let deadline = Instant::now() + Duration::from_secs(240);
	loop {
		let status = json(&gov(url, &["status", &index]));
		if status["state"] == "approved" && param(url, "MinWorkerStake") == 5_000 * UNIT {
			break;
		}
		assert!(
			!["rejected", "timed out", "cancelled", "killed"]
				.contains(&status["state"].as_str().unwrap()),
			"{status}"
		);
		assert!(Instant::now() < deadline, "not enacted in time: {status}\n{}", node.output());
		std::thread::sleep(Duration::from_secs(2));
	}
	refused(
		&gov(url, &["vote", &index, "aye", "--amount", "10", "--key", "//Eve"]),
		2,
		"is approved and takes no votes",
	);

	// The money comes back: anyone refunds the deposits to the proposer; a voter without
	// conviction removes its vote and unlocks its whole balance; delegation comes and goes.
	let proposer = free(url, "//Alice");
	let refunded = json(&gov(url, &["refund-deposits", &index, "--key", "//Dave"]));
	assert_eq!(refunded["refunded"].as_array().unwrap().len(), 2, "{refunded}");
	assert!(free(url, "//Alice") > proposer, "the deposits went back to the proposer");
	refused(&gov(url, &["refund-deposits", &index, "--key", "//Dave"]), 2, "holds no deposit");
	json(&gov(url, &["remove-vote", &index, "--key", "//Charlie"]));
	let unlocked = json(&gov(url, &["unlock", "--key", "//Charlie"]));
	assert_eq!(amount(&unlocked["frozen_before"]), 200_000 * UNIT, "{unlocked}");
	assert_eq!(amount(&unlocked["frozen_after"]), 0, "{unlocked}");
	#[rustfmt::skip]
	json(&gov(url, &[
		"delegate", "--track", "root", "--to", "//Alice", "--amount", "10", "--key", "//Charlie",
	]));
	json(&gov(url, &["undelegate", "--track", "root", "--key", "//Charlie"]));

	// A worker registering under the new minimum is refused before signing: the worker reads
	// the enacted value.
	let dir = temp_dir("governance");
	let key = dir.join("worker.key");
	let key_arg = key.to_str().unwrap();
	let address = generate_key(url, &key);
	json(&run(
		"commons",
		url,
		&["--json", "transfer", "--key", "//Alice", "--to", &address, "--amount", "6000"],
	));
	let register = |stake: &str| {
		run(
			"commons-worker",
			url,
			&["register", "--key", key_arg, "--stake", stake, "--price", "1", "--model", "0"],
		)
	};
	let before = free(url, &address);
	let low = register("1000");
	assert_eq!(low.status.code(), Some(2), "{}", text(&low));
	assert!(
		String::from_utf8_lossy(&low.stderr).contains("a worker needs at least 5000 CMN"),
		"{}",
		text(&low)
	);
	assert_eq!(free(url, &address), before, "a refused registration paid a fee");
	let enough = register("5000");
	assert!(enough.status.success(), "{}", text(&enough));
}
