//! Cheating, crashing and vanishing, with real processes: a `commons-node --dev`, honest
//! `commons-worker` daemons, `commons-worker-faulty` daemons that cheat on purpose (built with the
//! `fault-injection` feature), the real SmolLM2 model and the `commons` CLI as the requester.

mod common;

use std::{collections::HashSet, time::Duration};

use common::market::{
	amount, free, infer_paris, json, logs, one_at_a_time, run, start_node, temp_dir, wait_for_node,
	worker_entries, WorkerProcess,
};
use commons_runtime::currency::UNIT;

/// Each test worker bonds 1,000 CMN; the development chain slashes 10 % for a wrong result and
/// 5 % for a no-show.
const BONDED: u128 = 1_000 * UNIT;
const WRONG_RESULT_SLASH: u128 = BONDED / 10;
const NO_SHOW_SLASH: u128 = BONDED / 20;

/// The accepted receipt of a finished `commons infer --json`, or a panic with every log.
fn accepted(output: &std::process::Output, workers: &[&WorkerProcess]) -> serde_json::Value {
	if !output.status.success() {
		panic!("{}\nworkers:\n{}", common::market::text(output), logs(workers));
	}
	let receipt = json(output);
	assert_eq!(receipt["outcome"], "accepted", "{receipt}");
	assert!(receipt["text"].as_str().unwrap_or_default().contains("Paris"), "{receipt}");
	receipt
}

fn addresses(value: &serde_json::Value) -> HashSet<String> {
	value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// The receipt's slashes as (worker, amount, reason).
fn slashes(receipt: &serde_json::Value) -> Vec<(String, u128, String)> {
	let mut list: Vec<_> = receipt["slashes"]
		.as_array()
		.unwrap()
		.iter()
		.map(|slash| {
			(
				slash["worker"].as_str().unwrap().to_string(),
				amount(&slash["amount"]),
				slash["reason"].as_str().unwrap().to_string(),
			)
		})
		.collect();
	list.sort();
	list
}

/// A wrong result is slashed to the treasury: the requester pays the two agreeing seats and
/// gets the rest of its escrow back, and nothing more (it gains nothing from the cheat).
#[test]
fn a_wrong_result_is_slashed_to_the_treasury_and_the_requester_pays_as_the_receipt_says() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("wrong");
	let honest = [
		WorkerProcess::start(url, &dir, "honest-a", "cpu"),
		WorkerProcess::start(url, &dir, "honest-b", "cpu"),
	];
	let cheater = WorkerProcess::start_faulty(url, &dir, "cheater", "wrong-output");
	let all = [&honest[0], &honest[1], &cheater];
	let before = worker_entries(url);
	assert_eq!(amount(&before[&cheater.address]["bonded"]), BONDED);
	let requester_before = free(url, "//Alice");
	let treasury_before = treasury(url);

	let receipt = accepted(&infer_paris(url, "3"), &all);
	let expected: HashSet<String> = honest.iter().map(|w| w.address.clone()).collect();
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}");
	assert_eq!(
		slashes(&receipt),
		vec![(cheater.address.clone(), WRONG_RESULT_SLASH, "WrongResult".to_string())],
		"{receipt}"
	);
	assert!(cheater.output().contains("committing a wrong output"), "{}", cheater.output());

	// The chain's figures equal the receipt's.
	let after = worker_entries(url);
	let cheater_after = &after[&cheater.address];
	assert_eq!(amount(&cheater_after["bonded"]), BONDED - WRONG_RESULT_SLASH, "{cheater_after}");
	assert_eq!(cheater_after["wrong"], 1, "{cheater_after}");
	assert_eq!(cheater_after["accepted"], 0, "{cheater_after}");
	for worker in &honest {
		assert_eq!(after[&worker.address]["accepted"], 1, "{}", after[&worker.address]);
		assert_eq!(amount(&after[&worker.address]["bonded"]), BONDED);
	}
	let (escrow, paid, fee, refunded) = (
		amount(&receipt["escrow"]),
		amount(&receipt["paid"]),
		amount(&receipt["fee"]),
		amount(&receipt["refunded"]),
	);
	assert_eq!(paid, 2 * UNIT, "the two honest workers are paid their price: {receipt}");
	assert_eq!(escrow, paid + fee + refunded, "{receipt}");
	let (deposit, tx_fee) = (amount(&receipt["deposit_held"]), amount(&receipt["transaction_fee"]));
	let requester_after = free(url, "//Alice");
	assert_eq!(
		requester_before + refunded,
		requester_after + escrow + deposit + tx_fee,
		"the requester's balance moved as the receipt says: {receipt}"
	);
	assert_eq!(
		treasury(url),
		treasury_before + fee + WRONG_RESULT_SLASH,
		"the treasury got the protocol fee and the whole slash: {receipt}"
	);

	// `commons job show` tells the same story later.
	let job = receipt["job"].as_u64().unwrap().to_string();
	let shown = json(&run("commons", url, &["--json", "job", "show", &job]));
	assert_eq!(shown["status"], "accepted", "{shown}");
	assert_eq!(slashes(&shown), slashes(&receipt), "{shown}");
	assert_eq!(shown["paid"], receipt["paid"], "{shown}");
	let text = run("commons", url, &["job", "show", &job]);
	let text = String::from_utf8_lossy(&text.stdout);
	assert!(text.contains(&format!("slashed    {}", cheater.address)), "{text}");
	assert!(!text.contains("compensated"), "{text}");

	// The same workers serve audited jobs at a rate of every job: one worker runs each and an
	// auditor checks it. Whichever seat the cheater gets, its cheat is caught and slashed, no
	// honest worker is, and the requester's funds move as each receipt says.
	// The cheater bonds a hundred times the honest workers' stake, so that the draws seat it in
	// every audited job, as the worker or as the auditor (otherwise with odds below 1 in 5,000).
	let cheater_key = dir.join("cheater.key");
	#[rustfmt::skip]
	json(&run("commons", url, &[
		"--json", "transfer", "--key", "//Alice", "--to", &cheater.address, "--amount", "100000",
	]));
	let bonded = run(
		"commons-worker",
		url,
		&["bond-extra", "--key", cheater_key.to_str().unwrap(), "--amount", "99000"],
	);
	assert!(bonded.status.success(), "{}", common::market::text(&bonded));
	let models = common::market::models_dir();
	let models = models.to_str().unwrap();
	for round in 0..2 {
		let bonded_before = amount(&worker_entries(url)[&cheater.address]["bonded"]);
		let (requester_before, treasury_before) = (free(url, "//Alice"), treasury(url));
		#[rustfmt::skip]
		let output = run("commons", url, &[
			"--json", "infer", "--key", "//Alice", "--model", "0", "--prompt",
			"What is the capital of France?", "--max-tokens", "16", "--audit-rate", "100%",
			"--price", "1", "--models-dir", models, "--timeout", "240",
		]);
		let receipt = accepted(&output, &all);
		let verification = &receipt["verification"];
		assert_eq!(verification["level"], "audited", "{receipt}");
		assert_eq!(verification["rate"], 1_000_000, "{receipt}");
		assert_eq!(verification["audited"], true, "{receipt}");
		let job = receipt["job"].as_u64().unwrap().to_string();
		let shown = json(&run("commons", url, &["--json", "job", "show", &job]));
		let seated: HashSet<String> = shown["seats"]
			.as_array()
			.unwrap()
			.iter()
			.map(|seat| seat["worker"].as_str().unwrap().to_string())
			.collect();
		assert!(seated.contains(verification["auditor"].as_str().unwrap()), "{shown}");
		assert!(seated.contains(&cheater.address), "round {round}: {shown}");
		let slashed =
			vec![(cheater.address.clone(), bonded_before / 10, "WrongResult".to_string())];
		assert_eq!(slashes(&receipt), slashed, "round {round}: {receipt}");
		assert!(!addresses(&receipt["agreeing_workers"]).contains(&cheater.address));
		let after = worker_entries(url);
		for worker in &honest {
			assert_eq!(amount(&after[&worker.address]["bonded"]), BONDED, "round {round}");
		}
		let (escrow, paid, fee, refunded) = (
			amount(&receipt["escrow"]),
			amount(&receipt["paid"]),
			amount(&receipt["fee"]),
			amount(&receipt["refunded"]),
		);
		// Two agreeing runs are paid: the worker and its auditor, or the honest two of a split.
		assert_eq!(paid, 2 * UNIT, "{receipt}");
		assert_eq!(escrow, paid + fee + refunded, "{receipt}");
		let (deposit, tx_fee) =
			(amount(&receipt["deposit_held"]), amount(&receipt["transaction_fee"]));
		assert_eq!(
			requester_before + refunded,
			free(url, "//Alice") + escrow + deposit + tx_fee,
			"round {round}: {receipt}"
		);
		let slash_total: u128 = slashed.iter().map(|(_, amount, _)| amount).sum();
		assert_eq!(treasury(url), treasury_before + fee + slash_total, "round {round}: {receipt}");
	}
}

/// The treasury's free balance.
fn treasury(url: &str) -> u128 {
	free(url, &commons_client::keys::to_ss58(&commons_runtime::configs::TreasuryAccount::get()))
}

#[test]
fn copied_commitments_and_withheld_reveals_are_slashed_as_no_shows() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("lazy");
	let honest = [
		WorkerProcess::start(url, &dir, "honest-a", "cpu"),
		WorkerProcess::start(url, &dir, "honest-b", "cpu"),
		WorkerProcess::start(url, &dir, "honest-c", "cpu"),
	];
	let copier = WorkerProcess::start_faulty(url, &dir, "copier", "copy-commitment");
	let silent = WorkerProcess::start_faulty(url, &dir, "silent", "never-reveal");
	let all = [&honest[0], &honest[1], &honest[2], &copier, &silent];

	let receipt = accepted(&infer_paris(url, "5"), &all);
	let expected: HashSet<String> = honest.iter().map(|w| w.address.clone()).collect();
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}");
	let mut expected_slashes = vec![
		(copier.address.clone(), NO_SHOW_SLASH, "NoShow".to_string()),
		(silent.address.clone(), NO_SHOW_SLASH, "NoShow".to_string()),
	];
	expected_slashes.sort();
	assert_eq!(slashes(&receipt), expected_slashes, "{receipt}\n{}", logs(&all));
	assert!(copier.output().contains("committed a copy"), "{}", copier.output());
	assert!(silent.output().contains("committed to"), "{}", silent.output());
	assert!(!silent.output().contains("revealed"), "{}", silent.output());
	let after = worker_entries(url);
	for cheat in [&copier, &silent] {
		assert_eq!(after[&cheat.address]["no_show"], 1, "{}", after[&cheat.address]);
		assert_eq!(amount(&after[&cheat.address]["bonded"]), BONDED - NO_SHOW_SLASH);
	}
}

#[test]
fn workers_restarted_after_committing_reveal_with_their_database_or_without_it() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str().to_string();
	let dir = temp_dir("crash");
	let mut restarted = WorkerProcess::start(&url, &dir, "restarted", "cpu");
	let mut lost = WorkerProcess::start(&url, &dir, "lost", "cpu");
	// Seated, but started only once the other two have committed and been killed: reveals
	// open when every seat has committed, so neither can reveal before it dies.
	let mut steady = WorkerProcess::registered(&url, &dir, "steady", "cpu");

	let requester = {
		let url = url.clone();
		std::thread::spawn(move || infer_paris(&url, "3"))
	};
	let minute = Duration::from_secs(90);
	restarted.wait_for("committed to", 1, minute);
	restarted.kill();
	lost.wait_for("committed to", 1, minute);
	lost.kill();
	// The disk that held this one's database is gone: its salt is derived from its key, the
	// chain and the job, so a fresh run meets the commitment it sent.
	std::fs::remove_file(dir.join("lost.redb")).unwrap();
	restarted.restart();
	lost.restart();
	steady.serve();
	let output = requester.join().unwrap();
	let all = [&restarted, &lost, &steady];
	let receipt = accepted(&output, &all);

	let expected: HashSet<String> = all.iter().map(|worker| worker.address.clone()).collect();
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}\n{}", logs(&all));
	assert_eq!(slashes(&receipt), vec![], "{receipt}");
	let log = restarted.output();
	assert!(log.contains("1 records pending"), "the restart found its record:\n{log}");
	assert!(log.contains("revealed"), "{log}");
	let log = lost.output();
	assert!(log.contains("0 records pending"), "{log}");
	assert!(log.contains("recovered the committed output"), "{log}");
	let after = worker_entries(&url);
	for worker in all {
		assert_eq!(after[&worker.address]["accepted"], 1, "{}", after[&worker.address]);
		assert_eq!(amount(&after[&worker.address]["bonded"]), BONDED);
	}
}

#[test]
fn workers_reconnect_after_the_node_restarts_and_a_stopped_worker_answers_its_seats() {
	let _turn = one_at_a_time();
	let mut node = start_node();
	let url = node.url.clone();
	let dir = temp_dir("restart");
	let workers = [
		WorkerProcess::start(&url, &dir, "a", "cpu"),
		WorkerProcess::start(&url, &dir, "b", "cpu"),
	];
	let minute = Duration::from_secs(60);
	for worker in &workers {
		worker.wait_for("serving model 0", 1, minute);
	}
	let status = node.interrupt(Duration::from_secs(30));
	assert!(status.success(), "the node stops cleanly on SIGINT: {status:?}");
	std::thread::sleep(Duration::from_secs(3));
	node.restart();
	wait_for_node(&node);
	for worker in &workers {
		worker.wait_for(&format!("connected to {url}"), 2, minute);
	}
	let all = [&workers[0], &workers[1]];
	let receipt = accepted(&infer_paris(&url, "2"), &all);
	let expected: HashSet<String> = workers.iter().map(|w| w.address.clone()).collect();
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}");
	assert!(receipt["slashes"].as_array().unwrap().is_empty(), "{receipt}");

	// An operator stops a worker (SIGTERM) while it holds a seat it has not answered: it goes
	// offline first, answers the seat, and exits; nobody is slashed.
	let [mut stopped, steady] = workers;
	let requester = {
		let url = url.clone();
		std::thread::spawn(move || infer_paris(&url, "2"))
	};
	stopped.wait_for("seated; running it", 2, minute);
	assert!(stopped.terminate(Duration::from_secs(180)), "a graceful stop exits with success");
	let all = [&stopped, &steady];
	let receipt = accepted(&requester.join().unwrap(), &all);
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}\n{}", logs(&all));
	assert!(receipt["slashes"].as_array().unwrap().is_empty(), "{receipt}");
	let log = stopped.output();
	assert!(log.contains("offline on chain with no seat left to answer"), "{log}");
	let after = worker_entries(&url);
	assert_eq!(after[&stopped.address]["online"], false, "{}", after[&stopped.address]);
	assert_eq!(amount(&after[&stopped.address]["bonded"]), BONDED, "{}", after[&stopped.address]);
	// Started again, it takes jobs again.
	stopped.serve();
	stopped.wait_for("online: taking new jobs", 1, minute);
	let listed = worker_entries(&url);
	assert_eq!(listed[&stopped.address]["online"], true, "{}", listed[&stopped.address]);
}
